"""Write and read `.keras` zip archives with bounded, validated reads.

`write_archive` stores named byte strings (uncompressed, fixed timestamps, so the same
model gives the same bytes) through `atomic_write`. `read_archive` treats the file as
hostile: it accepts only the entry names the caller expects, rejects names that could
escape a folder (`..`, absolute paths, drive letters, backslashes), encrypted or exotically
compressed entries and duplicates, bounds each entry's declared size, the total, and the
compression ratio before it inflates a byte, and reads each entry with a hard limit, so a
zip bomb stops early. Every problem raises `ArchiveError` naming the file and the entry.

Example:
>>> import os, tempfile
>>> from tritonlayers.saving.archive import read_archive, write_archive
>>> path = os.path.join(tempfile.mkdtemp(), "a.keras")
>>> write_archive(path, {"config.json": b"{}"})
>>> read_archive(path, required=["config.json"])
{'config.json': b'{}'}
"""

import io
import os
import re
import struct
import zipfile
import zlib
from collections.abc import Collection, Mapping

from .atomic import atomic_write
from .errors import ArchiveError

__all__ = [
    "MAX_ENTRIES",
    "MAX_JSON_BYTES",
    "MAX_TOTAL_BYTES",
    "archive_bytes",
    "read_archive",
    "write_archive",
]

MAX_JSON_BYTES = 64 * 1024 * 1024
MAX_TOTAL_BYTES = 256 * 1024**3
MAX_COMPRESSION_RATIO = 100
_RATIO_FREE_BYTES = 1024 * 1024
MAX_ENTRIES = 64
_CHUNK = 1024 * 1024
_FIXED_TIME = (1980, 1, 1, 0, 0, 0)
# What zipfile raises on corrupt input: its own errors, bad offsets (ValueError, OSError),
# bad deflate streams, and features it does not implement (versions, flag bits).
_ZIP_FAILURES = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    EOFError,
    OSError,
    ValueError,
    NotImplementedError,
    RuntimeError,
    struct.error,
    zlib.error,
)
_SUPPORTED_COMPRESSION = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)
_UNSAFE_NAME = re.compile(r"(^/)|(^[A-Za-z]:)|\\|\x00|(^|/)\.\.?(/|$)")


def write_archive(path: "str | os.PathLike[str]", entries: Mapping[str, bytes]) -> None:
    """Write `entries` ({name: bytes}) as a zip archive at `path`, atomically.

    Example:
    >>> import os, tempfile, zipfile
    >>> from tritonlayers.saving.archive import write_archive
    >>> path = os.path.join(tempfile.mkdtemp(), "b.keras")
    >>> write_archive(path, {"metadata.json": b"{}"})
    >>> zipfile.ZipFile(path).namelist()
    ['metadata.json']
    """
    with atomic_write(path) as file:
        _write_zip(file, entries)


def archive_bytes(entries: Mapping[str, bytes]) -> bytes:
    """The zip archive holding `entries`, as bytes (what `write_archive` would write).

    Example:
    >>> from tritonlayers.saving.archive import archive_bytes, read_archive
    >>> read_archive(archive_bytes({"a.json": b"1"}), required=["a.json"])
    {'a.json': b'1'}
    """
    buffer = io.BytesIO()
    _write_zip(buffer, entries)
    return buffer.getvalue()


def _write_zip(file, entries: Mapping[str, bytes]) -> None:
    with zipfile.ZipFile(file, "w", zipfile.ZIP_STORED) as archive:
        for name, data in entries.items():
            archive.writestr(zipfile.ZipInfo(name, date_time=_FIXED_TIME), data)


def read_archive(
    path: "str | os.PathLike[str] | bytes",
    required: Collection[str],
    optional: Collection[str] = (),
    max_total_bytes: int = MAX_TOTAL_BYTES,
    optional_prefixes: Collection[str] = (),
) -> dict[str, bytes]:
    """Read the entries of the zip at `path` (or in the given bytes): all of `required`, those
    of `optional` that are present, and any whose name starts with one of `optional_prefixes`.

    Entries ending in `.json` may hold at most `MAX_JSON_BYTES`; all entries together at
    most `max_total_bytes`. Raises `ArchiveError` for any other entry, a missing one, or a
    malformed, unsafe or oversized archive.

    Example:
    >>> import os, tempfile
    >>> from tritonlayers.saving.archive import read_archive, write_archive
    >>> path = os.path.join(tempfile.mkdtemp(), "c.keras")
    >>> write_archive(path, {"a.json": b"[]", "b.bin": b"xy"})
    >>> sorted(read_archive(path, required=["a.json"], optional=["b.bin", "c.bin"]))
    ['a.json', 'b.bin']
    """
    source = "<archive bytes>" if isinstance(path, bytes) else os.fspath(path)
    try:
        with zipfile.ZipFile(io.BytesIO(path) if isinstance(path, bytes) else source) as archive:
            infos = archive.infolist()
            _check_entries(infos, set(required), set(optional), source, tuple(optional_prefixes))
            _check_sizes(infos, max_total_bytes, source)
            return {info.filename: _read_entry(archive, info, source) for info in infos}
    except (ArchiveError, FileNotFoundError, IsADirectoryError, PermissionError):
        raise
    except _ZIP_FAILURES as exc:
        raise ArchiveError(f"{source}: not a readable zip archive: {exc}") from exc


