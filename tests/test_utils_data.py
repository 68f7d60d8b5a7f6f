"""`keras.utils` file and dataset helpers: get_file (file:// and a local HTTP server, never
the internet), split_dataset, timeseries_dataset_from_array, the *_dataset_from_directory
builders, image helpers, interactive logging, Config and CustomObjectScope.

Orders and paths marked "Keras 3.15" were produced by Keras 3.15 (torch backend) on the same
inputs in a scratch script."""

import functools
import hashlib
import http.server
import io
import logging
import os
import pathlib
import tarfile
import threading
import zipfile

import numpy as np
import pytest
import torch

import tritonlayers as keras
from tritonlayers import file_utils, io_utils

# ---------------------------------------------------------------- get_file


@pytest.fixture
def keras_home(tmp_path, monkeypatch):
    home = tmp_path / "home"
    monkeypatch.setenv("KERAS_HOME", str(home))
    return home


@pytest.fixture
def served(tmp_path):
    """A folder served over http://127.0.0.1 by a threaded server for the test's duration."""
    root = tmp_path / "served"
    root.mkdir()
    handler = functools.partial(_QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield root, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def test_get_file_copies_a_file_url_into_the_datasets_cache(keras_home, tmp_path):
    source = tmp_path / "notes.txt"
    source.write_bytes(b"hello")
    path = keras.utils.get_file(origin=source.as_uri())
    assert path == str(keras_home / "datasets" / "notes.txt")
    assert pathlib.Path(path).read_bytes() == b"hello"


def test_get_file_downloads_over_http_and_checks_the_sha256(keras_home, served):
    root, url = served
    payload = os.urandom(200_000)
    (root / "blob.bin").write_bytes(payload)
    digest = hashlib.sha256(payload).hexdigest()
    path = keras.utils.get_file("blob.bin", f"{url}/blob.bin", file_hash=digest, cache_subdir="x")
    assert path == str(keras_home / "x" / "blob.bin")
    assert pathlib.Path(path).read_bytes() == payload


def test_get_file_accepts_a_legacy_md5_hash(keras_home, served):
    root, url = served
    (root / "a.txt").write_bytes(b"abc")
    path = keras.utils.get_file("a.txt", f"{url}/a.txt", md5_hash=hashlib.md5(b"abc").hexdigest())
    assert pathlib.Path(path).read_bytes() == b"abc"


def test_get_file_with_a_wrong_hash_raises_and_caches_nothing(keras_home, served):
    root, url = served
    (root / "a.txt").write_bytes(b"abc")
    with pytest.raises(ValueError, match="The sha256 file hash does not match the provided"):
        keras.utils.get_file("a.txt", f"{url}/a.txt", file_hash="0" * 64)
    assert os.listdir(keras_home / "datasets") == []


def test_get_file_reuses_a_cached_file_whose_hash_matches(keras_home, served):
    root, url = served
    (root / "a.txt").write_bytes(b"abc")
    digest = hashlib.sha256(b"abc").hexdigest()
    keras.utils.get_file("a.txt", f"{url}/a.txt", file_hash=digest)
    (root / "a.txt").unlink()  # a second download would now fail with 404
    path = keras.utils.get_file("a.txt", f"{url}/a.txt", file_hash=digest)
    assert pathlib.Path(path).read_bytes() == b"abc"


def test_get_file_downloads_again_when_the_cached_hash_differs(keras_home, served, capsys):
    root, url = served
    (keras_home / "datasets").mkdir(parents=True)
    (keras_home / "datasets" / "a.txt").write_bytes(b"stale")
    (root / "a.txt").write_bytes(b"fresh")
    digest = hashlib.sha256(b"fresh").hexdigest()
    path = keras.utils.get_file("a.txt", f"{url}/a.txt", file_hash=digest)
    assert pathlib.Path(path).read_bytes() == b"fresh"
    assert "re-download the data" in capsys.readouterr().out


def test_get_file_force_download_replaces_a_cached_file(keras_home, served):
    root, url = served
    (root / "a.txt").write_bytes(b"one")
    keras.utils.get_file("a.txt", f"{url}/a.txt")
    (root / "a.txt").write_bytes(b"two")
    assert pathlib.Path(keras.utils.get_file("a.txt", f"{url}/a.txt")).read_bytes() == b"one"
    path = keras.utils.get_file("a.txt", f"{url}/a.txt", force_download=True)
    assert pathlib.Path(path).read_bytes() == b"two"


def test_get_file_reports_an_http_error_naming_the_url(keras_home, served):
    _, url = served
    with pytest.raises(file_utils.DownloadError, match=f"URL fetch failure on {url}/missing: 404"):
        keras.utils.get_file("missing", f"{url}/missing")
    assert os.listdir(keras_home / "datasets") == []


def _tar_gz(path: pathlib.Path, members: dict) -> None:
    with tarfile.open(path, "w:gz") as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))


