"""Reading the pickled parts of Keras's dataset files without running code from them.

The CIFAR batches are pickled dicts, and the IMDB and Reuters `.npz` files hold ragged
sequences as object arrays, which numpy can store only as a pickle. Rebuilding those needs
exactly three callables: `numpy.ndarray`, `numpy.dtype` and `multiarray._reconstruct` (under
its numpy 1 name `numpy.core.multiarray` or its numpy 2 name `numpy._core.multiarray`). The
unpickler here resolves those names to numpy's own objects, without importing anything by
name, and refuses every other global, so a tampered file cannot call `os.system` or `eval`.

Example:
>>> import io, pickle
>>> import numpy as np
>>> blob = pickle.dumps({b"data": np.arange(3, dtype=np.uint8)}, protocol=3)
>>> load_pickle(io.BytesIO(blob), "batch")[b"data"]
array([0, 1, 2], dtype=uint8)
>>> load_pickle(io.BytesIO(pickle.dumps(print)), "evil.pkl")  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
tritonlayers.datasets.safe_pickle.UnsafePickleError: evil.pkl: refusing to load `builtins.print`...
"""

import io
import os
import pickle
import zipfile
from typing import IO

import numpy as np

_RECONSTRUCT = np.ndarray((0,)).__reduce__()[0]
ALLOWED_GLOBALS = {
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
    ("numpy.core.multiarray", "_reconstruct"): _RECONSTRUCT,
    ("numpy._core.multiarray", "_reconstruct"): _RECONSTRUCT,
}


class UnsafePickleError(pickle.UnpicklingError):
    """A dataset file's pickle names a global other than numpy's array reconstruction."""


class RestrictedUnpickler(pickle.Unpickler):
    """An unpickler that rebuilds plain Python data and numpy arrays, and nothing else.

    `source` names the file in the error raised for any other global.
    """

    def __init__(self, file: IO[bytes], source: str, encoding: str = "ASCII") -> None:
        super().__init__(file, encoding=encoding)
        self.source = source

    def find_class(self, module: str, name: str):
        allowed = ALLOWED_GLOBALS.get((module, name))
        if allowed is None:
            raise UnsafePickleError(
                f"{self.source}: refusing to load `{module}.{name}`. Keras dataset files "
                "hold only numpy arrays and plain Python data, so this file is corrupted or "
                "malicious. Delete it to download it again."
            )
        return allowed


def load_pickle(file: "str | os.PathLike | IO[bytes]", source: "str | None" = None):
    """The object pickled in `file` (a path or a binary stream), read with
    `RestrictedUnpickler` and `encoding="bytes"` (Python 2 strings stay bytes, as in the
    CIFAR batches).

    Raises `UnsafePickleError` for a forbidden global and ValueError naming the file when the
    stream is not a readable pickle.
    """
    if isinstance(file, (str, os.PathLike)):
        with open(file, "rb") as stream:
            return load_pickle(stream, source or os.fspath(file))
    source = source or "<stream>"
    try:
        return RestrictedUnpickler(file, source, encoding="bytes").load()
    except UnsafePickleError:
        raise
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError) as error:
        raise ValueError(
            f"{source} is not a readable pickle file: {error}. Delete it to download it again."
        ) from error


def _read_npy(stream: IO[bytes], source: str) -> np.ndarray:
    """One `.npy` member: numeric arrays with pickling off, object arrays restricted."""
    version = np.lib.format.read_magic(stream)
    if version == (1, 0):
        shape, _, dtype = np.lib.format.read_array_header_1_0(stream)
    else:
        # Format 3.0 differs from 2.0 only in decoding the header text as UTF-8, not latin-1.
        shape, _, dtype = np.lib.format.read_array_header_2_0(stream)
    if not dtype.hasobject:
        stream.seek(0)
        return np.lib.format.read_array(stream, allow_pickle=False)
    array = RestrictedUnpickler(stream, source, encoding="latin1").load()
    if not isinstance(array, np.ndarray) or array.shape != shape:
        raise ValueError(f"{source} holds {type(array).__name__}, not an array of shape {shape}")
    return array


def load_npz(path: "str | os.PathLike") -> dict:
    """The arrays of an `.npz` file as a dict, as `np.load(path, allow_pickle=True)` would
    give, but unpickling only numpy arrays of plain Python data (lists of ints).

    Raises `UnsafePickleError` for a forbidden global and ValueError naming the file when it
    is not a readable `.npz`.
    """
    arrays = {}
    try:
        with zipfile.ZipFile(path) as archive:
            for member in archive.namelist():
                if member.endswith(".npy"):
                    with archive.open(member) as raw:
                        stream = io.BytesIO(raw.read())
                    arrays[member[: -len(".npy")]] = _read_npy(stream, f"{path} ({member})")
    except UnsafePickleError:
        raise
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, pickle.UnpicklingError) as error:
        raise ValueError(
            f"{path} is not a readable .npz file: {error}. Delete it to download it again."
        ) from error
    return arrays
