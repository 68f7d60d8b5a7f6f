"""`keras.utils.get_file`: download a file once into Keras's cache (`~/.keras/<cache_subdir>`,
or `$KERAS_HOME/<cache_subdir>`), check its hash, and optionally extract a tar or zip archive.

Only the standard library is used: `urllib` for http(s):// and file:// origins, `hashlib`,
`tarfile`/`zipfile`. A download lands in a temporary file that is renamed into place only
once complete and verified, and an archive is extracted into a temporary folder first, so
an interrupted run never leaves a half-written cache entry. Archive members that would land
outside the extraction folder (absolute paths, `..`, links pointing out) are skipped with a
warning.

Example:
>>> import pathlib, tempfile
>>> source = pathlib.Path(tempfile.mkdtemp()) / "notes.txt"
>>> _ = source.write_text("hello")
>>> cache = tempfile.mkdtemp()
>>> path = get_file(origin=source.as_uri(), cache_dir=cache)  # doctest: +ELLIPSIS
Downloading data from file://...notes.txt
...
>>> pathlib.Path(path).read_text(), pathlib.Path(path).parent.name
('hello', 'datasets')
"""

import hashlib
import os
import pathlib
import shutil
import tarfile
import tempfile
import urllib.error
import urllib.parse
import urllib.request
import warnings
import zipfile
from collections.abc import Callable
from typing import Any

from . import io_utils

__all__ = [
    "DownloadError",
    "extract_archive",
    "get_file",
    "hash_file",
    "keras_home",
    "validate_file",
]

_CHUNK = 1 << 16


class DownloadError(OSError):
    """A file could not be fetched from its origin (network, HTTP or file error)."""


def keras_home() -> pathlib.Path:
    """The cache root: `$KERAS_HOME` when set, else `~/.keras`.

    Example:
    >>> import os
    >>> keras_home() == pathlib.Path(os.environ.get("KERAS_HOME") or "~/.keras").expanduser()
    True
    """
    return pathlib.Path(os.environ.get("KERAS_HOME") or "~/.keras").expanduser()


def _hasher(algorithm: str, file_hash: "str | None" = None) -> Any:
    """sha256 when asked for, or for "auto" with a 64-digit hash; md5 otherwise (Keras)."""
    if algorithm not in ("auto", "sha256", "md5"):
        raise ValueError(
            f'`hash_algorithm` must be "auto", "sha256" or "md5". Received: {algorithm!r}'
        )
    if algorithm == "sha256" or (algorithm == "auto" and file_hash and len(file_hash) == 64):
        return hashlib.sha256()
    return hashlib.md5()