def test_get_file_extracts_a_tar_gz_next_to_the_archive(keras_home, tmp_path):
    _tar_gz(tmp_path / "data.tar.gz", {"data/a.txt": b"A", "data/b/c.txt": b"C"})
    out = keras.utils.get_file("data.tar.gz", (tmp_path / "data.tar.gz").as_uri(), extract=True)
    # Keras 3.15: fname "data.tar.gz" with extract=True -> datasets/data_extracted
    assert out == str(keras_home / "datasets" / "data_extracted")
    assert (pathlib.Path(out) / "data" / "b" / "c.txt").read_bytes() == b"C"
    assert (keras_home / "datasets" / "data.tar.gz").is_file()


def test_get_file_untar_without_an_extension_uses_the_name_as_the_folder(keras_home, tmp_path):
    _tar_gz(tmp_path / "src.tgz", {"x.txt": b"X"})
    out = keras.utils.get_file("plain", (tmp_path / "src.tgz").as_uri(), untar=True)
    # Keras 3.15: datasets/plain (folder) and datasets/plain_archive (download)
    assert out == str(keras_home / "datasets" / "plain")
    assert sorted(os.listdir(keras_home / "datasets")) == ["plain", "plain_archive"]
    assert (pathlib.Path(out) / "x.txt").read_bytes() == b"X"


def test_get_file_extracts_a_zip(keras_home, tmp_path):
    with zipfile.ZipFile(tmp_path / "pack.zip", "w") as archive:
        archive.writestr("inner/z.txt", "Z")
    out = keras.utils.get_file("pack.zip", (tmp_path / "pack.zip").as_uri(), extract=True)
    assert (pathlib.Path(out) / "inner" / "z.txt").read_text() == "Z"


def test_tar_members_escaping_the_folder_are_skipped_with_a_warning(tmp_path):
    archive_path = tmp_path / "evil.tar"
    with tarfile.open(archive_path, "w") as archive:
        for name in ("../escaped.txt", "/abs_escaped.txt", "ok.txt"):
            info = tarfile.TarInfo(name)
            info.size = 1
            archive.addfile(info, io.BytesIO(b"x"))
        link = tarfile.TarInfo("link")
        link.type, link.linkname = tarfile.SYMTYPE, "../../outside"
        archive.addfile(link)
    out = tmp_path / "out" / "here"
    with pytest.warns(UserWarning, match="Skipping invalid path") as warned:
        assert file_utils.extract_archive(archive_path, out)
    assert {str(w.message).split("'")[1] for w in warned} == {
        "../escaped.txt",
        "/abs_escaped.txt",
        "link",
    }
    assert os.listdir(out) == ["ok.txt"]
    assert not (tmp_path / "out" / "escaped.txt").exists()


def test_zip_members_escaping_the_folder_are_skipped_with_a_warning(tmp_path):
    with zipfile.ZipFile(tmp_path / "evil.zip", "w") as archive:
        archive.writestr("../escaped.txt", "x")
        archive.writestr("ok.txt", "y")
    with pytest.warns(UserWarning, match="'../escaped.txt'"):
        file_utils.extract_archive(tmp_path / "evil.zip", tmp_path / "out")
    assert os.listdir(tmp_path / "out") == ["ok.txt"]
    assert not (tmp_path / "escaped.txt").exists()


def test_extract_archive_of_a_plain_file_returns_false(tmp_path):
    (tmp_path / "plain.txt").write_text("not an archive")
    assert file_utils.extract_archive(tmp_path / "plain.txt", tmp_path / "out") is False


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"fname": "a.txt"}, 'specify the "origin" argument'),
        ({"fname": "sub/a.txt", "origin": "file:///x"}, "Paths are no longer accepted"),
        ({"origin": "http://127.0.0.1/"}, "Can't parse the file name"),
        ({"fname": "a", "origin": "file:///x", "hash_algorithm": "sha1"}, "hash_algorithm"),
    ],
)
def test_get_file_rejects_bad_arguments(keras_home, kwargs, message):
    with pytest.raises(ValueError, match=message):
        keras.utils.get_file(**kwargs)


