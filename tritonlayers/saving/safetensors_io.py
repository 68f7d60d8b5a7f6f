"""Read and write the safetensors format, validating every header field.

The format: 8 bytes (little-endian unsigned length N), then N bytes of JSON header
`{name: {"dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end]}, "__metadata__":
{str: str}}`, then the raw little-endian tensor bytes, with each tensor's offsets counted
from the end of the header. Nothing in a file is executed or trusted: a header that lies
(an unknown dtype, a negative or non-integer dimension, offsets that overlap, leave gaps,
run past the end, or hold a different number of bytes than `prod(shape) * itemsize`) raises
`ArchiveError` before any tensor is made.

Example:
>>> import torch
>>> from tritonlayers.saving import safetensors_io
>>> data = safetensors_io.save({"w": torch.ones(2, 3)}, metadata={"format": "pt"})
>>> tensors, metadata = safetensors_io.load(data)
>>> tensors["w"].shape, metadata
(torch.Size([2, 3]), {'format': 'pt'})
"""

import json
import math
import os
from collections.abc import Mapping

import numpy as np
import torch

from . import strict_json
from .atomic import write_bytes_atomically
from .errors import ArchiveError

__all__ = ["DTYPES", "MAX_HEADER_BYTES", "load", "load_file", "save", "save_file"]

DTYPES: dict[str, torch.dtype] = {
    "F64": torch.float64,
    "F32": torch.float32,
    "F16": torch.float16,
    "BF16": torch.bfloat16,
    "I64": torch.int64,
    "I32": torch.int32,
    "I16": torch.int16,
    "I8": torch.int8,
    "U8": torch.uint8,
    "BOOL": torch.bool,
}
_NAMES = {dtype: name for name, dtype in DTYPES.items()}
MAX_HEADER_BYTES = 100 * 1024 * 1024
_MAX_RANK = 64
_ENTRY_KEYS = {"dtype", "shape", "data_offsets"}
_METADATA_KEY = "__metadata__"


def save(
    tensors: Mapping[str, "torch.Tensor | np.ndarray"], metadata: Mapping[str, str] | None = None
) -> bytes:
    """Serialize named tensors (torch or numpy, any device) to safetensors bytes.

    Example:
    >>> import numpy as np
    >>> from tritonlayers.saving import safetensors_io
    >>> len(safetensors_io.save({"x": np.zeros(4, "float32")})) > 16
    True
    """
    header: dict[str, object] = {}
    if metadata:
        header[_METADATA_KEY] = _checked_metadata(dict(metadata), "the metadata to save")
    chunks, offset = [], 0
    for name, value in tensors.items():
        tensor = _as_cpu_tensor(name, value)
        raw = _flat_copy(tensor).view(torch.uint8).numpy().tobytes()
        header[name] = {
            "dtype": _NAMES[tensor.dtype],
            "shape": list(tensor.shape),
            "data_offsets": [offset, offset + len(raw)],
        }
        chunks.append(raw)
        offset += len(raw)
    header_bytes = json.dumps(header, separators=(",", ":")).encode("utf-8")
    header_bytes += b" " * (-len(header_bytes) % 8)
    return b"".join([len(header_bytes).to_bytes(8, "little"), header_bytes, *chunks])


def save_file(
    tensors: Mapping[str, "torch.Tensor | np.ndarray"],
    path: "str | os.PathLike[str]",
    metadata: Mapping[str, str] | None = None,
) -> None:
    """Write named tensors to a safetensors file, atomically (old file kept on a crash).

    Example:
    >>> import os, tempfile, torch
    >>> from tritonlayers.saving import safetensors_io
    >>> path = os.path.join(tempfile.mkdtemp(), "t.safetensors")
    >>> safetensors_io.save_file({"b": torch.arange(3)}, path)
    >>> safetensors_io.load_file(path)[0]["b"].tolist()
    [0, 1, 2]
    """
    write_bytes_atomically(path, save(tensors, metadata))


def load(
    data: "bytes | bytearray | memoryview", source: str = "<bytes>"
) -> tuple[dict[str, torch.Tensor], dict[str, str]]:
    """Parse safetensors bytes into `({name: CPU tensor}, metadata)`, validating strictly.

    `source` names the data in error messages (a file name, or an archive entry).

    Example:
    >>> import torch
    >>> from tritonlayers.saving import safetensors_io
    >>> tensors, _ = safetensors_io.load(safetensors_io.save({"w": torch.eye(2)}))
    >>> tensors["w"].tolist()
    [[1.0, 0.0], [0.0, 1.0]]
    """
    view = memoryview(data)
    if len(view) < 8:
        raise ArchiveError(
            f"{source}: truncated safetensors data: {len(view)} bytes, expected at least 8 "
            "(the header length)."
        )
    header_length = int.from_bytes(view[:8], "little")
    if header_length > MAX_HEADER_BYTES:
        raise ArchiveError(
            f"{source}: safetensors header length {header_length} exceeds the limit of "
            f"{MAX_HEADER_BYTES} bytes."
        )
    if 8 + header_length > len(view):
        raise ArchiveError(
            f"{source}: truncated safetensors data: the header claims {header_length} bytes "
            f"but only {len(view) - 8} follow the length field."
        )
    header = strict_json.loads_object(bytes(view[8 : 8 + header_length]), f"{source} header")
    metadata = _checked_metadata(header.pop(_METADATA_KEY, {}), f"{source}: __metadata__")
    buffer = view[8 + header_length :]
    entries = {name: _checked_entry(name, entry, source) for name, entry in header.items()}
    _check_layout(entries, len(buffer), source)
    tensors = {
        name: _tensor_from_bytes(buffer[begin:end], dtype, shape)
        for name, (dtype, shape, (begin, end)) in entries.items()
    }
    return tensors, metadata


