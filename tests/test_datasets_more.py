"""datasets: CIFAR-10/100, IMDB, Reuters, Boston and California Housing over tiny files in
Keras's exact formats (tar.gz of pickled batches, .npz, .json), cached under a temporary
`$KERAS_HOME`; nothing is downloaded.

Every loader was also compared, array for array (values, dtypes, shapes), with Keras 3.15's
own on the same files in a scratch script, including the full-size CIFAR-10 layout.
"""

import hashlib
import io
import json
import os
import pickle
import tarfile
import urllib.error

import numpy as np
import pytest

from tritonlayers import config
from tritonlayers.datasets import (
    DatasetDownloadError,
    boston_housing,
    california_housing,
    cifar,
    cifar10,
    cifar100,
    data_utils,
    imdb,
    reuters,
    safe_pickle,
)


@pytest.fixture
def keras_home(tmp_path, monkeypatch):
    """A fresh `$KERAS_HOME`, and a downloader that fails as an offline machine does."""
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))

    def offline(origin, destination):
        raise urllib.error.URLError("network is unreachable")

    monkeypatch.setattr(data_utils, "_download", offline)
    (tmp_path / "datasets").mkdir()
    return tmp_path / "datasets"


def _cache(monkeypatch, module, path, constant="FILE_HASH"):
    """Make `path`, already in the cache, the file the loader's hash constant names."""
    digest = hashlib.md5 if len(getattr(module, constant)) == 32 else hashlib.sha256
    monkeypatch.setattr(module, constant, digest(path.read_bytes()).hexdigest())


class _MakesADirectory:
    """A hostile pickle payload: unpickling it would call `os.mkdir(target)`."""

    def __init__(self, target):
        self.target = str(target)

    def __reduce__(self):
        return os.mkdir, (self.target,)


# ---------------------------------------------------------------------------- CIFAR


def _pickled(obj) -> bytes:
    # Protocol 3 stores bytes without globals, as the real (Python 2, protocol 2) batches
    # store their strings; arrays pickle through numpy's _reconstruct in both.
    return pickle.dumps(obj, protocol=3)


def _write_tar_gz(path, members):
    with tarfile.open(path, "w:gz") as tar:
        for name, blob in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(blob)
            tar.addfile(info, io.BytesIO(blob))


def _cifar10_batches(rng, sizes=(3, 2, 4, 1, 2, 5)):
    """Six batches (five training, one test) of random images and labels."""
    return [
        {
            b"batch_label": b"batch",
            b"labels": rng.integers(0, 10, n).tolist(),
            b"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8),
            b"filenames": [b"img.png"] * n,
        }
        for n in sizes
    ]


def _cache_cifar10(keras_home, monkeypatch, batches):
    names = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
    archive = keras_home / "cifar-10-batches-py-target_archive"
    _write_tar_gz(
        archive,
        {f"cifar-10-batches-py/{n}": _pickled(b) for n, b in zip(names, batches, strict=True)},
    )
    _cache(monkeypatch, cifar10, archive)
    return archive


def test_cifar10_concatenates_the_five_training_batches_as_nhwc_uint8(keras_home, monkeypatch):
    batches = _cifar10_batches(np.random.default_rng(0))
    _cache_cifar10(keras_home, monkeypatch, batches)
    (x_train, y_train), (x_test, y_test) = cifar10.load_data()
    pixels = np.concatenate([b[b"data"] for b in batches[:5]])
    expected = pixels.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
    assert x_train.shape == (12, 32, 32, 3) and x_train.dtype == np.uint8
    assert np.array_equal(x_train, expected)
    labels = sum((b[b"labels"] for b in batches[:5]), [])
    assert y_train.dtype == np.uint8 and y_train.tolist() == [[v] for v in labels]
    test_pixels = batches[5][b"data"].reshape(-1, 3, 32, 32)
    assert np.array_equal(x_test, test_pixels.transpose(0, 2, 3, 1))
    assert y_test.shape == (5, 1) and y_test.dtype == np.uint8


def test_cifar10_keeps_nchw_under_channels_first(keras_home, monkeypatch):
    batches = _cifar10_batches(np.random.default_rng(1))
    _cache_cifar10(keras_home, monkeypatch, batches)
    monkeypatch.setitem(config._settings, "image_data_format", "channels_first")
    (x_train, _), (x_test, _) = cifar10.load_data()
    assert x_train.shape == (12, 3, 32, 32)
    assert np.array_equal(x_test, batches[5][b"data"].reshape(5, 3, 32, 32))