def test_datasets_get_file_shares_the_download_code(keras_home, tmp_path):
    from tritonlayers.datasets import data_utils

    (tmp_path / "d.bin").write_bytes(b"data")
    digest = hashlib.sha256(b"data").hexdigest()
    path = data_utils.get_file("d.bin", (tmp_path / "d.bin").as_uri(), file_hash=digest)
    assert path == keras_home / "datasets" / "d.bin" and path.read_bytes() == b"data"


# ---------------------------------------------------------------- split_dataset


def test_split_dataset_fractions_keep_order_without_shuffle():
    x, y = np.arange(20.0).reshape(10, 2), np.arange(10)
    left, right = keras.utils.split_dataset((x, y), left_size=0.7)
    assert [int(s[1]) for s in left] == list(range(7))
    assert [int(s[1]) for s in right] == [7, 8, 9]
    torch.testing.assert_close(left[2][0], torch.tensor([4.0, 5.0], dtype=torch.float64))


def test_split_dataset_shuffle_with_a_seed_matches_keras():
    x, y = np.arange(20).reshape(10, 2), np.arange(10)
    left, right = keras.utils.split_dataset((x, y), left_size=0.7, shuffle=True, seed=3)
    # Keras 3.15 (torch backend), same call.
    assert [int(s[1]) for s in left] == [6, 0, 3, 7, 8, 5, 1]
    assert [int(s[1]) for s in right] == [9, 2, 4]


def test_split_dataset_of_one_array_gives_one_tuples():
    _, right = keras.utils.split_dataset(np.arange(20).reshape(10, 2), right_size=3, seed=11)
    assert len(right) == 3 and len(right[0]) == 1
    assert right[0][0].tolist() == [14, 15]


@pytest.mark.parametrize(
    "left, right, error, message",
    [
        (None, None, ValueError, "At least one of the `left_size`"),
        (0.5, 0.6, ValueError, "greater than 1"),
        (10, None, ValueError, "positive integer smaller than 10"),
        ("5", None, TypeError, "Invalid `left_size` Type"),
        (8, 5, ValueError, "should be smaller than the 10"),
        (0.01, None, ValueError, "left side dataset split will be empty"),
    ],
)
def test_split_dataset_rejects_bad_sizes(left, right, error, message):
    with pytest.raises(error, match=message):
        keras.utils.split_dataset(np.zeros((10, 1)), left_size=left, right_size=right)


def test_split_dataset_rejects_arrays_of_different_lengths():
    with pytest.raises(ValueError, match="same length"):
        keras.utils.split_dataset((np.zeros(4), np.zeros(5)), left_size=2)