def _check_entries(
    infos: list[zipfile.ZipInfo],
    required: set[str],
    optional: set[str],
    source: str,
    optional_prefixes: tuple = (),
) -> None:
    if len(infos) > MAX_ENTRIES:
        raise ArchiveError(
            f"{source}: the archive has {len(infos)} entries; at most {MAX_ENTRIES} are allowed."
        )
    names = [info.filename for info in infos]
    for info in infos:
        if _UNSAFE_NAME.search(info.filename) or info.is_dir() or not info.filename:
            raise ArchiveError(
                f"{source}: unsafe entry name {info.filename!r} (absolute, "
                "'..', a folder or a drive path); entries must be plain names."
            )
        if info.flag_bits & 0x1:
            raise ArchiveError(f"{source}: entry {info.filename!r} is encrypted.")
        if info.compress_type not in _SUPPORTED_COMPRESSION:
            raise ArchiveError(
                f"{source}: entry {info.filename!r} uses compression method "
                f"{info.compress_type}; only stored or deflated entries are read."
            )
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise ArchiveError(f"{source}: duplicate entries {duplicates}.")
    extra = sorted(
        name
        for name in set(names) - required - optional
        if not (optional_prefixes and name.startswith(optional_prefixes))
    )
    if extra:
        expected = sorted(required | optional) + [f"{p}*" for p in optional_prefixes]
        raise ArchiveError(f"{source}: unexpected entries {extra}; expected only {expected}.")
    missing = sorted(required - set(names))
    if missing:
        raise ArchiveError(
            f"{source}: missing entries {missing}; the archive holds {sorted(names)}."
        )


def _check_sizes(infos: list[zipfile.ZipInfo], max_total_bytes: int, source: str) -> None:
    for info in infos:
        limit = MAX_JSON_BYTES if info.filename.endswith(".json") else max_total_bytes
        if info.file_size > limit:
            raise ArchiveError(
                f"{source}: entry {info.filename!r} declares {info.file_size} "
                f"bytes; the limit is {limit}."
            )
        stored = info.compress_type == zipfile.ZIP_STORED
        if stored and info.compress_size != info.file_size:
            raise ArchiveError(
                f"{source}: stored entry {info.filename!r} declares "
                f"{info.file_size} bytes but holds {info.compress_size}."
            )
        if info.file_size > _RATIO_FREE_BYTES and info.file_size > MAX_COMPRESSION_RATIO * max(
            info.compress_size, 1
        ):
            raise ArchiveError(
                f"{source}: entry {info.filename!r} inflates {info.compress_size} bytes to "
                f"{info.file_size}, more than {MAX_COMPRESSION_RATIO}x: refusing a zip bomb."
            )
    total = sum(info.file_size for info in infos)
    if total > max_total_bytes:
        raise ArchiveError(
            f"{source}: the entries declare {total} bytes in all; the limit is {max_total_bytes}."
        )


def _read_entry(archive: zipfile.ZipFile, info: zipfile.ZipInfo, source: str) -> bytes:
    """Read one entry, never more than its declared size (checked again while reading)."""
    chunks, size = [], 0
    with archive.open(info) as entry:
        while chunk := entry.read(min(_CHUNK, info.file_size - size + 1)):
            size += len(chunk)
            if size > info.file_size:
                raise ArchiveError(
                    f"{source}: entry {info.filename!r} holds more than the "
                    f"{info.file_size} bytes it declares."
                )
            chunks.append(chunk)
    if size != info.file_size:
        raise ArchiveError(
            f"{source}: entry {info.filename!r} is truncated: {size} of {info.file_size} bytes."
        )
    return b"".join(chunks)
