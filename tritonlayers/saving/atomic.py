"""Crash-safe file writes: write a temporary file beside the target, fsync, rename.

A process killed at any point of `atomic_write` leaves either the old file or the new one
at `path`, never a mix: the bytes go to a temporary file in the same folder (so the final
rename never crosses file systems), the file is fsynced, `os.replace` swaps it in (atomic
on POSIX and Windows), and the folder is fsynced so the rename itself survives a power cut.

Example:
>>> import os, tempfile
>>> from tritonlayers.saving.atomic import atomic_write
>>> path = os.path.join(tempfile.mkdtemp(), "notes.txt")
>>> with atomic_write(path) as f:
...     _ = f.write(b"hello")
>>> open(path, "rb").read()
b'hello'
"""

import contextlib
import os
import tempfile
from collections.abc import Iterator
from typing import BinaryIO

TEMP_SUFFIX = ".tmp"


@contextlib.contextmanager
def atomic_write(path: "str | os.PathLike[str]") -> Iterator[BinaryIO]:
    """Open a binary file that replaces `path` only when the `with` block ends cleanly.

    If the block raises, the temporary file is removed and `path` is left as it was.

    Example:
    >>> import os, tempfile
    >>> from tritonlayers.saving.atomic import atomic_write
    >>> path = os.path.join(tempfile.mkdtemp(), "a.bin")
    >>> with atomic_write(path) as f:
    ...     _ = f.write(b"new")
    >>> os.listdir(os.path.dirname(path))
    ['a.bin']
    """
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise FileNotFoundError(
            f"Cannot write '{path}': its folder '{folder}' does not exist. Create it first."
        )
    fd, temp_path = tempfile.mkstemp(
        prefix=f".{os.path.basename(path)}.", suffix=TEMP_SUFFIX, dir=folder
    )
    try:
        os.chmod(temp_path, _mode_for(path))
        with os.fdopen(fd, "wb") as file:
            yield file
            file.flush()
            os.fsync(file.fileno())
        os.replace(temp_path, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp_path)
        raise
    _fsync_folder(folder)


def write_bytes_atomically(path: "str | os.PathLike[str]", data: bytes) -> None:
    """Replace the file at `path` with `data`, crash-safely (see `atomic_write`).

    Example:
    >>> import os, tempfile
    >>> from tritonlayers.saving.atomic import write_bytes_atomically
    >>> path = os.path.join(tempfile.mkdtemp(), "b.bin")
    >>> write_bytes_atomically(path, b"abc")
    >>> open(path, "rb").read()
    b'abc'
    """
    with atomic_write(path) as file:
        file.write(data)


def _mode_for(path: str) -> int:
    """The permission bits the new file gets: the old file's, else the umask default."""
    with contextlib.suppress(FileNotFoundError):
        return os.stat(path).st_mode & 0o777
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def _fsync_folder(folder: str) -> None:
    """Make a rename inside `folder` durable (a no-op where folders cannot be opened)."""
    if os.name != "posix":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