def test_fit_accepts_a_split_dataset():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(32, 3)).astype("float32")
    y = x @ np.array([[1.0], [-2.0], [0.5]], dtype="float32")
    train, test = keras.utils.split_dataset((x, y), left_size=24)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    history = model.fit(train, batch_size=8, epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2
    assert np.isfinite(model.evaluate(test, batch_size=8, verbose=0))


# ---------------------------------------------------------------- timeseries


def _windows(data, targets, length, stride, rate, start, end):
    """float64 reference: every window and its target, by explicit loops."""
    data, end = np.asarray(data), len(data) if end is None else end
    inputs, labels = [], []
    position = start
    while position + (length - 1) * rate < end and (targets is None or position < len(targets)):
        inputs.append(data[position : position + (length - 1) * rate + 1 : rate])
        labels.append(None if targets is None else targets[position])
        position += stride
    return np.asarray(inputs), labels


@pytest.mark.parametrize(
    "length, stride, rate, start, end, batch",
    [(4, 1, 1, None, None, 5), (3, 2, 2, 3, 27, 4), (5, 3, 1, 1, None, 128), (2, 1, 3, None, 9, 1)],
)
def test_timeseries_windows_and_targets_match_a_loop_reference(
    length, stride, rate, start, end, batch
):
    data = np.arange(30, dtype="float64")[:, None] * np.array([1.0, -1.0])
    targets = np.arange(30) * 10
    ds = keras.utils.timeseries_dataset_from_array(
        data, targets, length, stride, rate, batch_size=batch, start_index=start, end_index=end
    )
    inputs = np.concatenate([b[0] for b in ds])
    labels = np.concatenate([b[1] for b in ds]).tolist()
    ref_inputs, ref_labels = _windows(data, targets, length, stride, rate, start or 0, end)
    np.testing.assert_array_equal(inputs, ref_inputs)
    assert labels == ref_labels
    assert [len(b[0]) for b in ds][:-1] == [batch] * (len(ds) - 1)


def test_timeseries_shuffle_uses_numpy_random_state_of_the_seed():
    ds = keras.utils.timeseries_dataset_from_array(
        np.arange(12), None, 3, batch_size=None, shuffle=True, seed=7
    )
    starts = np.arange(10)
    np.random.RandomState(7).shuffle(starts)  # Keras shuffles the start positions so
    assert [int(ds[i][0]) for i in range(len(ds))] == starts.tolist()


def test_timeseries_without_targets_yields_inputs_only():
    ds = keras.utils.timeseries_dataset_from_array(np.arange(6), None, 3, batch_size=2)
    assert isinstance(ds, keras.utils.PyDataset)
    assert ds[1].tolist() == [[2, 3, 4], [3, 4, 5]]


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"start_index": -1}, "`start_index` must be 0 or greater"),
        ({"start_index": 5, "end_index": 4}, "`end_index` must be higher than `start_index`"),
        ({"end_index": 10}, "`end_index` must be lower than the length"),
        ({"sampling_rate": 0}, "`sampling_rate` must be higher than 0"),
        ({"sequence_stride": 10}, "`sequence_stride` must be lower than the length"),
    ],
)
def test_timeseries_rejects_bad_indices(kwargs, message):
    with pytest.raises(ValueError, match=message):
        keras.utils.timeseries_dataset_from_array(np.arange(10), None, 2, **kwargs)


# ---------------------------------------------------------------- directory datasets


@pytest.fixture
def text_tree(tmp_path):
    root = tmp_path / "texts"
    for label, count in (("b", 4), ("a", 3), ("c", 5)):
        (root / label).mkdir(parents=True)
        for i in range(count):
            (root / label / f"f{i}.txt").write_text(f"{label}{i}")
    (root / "a" / "sub").mkdir()
    (root / "a" / "sub" / "z.txt").write_text("deep")
    (root / "a" / "skip.md").write_text("not a .txt file")
    return root


def test_text_dataset_lists_classes_and_files_in_sorted_order(text_tree):
    ds = keras.utils.text_dataset_from_directory(text_tree, shuffle=False, verbose=False)
    texts, labels = ds[0]
    assert ds.class_names == ["a", "b", "c"]
    assert texts.tolist() == [
        "a0", "a1", "a2", "deep", "b0", "b1", "b2", "b3", "c0", "c1", "c2", "c3", "c4",
    ]  # fmt: skip
    assert labels.dtype == np.int32 and labels.tolist() == [0] * 4 + [1] * 4 + [2] * 5


def test_text_dataset_shuffled_order_matches_keras(text_tree):
    ds = keras.utils.text_dataset_from_directory(text_tree, seed=5, verbose=False)
    # Keras 3.15 index_directory(..., shuffle=True, seed=5) on the same tree.
    expected = ["b/f1", "a/f1", "b/f3", "a/f2", "c/f1", "c/f4", "c/f2", "b/f0", "c/f0",
                "a/f0", "c/f3", "b/f2", "a/sub/z"]  # fmt: skip
    names = [os.path.relpath(p, text_tree)[: -len(".txt")] for p in ds.file_paths]
    assert names == expected
    assert ds[0][1].tolist() == [1, 0, 1, 0, 2, 2, 2, 1, 2, 0, 2, 1, 0]


def test_text_dataset_validation_split_holds_out_the_last_files(text_tree):
    train, val = keras.utils.text_dataset_from_directory(
        text_tree, batch_size=4, validation_split=0.25, subset="both", seed=1, verbose=False
    )
    assert (len(train.file_paths), len(val.file_paths)) == (10, 3)
    assert not set(train.file_paths) & set(val.file_paths)
    assert [len(b[0]) for b in train] == [4, 4, 2]