def load_file(
    path: "str | os.PathLike[str]",
) -> tuple[dict[str, torch.Tensor], dict[str, str]]:
    """Read and validate a safetensors file: `({name: CPU tensor}, metadata)`.

    Example:
    >>> import os, tempfile, torch
    >>> from tritonlayers.saving import safetensors_io
    >>> path = os.path.join(tempfile.mkdtemp(), "t.safetensors")
    >>> safetensors_io.save_file({"w": torch.zeros(2)}, path, metadata={"k": "v"})
    >>> safetensors_io.load_file(path)[1]
    {'k': 'v'}
    """
    with open(path, "rb") as file:
        data = file.read()
    return load(data, source=os.fspath(path))


def _as_cpu_tensor(name: object, value: "torch.Tensor | np.ndarray") -> torch.Tensor:
    if not isinstance(name, str) or not name or name == _METADATA_KEY:
        raise ValueError(
            f"Tensor names must be non-empty strings other than "
            f"{_METADATA_KEY!r}; received {name!r}."
        )
    tensor = (
        torch.from_numpy(np.ascontiguousarray(value)) if isinstance(value, np.ndarray) else value
    )
    if not isinstance(tensor, torch.Tensor):
        raise TypeError(
            f"Tensor {name!r} must be a torch tensor or numpy array; "
            f"received {type(value).__name__}."
        )
    if tensor.dtype not in _NAMES:
        raise ValueError(
            f"Tensor {name!r} has dtype {tensor.dtype}, which safetensors files "
            f"here cannot hold; supported: {sorted(map(str, _NAMES))}."
        )
    return tensor.detach().to("cpu")


def _flat_copy(tensor: torch.Tensor) -> torch.Tensor:
    """A fresh 1-D copy with stride 1 (a size-1 tensor may carry stride 0, which `view`
    between dtypes of different sizes refuses)."""
    return torch.empty(tensor.numel(), dtype=tensor.dtype).copy_(tensor.reshape(-1))


def _checked_metadata(metadata: object, where: str) -> dict[str, str]:
    if not isinstance(metadata, dict) or not all(
        isinstance(key, str) and isinstance(value, str) for key, value in metadata.items()
    ):
        raise ArchiveError(
            f"{where}: metadata must map strings to strings; found {metadata!r:.200}."
        )
    return metadata


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _checked_entry(name: str, entry: object, source: str):
    where = f"{source}: tensor {name!r}"
    if not name:
        raise ArchiveError(f"{source}: a tensor has an empty name.")
    if not isinstance(entry, dict) or set(entry) != _ENTRY_KEYS:
        found = sorted(entry) if isinstance(entry, dict) else type(entry).__name__
        raise ArchiveError(
            f"{where}: expected exactly the keys {sorted(_ENTRY_KEYS)}; found {found}."
        )
    dtype, shape, offsets = entry["dtype"], entry["shape"], entry["data_offsets"]
    if not isinstance(dtype, str) or dtype not in DTYPES:
        raise ArchiveError(f"{where}: unknown dtype {dtype!r}; expected one of {sorted(DTYPES)}.")
    if (
        not isinstance(shape, list)
        or len(shape) > _MAX_RANK
        or not all(_is_int(dim) and dim >= 0 for dim in shape)
    ):
        raise ArchiveError(
            f"{where}: shape must be a list of at most {_MAX_RANK} non-negative integers; "
            f"found {shape!r:.200}."
        )
    if (
        not isinstance(offsets, list)
        or len(offsets) != 2
        or not all(_is_int(offset) for offset in offsets)
        or not 0 <= offsets[0] <= offsets[1]
    ):
        raise ArchiveError(
            f"{where}: data_offsets must be [begin, end] with "
            f"0 <= begin <= end; found {offsets!r:.200}."
        )
    expected = math.prod(shape) * DTYPES[dtype].itemsize
    if offsets[1] - offsets[0] != expected:
        raise ArchiveError(
            f"{where}: dtype {dtype} and shape {shape} need {expected} bytes but data_offsets "
            f"{offsets} span {offsets[1] - offsets[0]}."
        )
    return DTYPES[dtype], tuple(shape), tuple(offsets)


def _check_layout(entries: dict, buffer_length: int, source: str) -> None:
    """The tensors' byte ranges must tile the data section exactly: no gap, no overlap."""
    position = 0
    for name, (_, _, (begin, end)) in sorted(entries.items(), key=lambda item: item[1][2]):
        if begin != position:
            kind = "overlaps the previous tensor" if begin < position else "leaves a gap"
            raise ArchiveError(
                f"{source}: tensor {name!r} starts at byte {begin}, expected {position}: "
                f"its data {kind}."
            )
        position = end
    if position != buffer_length:
        problem = "truncated" if position > buffer_length else "has trailing bytes"
        raise ArchiveError(
            f"{source}: the data section {problem}: the header describes {position} bytes, "
            f"the data section holds {buffer_length}."
        )


def _tensor_from_bytes(raw: memoryview, dtype: torch.dtype, shape: tuple[int, ...]) -> torch.Tensor:
    if len(raw) == 0:
        return torch.empty(shape, dtype=dtype)
    return torch.frombuffer(bytearray(raw), dtype=dtype).reshape(shape)