def test_cifar10_unpacks_into_keras_cache_layout(keras_home, monkeypatch):
    _cache_cifar10(keras_home, monkeypatch, _cifar10_batches(np.random.default_rng(2)))
    cifar10.load_data()
    folder = keras_home / "cifar-10-batches-py-target" / "cifar-10-batches-py"
    assert sorted(p.name for p in folder.iterdir()) == [
        "data_batch_1",
        "data_batch_2",
        "data_batch_3",
        "data_batch_4",
        "data_batch_5",
        "test_batch",
    ]


def test_cifar10_missing_archive_error_names_origin_and_cache_path(keras_home):
    with pytest.raises(DatasetDownloadError) as info:
        cifar10.load_data()
    assert cifar10.ORIGIN in str(info.value)
    assert str(keras_home / "cifar-10-batches-py-target_archive") in str(info.value)


def test_cifar10_missing_batch_error_names_the_batch(keras_home, monkeypatch):
    archive = keras_home / "cifar-10-batches-py-target_archive"
    batch = _cifar10_batches(np.random.default_rng(3))[0]
    _write_tar_gz(archive, {"cifar-10-batches-py/data_batch_1": _pickled(batch)})
    _cache(monkeypatch, cifar10, archive)
    with pytest.raises(ValueError, match="data_batch_2 is missing"):
        cifar10.load_data()


def test_cifar10_truncated_archive_error_names_the_archive(keras_home, monkeypatch):
    archive = _cache_cifar10(keras_home, monkeypatch, _cifar10_batches(np.random.default_rng(4)))
    archive.write_bytes(archive.read_bytes()[:200])
    _cache(monkeypatch, cifar10, archive)
    with pytest.raises(ValueError, match="not a readable tar.gz archive") as info:
        cifar10.load_data()
    assert str(archive) in str(info.value)


def test_cifar_batch_with_hostile_global_is_refused_without_running_it(
    keras_home, monkeypatch, tmp_path
):
    marker = tmp_path / "created_by_the_pickle"
    batches = _cifar10_batches(np.random.default_rng(5))
    batches[0][b"data"] = _MakesADirectory(marker)
    _cache_cifar10(keras_home, monkeypatch, batches)
    with pytest.raises(safe_pickle.UnsafePickleError) as info:
        cifar10.load_data()
    message = str(info.value)
    assert f"`{os.mkdir.__module__}.mkdir`" in message
    assert str(keras_home / "cifar-10-batches-py-target" / "cifar-10-batches-py") in message
    assert "data_batch_1" in message
    assert not marker.exists()


def test_cifar_batch_with_wrong_pixel_count_is_reported(tmp_path):
    path = tmp_path / "data_batch_1"
    path.write_bytes(_pickled({b"data": np.zeros((2, 100), np.uint8), b"labels": [0, 1]}))
    with pytest.raises(ValueError, match=r"expected uint8 data of shape \(N, 3072\)"):
        cifar.load_batch(path)


def test_numpy1_reconstruct_name_of_python2_era_files_is_accepted():
    blob = _pickled({b"data": np.arange(6, dtype=np.uint8)})
    assert b"numpy._core.multiarray" in blob
    blob = blob.replace(b"numpy._core.multiarray", b"numpy.core.multiarray")
    loaded = safe_pickle.load_pickle(io.BytesIO(blob), "old")
    assert loaded[b"data"].tolist() == [0, 1, 2, 3, 4, 5]


def _cache_cifar100(keras_home, monkeypatch, rng):
    splits = {}
    for name, n in (("train", 6), ("test", 3)):
        splits[name] = {
            b"fine_labels": rng.integers(0, 100, n).tolist(),
            b"coarse_labels": rng.integers(0, 20, n).tolist(),
            b"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8),
        }
    archive = keras_home / "cifar-100-python-target_archive"
    _write_tar_gz(archive, {f"cifar-100-python/{k}": _pickled(v) for k, v in splits.items()})
    _cache(monkeypatch, cifar100, archive)
    return splits


@pytest.mark.parametrize("label_mode", ["fine", "coarse"])
def test_cifar100_returns_the_chosen_labels_as_int64_columns(keras_home, monkeypatch, label_mode):
    splits = _cache_cifar100(keras_home, monkeypatch, np.random.default_rng(6))
    (x_train, y_train), (x_test, y_test) = cifar100.load_data(label_mode)
    key = f"{label_mode}_labels".encode()
    # int64, not uint8: Keras 3.15 reshapes the label list without a cast.
    assert y_train.dtype == np.int64 and y_train.shape == (6, 1)
    assert y_train[:, 0].tolist() == splits["train"][key]
    assert y_test[:, 0].tolist() == splits["test"][key]
    expected = splits["test"][b"data"].reshape(3, 3, 32, 32).transpose(0, 2, 3, 1)
    assert x_train.shape == (6, 32, 32, 3) and np.array_equal(x_test, expected)