def test_text_dataset_categorical_and_binary_labels(text_tree):
    ds = keras.utils.text_dataset_from_directory(
        text_tree, label_mode="categorical", shuffle=False, batch_size=2, verbose=False
    )
    np.testing.assert_array_equal(ds[0][1], np.array([[1, 0, 0], [1, 0, 0]], "float32"))
    binary = keras.utils.text_dataset_from_directory(
        text_tree, label_mode="binary", class_names=["c", "a"], shuffle=False, verbose=False
    )
    labels = binary[0][1]
    assert labels.shape == (9, 1) and labels.dtype == np.float32
    assert labels[:, 0].tolist() == [0.0] * 5 + [1.0] * 4


def test_text_dataset_max_length_and_no_labels(text_tree):
    ds = keras.utils.text_dataset_from_directory(
        text_tree, labels=None, max_length=1, shuffle=False, verbose=False
    )
    assert ds.class_names is None
    assert ds[0].tolist()[:4] == ["a", "a", "a", "d"]


def test_text_dataset_reshuffles_after_each_epoch(text_tree):
    ds = keras.utils.text_dataset_from_directory(text_tree, seed=3, verbose=False)
    first = ds[0][0].tolist()
    ds.on_epoch_end()
    second = ds[0][0].tolist()
    assert sorted(first) == sorted(second) and first != second


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"label_mode": "binary"}, "exactly 2 class_names"),
        ({"validation_split": 0.2, "subset": "training"}, "must provide a `seed`"),
        ({"subset": "training"}, "`validation_split` must be set"),
        ({"label_mode": "sparse"}, "`label_mode` argument must be one of"),
        ({"class_names": ["a", "zz"]}, "did not match the names of the subdirectories"),
        ({"labels": "folders"}, "`labels` argument should be a list/tuple"),
    ],
)
def test_text_dataset_rejects_bad_arguments(text_tree, kwargs, message):
    with pytest.raises(ValueError, match=message):
        keras.utils.text_dataset_from_directory(text_tree, verbose=False, **kwargs)


def test_directory_without_matching_files_is_an_error(tmp_path):
    (tmp_path / "empty" / "a").mkdir(parents=True)
    with pytest.raises(ValueError, match="No text files found in directory"):
        keras.utils.text_dataset_from_directory(tmp_path / "empty", verbose=False)


def test_image_dataset_reads_resizes_and_labels_images(tmp_path):
    image = pytest.importorskip("PIL.Image")
    for label, value in (("cats", 40), ("dogs", 200)):
        (tmp_path / label).mkdir()
        for i in range(3):
            pixels = np.full((6, 4, 3), value + i, dtype="uint8")
            image.fromarray(pixels).save(tmp_path / label / f"{i}.png")
    ds = keras.utils.image_dataset_from_directory(
        tmp_path, image_size=(3, 2), batch_size=6, shuffle=False, verbose=False
    )
    images, labels = ds[0]
    assert ds.class_names == ["cats", "dogs"]
    assert images.shape == (6, 3, 2, 3) and images.dtype == np.float32
    np.testing.assert_allclose(images[:, 0, 0, 0], [40, 41, 42, 200, 201, 202], atol=1e-4)
    assert labels.tolist() == [0, 0, 0, 1, 1, 1]


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"color_mode": "cmyk"}, "`color_mode` must be one of"),
        ({"image_size": (1, 2, 3)}, "Invalid `image_size` value"),
        ({"interpolation": "cubic"}, "Argument `interpolation` should be one of"),
        ({"interpolation": "area"}, "supports interpolation in"),
        ({"crop_to_aspect_ratio": True, "pad_to_aspect_ratio": True}, "Only one of"),
    ],
)
def test_image_dataset_rejects_bad_arguments_before_reading_files(tmp_path, kwargs, message):
    with pytest.raises(ValueError, match=message):
        keras.utils.image_dataset_from_directory(tmp_path, **kwargs)


def test_image_helpers_without_pillow_raise_an_import_error_naming_the_function(tmp_path):
    try:
        import PIL  # noqa: F401
    except ImportError:
        pass
    else:
        pytest.skip("Pillow is installed")
    (tmp_path / "a").mkdir()
    for call, name in [
        (
            lambda: keras.utils.image_dataset_from_directory(tmp_path),
            "image_dataset_from_directory",
        ),
        (lambda: keras.utils.load_img(tmp_path / "x.png"), "load_img"),
        (lambda: keras.utils.array_to_img(np.zeros((2, 2, 3))), "array_to_img"),
        (lambda: keras.utils.save_img(tmp_path / "x.png", np.zeros((2, 2, 3))), "save_img"),
    ]:
        with pytest.raises(ImportError, match=f"`{name}` requires PIL"):
            call()