def hash_file(fpath: "str | os.PathLike", algorithm: str = "sha256") -> str:
    """The hex digest of a file ("sha256", "md5", or "auto", which means sha256 here).

    Example:
    >>> import tempfile
    >>> with tempfile.NamedTemporaryFile() as f:
    ...     hash_file(f.name)[:16]
    'e3b0c44298fc1c14'
    """
    hasher = _hasher("sha256" if algorithm == "auto" else algorithm)
    with open(fpath, "rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            hasher.update(chunk)
    return hasher.hexdigest()


def validate_file(fpath: "str | os.PathLike", file_hash: str, algorithm: str = "auto") -> bool:
    """Whether the file's hash equals `file_hash` ("auto": sha256 for 64 hex digits, else md5).

    Example:
    >>> import tempfile
    >>> with tempfile.NamedTemporaryFile() as f:
    ...     validate_file(f.name, "d41d8cd98f00b204e9800998ecf8427e")
    True
    """
    hasher = _hasher(algorithm, file_hash)
    with open(fpath, "rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            hasher.update(chunk)
    return hasher.hexdigest() == str(file_hash)


def download_url(origin: str, destination: "str | os.PathLike", progress: bool = True) -> None:
    """Stream `origin` (http://, https:// or file://) into `destination`, drawing a
    progress bar in bytes when `progress`; raises `DownloadError` naming the URL."""
    try:
        with urllib.request.urlopen(origin, timeout=60) as response:
            length = response.headers.get("Content-Length")
            bar = None
            if progress:
                from .callbacks import Progbar

                bar = Progbar(int(length) if length and length.isdigit() else None)
            done = 0
            with open(destination, "wb") as out:
                for chunk in iter(lambda: response.read(_CHUNK), b""):
                    out.write(chunk)
                    done += len(chunk)
                    if bar is not None:
                        bar.update(done, finalize=False)
            if bar is not None:
                bar.update(done, finalize=True)
    except urllib.error.HTTPError as error:
        raise DownloadError(
            f"URL fetch failure on {origin}: {error.code} -- {error.msg}"
        ) from error
    except urllib.error.URLError as error:
        raise DownloadError(
            f"URL fetch failure on {origin}: {error.errno} -- {error.reason}"
        ) from error
    except (ValueError, OSError) as error:
        raise DownloadError(f"URL fetch failure on {origin}: {error}") from error


def fetch_atomically(
    origin: str,
    target: "str | os.PathLike",
    download: Callable,
    file_hash: "str | None" = None,
    algorithm: str = "auto",
) -> None:
    """`download(origin, temporary_path)` next to `target`, then rename it to `target` once
    its hash matches `file_hash`. Raises ValueError on a mismatch; nothing is left behind
    on any failure."""
    target = pathlib.Path(target)
    fd, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    os.close(fd)
    temporary = pathlib.Path(name)
    try:
        download(origin, temporary)
        if file_hash is not None and not validate_file(temporary, file_hash, algorithm):
            shown = _hasher(algorithm, file_hash).name
            raise ValueError(
                f"Incomplete or corrupted file detected. The {shown} file hash does not match "
                f"the provided value of {file_hash} (file downloaded from {origin})."
            )
        os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)


def _inside(base: str, relative: str) -> bool:
    path = os.path.realpath(os.path.join(base, relative))
    try:
        return os.path.commonpath([path, base]) == base
    except ValueError:
        return False


def _safe_tar_members(archive: tarfile.TarFile, base: str):
    for member in archive:
        safe = _inside(base, member.name)
        if safe and member.issym():
            safe = _inside(base, os.path.join(os.path.dirname(member.name), member.linkname))
        elif safe and member.islnk():
            safe = _inside(base, member.linkname)
        if safe:
            yield member
        else:
            warnings.warn(
                f"Skipping invalid path during archive extraction: '{member.name}'.", stacklevel=3
            )


def _safe_zip_members(archive: zipfile.ZipFile, base: str) -> list:
    members = []
    for member in archive.infolist():
        if _inside(base, member.filename):
            members.append(member)
        else:
            warnings.warn(
                f"Skipping invalid path during archive extraction: '{member.filename}'.",
                stacklevel=3,
            )
    return members


def extract_archive(
    file_path: "str | os.PathLike", path: "str | os.PathLike" = ".", archive_format: Any = "auto"
) -> bool:
    """Extract a tar (.tar, .tar.gz, .tar.bz2, .tar.xz) or zip archive into `path`.

    `archive_format` is "auto" (try tar, then zip), "tar", "zip", a list of those, or None.
    Returns whether the file was one of the allowed formats (and so was extracted). The
    archive is unpacked into a temporary folder first; its top-level entries then replace
    the same-named entries of `path`, and nothing else in `path` changes.

    Example:
    >>> import pathlib, tempfile, zipfile
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> with zipfile.ZipFile(folder / "a.zip", "w") as z:
    ...     z.writestr("inner/x.txt", "x")
    >>> extract_archive(folder / "a.zip", folder / "out")
    True
    >>> (folder / "out" / "inner" / "x.txt").read_text()
    'x'
    """
    if archive_format is None:
        return False
    formats = ["tar", "zip"] if archive_format == "auto" else archive_format
    formats = [formats] if isinstance(formats, str) else list(formats)
    for kind in formats:
        if kind not in ("tar", "zip"):
            raise ValueError(
                f'`archive_format` must be "auto", "tar", "zip", a list of those, or None. '
                f"Received: {archive_format!r}"
            )
    file_path, path = os.fspath(file_path), os.path.abspath(os.fspath(path))
    for kind in formats:
        if kind == "tar" and tarfile.is_tarfile(file_path):
            _extract_into(path, lambda base: _untar(file_path, base))
            return True
        if kind == "zip" and zipfile.is_zipfile(file_path):
            _extract_into(path, lambda base: _unzip(file_path, base))
            return True
    return False


def _untar(file_path: str, base: str) -> None:
    with tarfile.open(file_path) as archive:
        # "data" filter: a second guard (no devices, no absolute or escaping links).
        archive.extractall(base, members=_safe_tar_members(archive, base), filter="data")


def _unzip(file_path: str, base: str) -> None:
    with zipfile.ZipFile(file_path) as archive:
        archive.extractall(base, members=_safe_zip_members(archive, base))


def _extract_into(path: str, extract: Callable) -> None:
    """Unpack into a staging folder beside `path`, then move each top-level entry into
    `path`, replacing only entries of the same name (nothing else in `path` is touched)."""
    os.makedirs(path, exist_ok=True)
    staging = os.path.realpath(
        tempfile.mkdtemp(dir=os.path.dirname(path) or ".", prefix=".extracting-")
    )
    try:
        extract(staging)
        for entry in os.listdir(staging):
            target = os.path.join(path, entry)
            if os.path.isdir(target) and not os.path.islink(target):
                shutil.rmtree(target)
            elif os.path.lexists(target):
                os.remove(target)
            os.replace(os.path.join(staging, entry), target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _cache_folder(cache_dir: "str | os.PathLike | None", cache_subdir: str) -> str:
    """`cache_dir/cache_subdir`, created; `/tmp/.keras/...` when it cannot be written."""
    base = os.path.expanduser(os.fspath(cache_dir)) if cache_dir is not None else None
    base = base or str(keras_home())
    try:
        os.makedirs(base, exist_ok=True)
        writable = os.access(base, os.W_OK)
    except OSError:
        writable = False
    if not writable:
        base = os.path.join(tempfile.gettempdir(), ".keras")
    folder = os.path.join(base, cache_subdir)
    os.makedirs(folder, exist_ok=True)
    return folder


def get_file(
    fname: "str | os.PathLike | None" = None,
    origin: "str | None" = None,
    untar: bool = False,
    md5_hash: "str | None" = None,
    file_hash: "str | None" = None,
    cache_subdir: str = "datasets",
    hash_algorithm: str = "auto",
    extract: bool = False,
    archive_format: Any = "auto",
    cache_dir: "str | os.PathLike | None" = None,
    force_download: bool = False,
) -> str:
    """Download `origin` into the cache unless a good copy is there, and return its path.

    Args:
        fname: the cached file's name (no folders); default: the last part of the URL.
        origin: the URL (http://, https:// or file://).
        untar: deprecated form of `extract=True` with `archive_format="tar"`.
        md5_hash: deprecated form of `file_hash` with `hash_algorithm="md5"`.
        file_hash: the expected sha256 or md5 hex digest; a cached file that does not
            match is downloaded again, a download that does not match raises ValueError.
        cache_subdir: the folder under the cache root.
        hash_algorithm: "auto" (sha256 for 64 digits, else md5), "sha256" or "md5".
        extract: unpack the file as an archive; the path returned is then the folder
            (`<name>_extracted` for an `fname` with an extension, as in Keras).
        archive_format: "auto", "tar", "zip", a list of those, or None.
        cache_dir: the cache root; default `$KERAS_HOME` or `~/.keras` (`/tmp/.keras` when
            that cannot be written).
        force_download: download even when a cached copy exists.

    Returns:
        The path of the file, or of the extraction folder, as a string.

    Raises:
        DownloadError (an OSError) when the URL cannot be fetched, ValueError for a hash
        mismatch or bad arguments.

    Example:
    >>> import pathlib, tempfile, tarfile
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "a.txt").write_text("A")
    >>> with tarfile.open(folder / "data.tar.gz", "w:gz") as t:
    ...     t.add(folder / "a.txt", arcname="data/a.txt")
    >>> out = get_file("data.tar.gz", (folder / "data.tar.gz").as_uri(),
    ...                extract=True, cache_dir=folder / "cache")  # doctest: +ELLIPSIS
    Downloading data from ...
    >>> pathlib.Path(out).name, (pathlib.Path(out) / "data" / "a.txt").read_text()
    ('data_extracted', 'A')
    """
    if origin is None:
        raise ValueError('Please specify the "origin" argument (URL of the file to download).')
    if md5_hash is not None and file_hash is None:
        file_hash, hash_algorithm = md5_hash, "md5"
    _hasher(hash_algorithm)
    folder = _cache_folder(cache_dir, cache_subdir)
    given_name = os.fspath(fname) if fname is not None else None
    name = given_name
    if not name:
        name = os.path.basename(urllib.parse.urlsplit(origin).path)
        if not name:
            raise ValueError(
                f"Can't parse the file name from the origin provided: '{origin}'. Please "
                "specify the `fname` argument."
            )
    elif os.sep in name or (os.altsep and os.altsep in name):
        raise ValueError(
            "Paths are no longer accepted as the `fname` argument. To specify the file's "
            f"parent directory, use the `cache_dir` argument. Received: fname={name}"
        )
    extract = extract or untar
    if extract and given_name and "." in name:
        target = os.path.join(folder, name)
        extraction_dir = os.path.join(folder, f"{name[: name.find('.')]}_extracted")
    elif extract:
        target = os.path.join(folder, f"{name}_archive")
        extraction_dir = os.path.join(folder, name)
    else:
        target, extraction_dir = os.path.join(folder, name), None

    download = force_download or not os.path.exists(target)
    if (
        not download
        and file_hash is not None
        and not validate_file(target, file_hash, hash_algorithm)
    ):
        io_utils.print_msg(
            "A local file was found, but it seems to be incomplete or outdated because the "
            f"{hash_algorithm} file hash does not match the original value of {file_hash} so "
            "we will re-download the data."
        )
        download = True
    if download:
        io_utils.print_msg(f"Downloading data from {origin}")
        fetch_atomically(origin, target, download_url, file_hash, hash_algorithm)

    if extraction_dir is None:
        return target
    # Keras unpacks on every call; here only after a download or when the folder is gone.
    fresh = download or not os.path.isdir(extraction_dir)
    if fresh and not extract_archive(target, extraction_dir, "tar" if untar else archive_format):
        warnings.warn("Could not extract archive.", stacklevel=2)
    return extraction_dir