def test_cifar100_rejects_an_unknown_label_mode(keras_home):
    with pytest.raises(ValueError, match='must be one of `"fine"`, `"coarse"`.*label_mode=medium'):
        cifar100.load_data("medium")


# ---------------------------------------------------------------------------- IMDB / Reuters


def _sequences(rng, count, vocabulary=40, longest=12):
    array = np.empty(count, dtype=object)
    for i in range(count):
        array[i] = rng.integers(1, vocabulary, rng.integers(1, longest)).tolist()
    return array


def _cap_reference(sequences, num_words, skip_top, oov_char):
    """Keras's vocabulary cap, written independently: default cap is the largest index."""
    cap = num_words or max(max(s) for s in sequences)
    keep = [[skip_top <= w < cap for w in s] for s in sequences]
    if oov_char is None:
        return [[w for w, k in zip(s, m) if k] for s, m in zip(sequences, keep)]
    return [[w if k else oov_char for w, k in zip(s, m)] for s, m in zip(sequences, keep)]


def _offset_reference(sequences, start_char, index_from):
    head = [] if start_char is None else [start_char]
    return [head + [int(w) + index_from for w in s] for s in sequences]


def _imdb_reference(arrays, num_words, skip_top, maxlen, seed, start_char, oov_char, index_from):
    """Keras 3.15's IMDB arithmetic in integers: one RandomState shuffles train then test."""
    rng = np.random.RandomState(seed)
    parts = []
    for x, y in ((arrays["x_train"], arrays["y_train"]), (arrays["x_test"], arrays["y_test"])):
        order = rng.permutation(len(x))
        xs = _offset_reference(x[order], start_char, index_from)
        ys = y[order].tolist()
        if maxlen:
            pairs = [(s, label) for s, label in zip(xs, ys) if len(s) < maxlen]
            xs, ys = [s for s, _ in pairs], [label for _, label in pairs]
        parts.append((xs, ys))
    capped = _cap_reference(parts[0][0] + parts[1][0], num_words, skip_top, oov_char)
    split = len(parts[0][0])
    return (capped[:split], parts[0][1]), (capped[split:], parts[1][1])


@pytest.fixture
def imdb_arrays(keras_home, monkeypatch):
    rng = np.random.default_rng(7)
    arrays = {
        "x_train": _sequences(rng, 30),
        "y_train": rng.integers(0, 2, 30),
        "x_test": _sequences(rng, 20),
        "y_test": rng.integers(0, 2, 20),
    }
    np.savez(keras_home / "imdb.npz", **arrays)
    _cache(monkeypatch, imdb, keras_home / "imdb.npz")
    return arrays


_INDEX_OPTIONS = [
    {},
    {"num_words": 25},
    {"num_words": 30, "skip_top": 6},
    {"maxlen": 8},
    {"num_words": 20, "oov_char": None},
    {"start_char": None},
    {"start_char": None, "index_from": 0, "oov_char": None, "skip_top": 3},
    {"seed": 5, "maxlen": 10, "num_words": 25, "skip_top": 2, "start_char": 7, "index_from": 1},
]


@pytest.mark.parametrize("options", _INDEX_OPTIONS, ids=lambda o: ",".join(o) or "defaults")
def test_imdb_word_indices_match_keras_arithmetic(imdb_arrays, options):
    arguments = {
        "num_words": None,
        "skip_top": 0,
        "maxlen": None,
        "seed": 113,
        "start_char": 1,
        "oov_char": 2,
        "index_from": 3,
        **options,
    }
    expected = _imdb_reference(imdb_arrays, **arguments)
    (x_train, y_train), (x_test, y_test) = imdb.load_data(**options)
    assert x_train.dtype == object and x_train.ndim == 1
    assert [list(s) for s in x_train] == expected[0][0]
    assert [list(s) for s in x_test] == expected[1][0]
    assert y_train.tolist() == expected[0][1] and y_test.tolist() == expected[1][1]
    assert y_train.dtype == np.int64


def test_imdb_default_num_words_marks_the_largest_index_out_of_vocabulary(imdb_arrays):
    # Keras caps at max(index) exclusive, so the largest index itself becomes oov_char.
    (x_train, _), (x_test, _) = imdb.load_data(oov_char=None)
    largest = max(max(s) for s in imdb_arrays["x_train"].tolist() + imdb_arrays["x_test"].tolist())
    assert max(max(s) for s in list(x_train) + list(x_test)) < largest + 3