def test_img_to_array_adds_the_channel_axis_in_the_data_format():
    gray = np.arange(6, dtype="uint8").reshape(2, 3)
    last = keras.utils.img_to_array(gray)
    first = keras.utils.img_to_array(np.stack([gray] * 3, -1), data_format="channels_first")
    assert last.shape == (2, 3, 1) and last.dtype == np.float32
    assert first.shape == (3, 2, 3)
    np.testing.assert_array_equal(first[1], gray.astype("float32"))
    with pytest.raises(ValueError, match="Unsupported image shape"):
        keras.utils.img_to_array(np.zeros(4))


# ---------------------------------------------------------------- logging, Config, scope


def test_disabled_interactive_logging_sends_progress_to_the_logger(capsys, caplog):
    keras.utils.disable_interactive_logging()
    try:
        assert not keras.utils.is_interactive_logging_enabled()
        with caplog.at_level(logging.INFO, logger="tritonlayers"):
            keras.utils.Progbar(2, verbose=2).update(2, [("loss", 0.5)])
    finally:
        keras.utils.enable_interactive_logging()
    assert capsys.readouterr().out == ""
    assert "loss: 0.5000" in caplog.text
    assert keras.utils.is_interactive_logging_enabled()
    io_utils.print_msg("back on stdout")
    assert capsys.readouterr().out == "back on stdout\n"


def test_config_reads_and_writes_as_attributes_and_items():
    config = keras.utils.Config(learning_rate=0.1)
    config.units = 8
    config["name"] = "mlp"
    assert (config.learning_rate, config["units"], config.get("name")) == (0.1, 8, "mlp")
    assert list(config) == ["learning_rate", "name", "units"] and len(config) == 3
    assert config.as_dict() == {"learning_rate": 0.1, "units": 8, "name": "mlp"}
    assert config.to_json() == '{"learning_rate": 0.1, "units": 8, "name": "mlp"}'


def test_frozen_config_refuses_changes_until_unfrozen():
    config = keras.utils.Config(a=1)
    config.freeze()
    for change in (lambda: setattr(config, "a", 2), lambda: config.update(b=1)):
        with pytest.raises(ValueError, match="the config is frozen"):
            change()
    config.unfreeze()
    config.a = 2
    assert config.a == 2 and not config.frozen


def test_config_unknown_attribute_suggests_the_closest_name():
    with pytest.raises(AttributeError, match="Unknown attribute: 'learning_rat'. Did you mean"):
        _ = keras.utils.Config(learning_rate=0.1).learning_rat


def test_custom_object_scope_class_is_exported_under_keras_name():
    assert keras.utils.CustomObjectScope is keras.saving.CustomObjectScope
    with keras.utils.CustomObjectScope({"Thing": int}):
        assert keras.utils.get_registered_object("Thing") is int
    assert keras.utils.get_registered_object("Thing") is None


def test_save_img_then_load_img_round_trips_pixels_and_crops_to_aspect(tmp_path):
    pytest.importorskip("PIL")
    pixels = np.arange(6 * 8 * 3).reshape(6, 8, 3) % 256
    keras.utils.save_img(tmp_path / "a.png", pixels, scale=False)
    loaded = keras.utils.img_to_array(keras.utils.load_img(tmp_path / "a.png"))
    np.testing.assert_array_equal(loaded, pixels.astype("float32"))
    # keep_aspect_ratio crops the centred 6x6 square before resizing (checked against
    # Keras 3.15 with Pillow 13: identical arrays).
    square = keras.utils.load_img(tmp_path / "a.png", target_size=(6, 6), keep_aspect_ratio=True)
    np.testing.assert_array_equal(
        keras.utils.img_to_array(square), pixels[:, 1:7].astype("float32")
    )


def test_extracting_into_a_folder_keeps_its_other_files(tmp_path):
    from tritonlayers.file_utils import extract_archive

    archive = tmp_path / "a.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("inner/x.txt", "new")
    out = tmp_path / "out"
    (out / "inner").mkdir(parents=True)
    (out / "inner" / "stale.txt").write_text("stale")
    (out / "keep.txt").write_text("mine")
    assert extract_archive(archive, out)
    assert (out / "keep.txt").read_text() == "mine"
    assert sorted(p.name for p in (out / "inner").iterdir()) == ["x.txt"]
