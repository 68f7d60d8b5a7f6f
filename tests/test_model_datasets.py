"""datasets: Keras's load_data() over a checksummed cache; no test downloads anything."""

import gzip
import hashlib
import urllib.error

import numpy as np
import pytest

from tritonlayers.datasets import DatasetDownloadError, data_utils, fashion_mnist, mnist


@pytest.fixture
def keras_home(tmp_path, monkeypatch):
    """A fresh `$KERAS_HOME`, and a downloader that fails as an offline machine does."""
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))

    def offline(origin, destination):
        raise urllib.error.URLError("network is unreachable")

    monkeypatch.setattr(data_utils, "_download", offline)
    (tmp_path / "datasets").mkdir()
    return tmp_path / "datasets"


def _small_mnist(path):
    rng = np.random.default_rng(0)
    arrays = {
        "x_train": rng.integers(0, 256, (6, 28, 28), dtype=np.uint8),
        "y_train": rng.integers(0, 10, 6, dtype=np.uint8),
        "x_test": rng.integers(0, 256, (2, 28, 28), dtype=np.uint8),
        "y_test": rng.integers(0, 10, 2, dtype=np.uint8),
    }
    np.savez(path, **arrays)
    return arrays


def test_mnist_load_data_reads_the_cached_file_when_its_hash_matches(keras_home, monkeypatch):
    arrays = _small_mnist(keras_home / "mnist.npz")
    monkeypatch.setattr(mnist, "FILE_HASH", data_utils.sha256_of(keras_home / "mnist.npz"))
    (x_train, y_train), (x_test, y_test) = mnist.load_data()
    assert np.array_equal(x_train, arrays["x_train"])
    assert np.array_equal(y_test, arrays["y_test"])
    assert x_train.dtype == np.uint8


def test_corrupt_cached_mnist_is_refetched_and_the_error_names_url_and_file(keras_home):
    (keras_home / "mnist.npz").write_bytes(b"not an npz archive")
    with pytest.raises(DatasetDownloadError) as info:
        mnist.load_data()
    message = str(info.value)
    assert mnist.ORIGIN in message
    assert str(keras_home / "mnist.npz") in message
    assert "SHA-256" in message


def test_failed_download_leaves_no_partial_file(keras_home):
    with pytest.raises(DatasetDownloadError, match="not cached"):
        mnist.load_data()
    assert list(keras_home.iterdir()) == []


def test_download_with_the_wrong_hash_is_not_saved(keras_home, monkeypatch):
    monkeypatch.setattr(data_utils, "_download", lambda o, d: d.write_bytes(b"tampered"))
    with pytest.raises(DatasetDownloadError, match="does not match the expected SHA-256"):
        data_utils.get_file("f.bin", "https://example.invalid/f.bin", file_hash="0" * 64)
    assert not (keras_home / "f.bin").exists()


def test_get_file_moves_a_good_download_into_the_cache(keras_home, monkeypatch):
    monkeypatch.setattr(data_utils, "_download", lambda o, d: d.write_bytes(b"payload"))
    digest = hashlib.sha256(b"payload").hexdigest()
    path = data_utils.get_file("f.bin", "https://example.invalid/f.bin", file_hash=digest)
    assert path == keras_home / "f.bin"
    assert path.read_bytes() == b"payload"


def test_npz_missing_arrays_is_reported_as_invalid_mnist(keras_home, monkeypatch):
    np.savez(keras_home / "mnist.npz", x_train=np.zeros(1))
    monkeypatch.setattr(mnist, "FILE_HASH", data_utils.sha256_of(keras_home / "mnist.npz"))
    with pytest.raises(ValueError, match="not a valid MNIST archive"):
        mnist.load_data()


def test_fashion_mnist_idx_header_is_checked(tmp_path):
    path = tmp_path / "labels.gz"
    with gzip.open(path, "wb") as f:
        f.write(np.array([2049, 3], dtype=">u4").tobytes() + bytes([1, 2, 3]))
    assert fashion_mnist.read_idx(path, 2049, (3,)).tolist() == [1, 2, 3]
    with pytest.raises(ValueError, match="expected header"):
        fashion_mnist.read_idx(path, 2049, (4,))
