"""Download-once file cache for datasets, over `keras.utils.get_file`'s machinery: files live
under `~/.keras/datasets/` (or `$KERAS_HOME/datasets/`) and are checked against a SHA-256 hash
(or an MD5 one: a 32-digit hash, as Keras publishes for its word-index files).

Example:
>>> import hashlib, pathlib, tempfile
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> (folder / "datasets").mkdir()
>>> _ = (folder / "datasets" / "tiny.txt").write_bytes(b"hello")
>>> digest = hashlib.sha256(b"hello").hexdigest()
>>> get_file("tiny.txt", "https://example.invalid/tiny.txt", digest, cache_dir=str(folder)).name
'tiny.txt'
"""

import os
import pathlib
import urllib.error

from .. import file_utils


class DatasetDownloadError(OSError):
    """A dataset file could not be downloaded, or its contents do not match the expected hash."""


def cache_root(cache_dir: "str | None" = None) -> pathlib.Path:
    """The cache folder: `cache_dir`, else `$KERAS_HOME`, else `~/.keras`."""
    return pathlib.Path(cache_dir) if cache_dir is not None else file_utils.keras_home()


def sha256_of(path: "str | os.PathLike") -> str:
    """The hex SHA-256 digest of a file's bytes."""
    return file_utils.hash_file(path, "sha256")


def _algorithm_name(file_hash: str) -> str:
    return "MD5" if len(file_hash) == 32 else "SHA-256"


def _download(origin: str, destination: pathlib.Path) -> None:
    file_utils.download_url(origin, destination)


def get_file(
    fname: str,
    origin: str,
    file_hash: "str | None" = None,
    cache_subdir: str = "datasets",
    cache_dir: "str | None" = None,
) -> pathlib.Path:
    """The local path of `fname`, downloading it from `origin` first when it is missing or
    its hash differs from `file_hash` (SHA-256, or MD5 for a 32-digit hash, as Keras's
    "auto"), with `keras.utils.get_file`'s download and atomic rename.

    The download goes to a temporary file in the cache folder and is renamed into place only
    once its hash matches, so an interrupted download never leaves a corrupt cached file.
    Raises `DatasetDownloadError` naming the URL and the file when that fails.
    """
    folder = cache_root(cache_dir) / cache_subdir
    path = folder / fname
    if path.exists() and (file_hash is None or file_utils.validate_file(path, file_hash, "auto")):
        return path
    shown = _algorithm_name(file_hash or "")
    reason = "it is not cached" if not path.exists() else f"the cached copy fails its {shown} check"
    folder.mkdir(parents=True, exist_ok=True)
    try:
        file_utils.fetch_atomically(origin, path, _download, file_hash, "auto")
    except (urllib.error.URLError, OSError) as error:
        raise DatasetDownloadError(
            f"Could not download {origin} to {path} ({reason}): {error}. Check the internet "
            f"connection, or place the file at {path} yourself."
        ) from error
    except ValueError as error:
        raise DatasetDownloadError(
            f"The file downloaded from {origin} does not match the expected {shown} "
            f"{file_hash}; it was not saved to {path}. Retry the download."
        ) from error
    return path