def test_imdb_maxlen_that_keeps_nothing_raises(imdb_arrays):
    with pytest.raises(ValueError, match="shorter than maxlen=2, no sequence was kept"):
        imdb.load_data(maxlen=2)


def test_imdb_sequences_of_one_length_stay_a_1d_array_of_lists(keras_home, monkeypatch):
    x = np.empty(2, dtype=object)
    x[0], x[1] = [4, 5], [6, 7]
    np.savez(keras_home / "imdb.npz", x_train=x, y_train=[0, 1], x_test=x, y_test=[1, 0])
    _cache(monkeypatch, imdb, keras_home / "imdb.npz")
    (x_train, _), _ = imdb.load_data(seed=0)
    assert x_train.shape == (2,) and all(isinstance(s, list) and len(s) == 3 for s in x_train)


def test_imdb_warns_about_ignored_keyword_arguments(imdb_arrays):
    with pytest.warns(UserWarning, match=r"ignores the keyword arguments \['nb_words'\]"):
        imdb.load_data(nb_words=10)


def test_imdb_npz_with_hostile_global_is_refused_naming_file_and_member(
    keras_home, monkeypatch, tmp_path
):
    marker = tmp_path / "created_by_the_pickle"
    x = np.empty(1, dtype=object)
    x[0] = _MakesADirectory(marker)
    np.savez(keras_home / "imdb.npz", x_train=x, y_train=[0], x_test=x, y_test=[0])
    _cache(monkeypatch, imdb, keras_home / "imdb.npz")
    with pytest.raises(safe_pickle.UnsafePickleError) as info:
        imdb.load_data()
    assert f"{keras_home / 'imdb.npz'} (x_train.npy)" in str(info.value)
    assert f"`{os.mkdir.__module__}.mkdir`" in str(info.value)
    assert not marker.exists()


def test_imdb_npz_without_the_expected_arrays_is_reported(keras_home, monkeypatch):
    np.savez(keras_home / "imdb.npz", x=np.zeros(2))
    _cache(monkeypatch, imdb, keras_home / "imdb.npz")
    with pytest.raises(ValueError, match=r"expected \['x_train', 'y_train', 'x_test', 'y_test'\]"):
        imdb.load_data()


def test_imdb_get_word_index_reads_the_json_checked_by_md5(keras_home, monkeypatch):
    path = keras_home / "imdb_word_index.json"
    path.write_text(json.dumps({"the": 1, "and": 2, "good": 49}))
    _cache(monkeypatch, imdb, path, "WORD_INDEX_HASH")
    assert imdb.get_word_index() == {"the": 1, "and": 2, "good": 49}


def test_word_index_with_a_stale_md5_is_fetched_again(keras_home):
    (keras_home / "imdb_word_index.json").write_text("{}")
    with pytest.raises(DatasetDownloadError, match="fails its MD5 check"):
        imdb.get_word_index()


def test_word_index_that_is_not_json_error_names_the_file(keras_home, monkeypatch):
    path = keras_home / "reuters_word_index.json"
    path.write_text("{not json")
    _cache(monkeypatch, reuters, path, "WORD_INDEX_HASH")
    with pytest.raises(ValueError, match="not a valid word-index JSON file") as info:
        reuters.get_word_index()
    assert str(path) in str(info.value)


@pytest.fixture
def reuters_arrays(keras_home, monkeypatch):
    rng = np.random.default_rng(8)
    arrays = {"x": _sequences(rng, 37), "y": rng.integers(0, 46, 37)}
    np.savez(keras_home / "reuters.npz", **arrays)
    _cache(monkeypatch, reuters, keras_home / "reuters.npz")
    return arrays


def _reuters_reference(arrays, num_words, skip_top, maxlen, test_split, seed, **offsets):
    order = np.random.RandomState(seed).permutation(len(arrays["x"]))
    xs = _offset_reference(arrays["x"][order], offsets["start_char"], offsets["index_from"])
    ys = arrays["y"][order].tolist()
    if maxlen:
        pairs = [(s, label) for s, label in zip(xs, ys) if len(s) < maxlen]
        xs, ys = [s for s, _ in pairs], [label for _, label in pairs]
    xs = _cap_reference(xs, num_words, skip_top, offsets["oov_char"])
    split = int(len(xs) * (1 - test_split))
    return (xs[:split], ys[:split]), (xs[split:], ys[split:])


@pytest.mark.parametrize(
    "options",
    [*_INDEX_OPTIONS, {"test_split": 0.5}, {"test_split": 0.0}, {"test_split": 1.0}],
    ids=lambda o: ",".join(f"{k}={v}" for k, v in o.items()) or "defaults",
)
def test_reuters_word_indices_and_split_match_keras_arithmetic(reuters_arrays, options):
    arguments = {
        "num_words": None,
        "skip_top": 0,
        "maxlen": None,
        "test_split": 0.2,
        "seed": 113,
        "start_char": 1,
        "oov_char": 2,
        "index_from": 3,
        **options,
    }
    expected = _reuters_reference(reuters_arrays, **arguments)
    (x_train, y_train), (x_test, y_test) = reuters.load_data(**options)
    assert [list(s) for s in x_train] == expected[0][0]
    assert [list(s) for s in x_test] == expected[1][0]
    assert y_train.tolist() == expected[0][1] and y_test.tolist() == expected[1][1]
    assert y_train.dtype == np.int64 and y_test.dtype == np.int64


def test_reuters_default_split_keeps_int_of_eighty_percent_for_training(reuters_arrays):
    (x_train, _), (x_test, _) = reuters.load_data()
    assert (len(x_train), len(x_test)) == (29, 8)  # int(37 * 0.8) = 29


def test_reuters_rejects_a_test_split_outside_0_1(keras_home):
    with pytest.raises(ValueError, match="Invalid `test_split` argument: 1.5"):
        reuters.load_data(test_split=1.5)


def test_reuters_label_names_are_keras_46_topics():
    names = reuters.get_label_names()
    assert len(names) == 46 and len(set(names)) == 46
    assert (names[0], names[3], names[45]) == ("cocoa", "earn", "lead")


# ---------------------------------------------------------------------------- housing


def _split_reference(x, y, test_split, seed):
    order = np.random.RandomState(seed).permutation(len(x))
    split = int(len(x) * (1 - test_split))
    return (x[order][:split], y[order][:split]), (x[order][split:], y[order][split:])


@pytest.mark.parametrize("test_split,seed", [(0.2, 113), (0.0, 1), (0.7, 3)])
def test_boston_housing_shuffles_and_splits_as_keras(keras_home, monkeypatch, test_split, seed):
    rng = np.random.default_rng(9)
    x, y = rng.normal(size=(23, 13)), rng.normal(size=23)
    np.savez(keras_home / "boston_housing.npz", x=x, y=y)
    _cache(monkeypatch, boston_housing, keras_home / "boston_housing.npz")
    (x_train, y_train), (x_test, y_test) = boston_housing.load_data(
        test_split=test_split, seed=seed
    )
    (ex_train, ey_train), (ex_test, ey_test) = _split_reference(x, y, test_split, seed)
    assert x_train.dtype == np.float64 and x_train.shape == ex_train.shape
    for got, want in (
        (x_train, ex_train),
        (y_train, ey_train),
        (x_test, ex_test),
        (y_test, ey_test),
    ):
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("version,rows", [("small", 600), ("large", 650)])
def test_california_housing_version_picks_the_rows(keras_home, monkeypatch, version, rows):
    rng = np.random.default_rng(10)
    x, y = rng.normal(size=(650, 8)).astype(np.float32), rng.normal(size=650).astype(np.float32)
    np.savez(keras_home / "california_housing.npz", x=x, y=y)
    _cache(monkeypatch, california_housing, keras_home / "california_housing.npz")
    (x_train, y_train), (x_test, y_test) = california_housing.load_data(version)
    (ex_train, _), (_, ey_test) = _split_reference(x[:rows], y[:rows], 0.2, 113)
    assert x_train.shape == (int(rows * 0.8), 8) and x_train.dtype == np.float32
    np.testing.assert_array_equal(x_train, ex_train)
    np.testing.assert_array_equal(y_test, ey_test)


def test_california_housing_rejects_an_unknown_version(keras_home):
    with pytest.raises(ValueError, match="one of 'small', 'large'. Received: version=tiny"):
        california_housing.load_data("tiny")


def test_housing_rejects_test_split_of_one(keras_home):
    with pytest.raises(ValueError, match=r"between 0 and 1 \(exclusive of 1\)"):
        boston_housing.load_data(test_split=1.0)


def test_housing_npz_holding_a_pickle_is_refused_naming_the_file(keras_home, monkeypatch):
    x = np.empty(2, dtype=object)
    x[0], x[1] = [1.0], [2.0]
    np.savez(keras_home / "boston_housing.npz", x=x, y=np.zeros(2))
    _cache(monkeypatch, boston_housing, keras_home / "boston_housing.npz")
    with pytest.raises(ValueError, match="not a valid Boston Housing archive") as info:
        boston_housing.load_data()
    assert str(keras_home / "boston_housing.npz") in str(info.value)
