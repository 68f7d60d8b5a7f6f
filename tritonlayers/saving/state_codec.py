"""Turn nested state (dicts, lists, numbers, tensors) into JSON text plus named tensors.

Optimizer state (`optimizer.state_dict()`) mixes Python values with tensors and uses int
keys. `encode` writes it as strict JSON with every tensor replaced by a reference
`{"__tensor__": "<name>"}` into a tensor table saved as safetensors; `decode` reverses it
and accepts only what `encode` writes: any other shape of JSON raises `ArchiveError`.

Example:
>>> import torch
>>> from tritonlayers.saving.state_codec import decode, encode
>>> text, tensors = encode({"step": 3, "state": {0: {"m": torch.zeros(2)}}})
>>> decode(text, tensors, source="opt")["state"][0]["m"].tolist()
[0.0, 0.0]
"""

import json
import math

import numpy as np
import torch

from . import strict_json
from .errors import ArchiveError

__all__ = ["decode", "encode"]

_MAX_DEPTH = 32


def encode(state: object) -> tuple[str, dict[str, torch.Tensor]]:
    """`(json_text, {name: tensor})` for a nest of dicts, lists, tuples, scalars, tensors.

    Example:
    >>> from tritonlayers.saving.state_codec import encode
    >>> encode({"lr": 0.1})[0]
    '{"__dict__": [["lr", 0.1]]}'
    """
    tensors: dict[str, torch.Tensor] = {}
    return json.dumps(_encode(state, tensors), allow_nan=False), tensors


def decode(text: "str | bytes", tensors: dict[str, torch.Tensor], source: str) -> object:
    """Rebuild what `encode` wrote; every tensor in `tensors` must be referenced once.

    Example:
    >>> import torch
    >>> from tritonlayers.saving.state_codec import decode, encode
    >>> decode(*encode((1, None, float("inf"))), source="s")
    (1, None, inf)
    """
    tree = strict_json.loads(text, source)
    used: set[str] = set()
    state = _decode(tree, tensors, used, source, depth=0)
    unused = sorted(set(tensors) - used)
    if unused:
        raise ArchiveError(f"{source}: tensors {unused} are not referenced by the state.")
    return state


def _encode(value: object, tensors: dict[str, torch.Tensor]) -> object:
    if isinstance(value, (torch.Tensor, np.ndarray)):
        name = str(len(tensors))
        tensors[name] = torch.as_tensor(value).detach()
        return {"__tensor__": name}
    if isinstance(value, dict):
        return {
            "__dict__": [[_encode_key(key), _encode(item, tensors)] for key, item in value.items()]
        }
    if isinstance(value, tuple):
        return {"__tuple__": [_encode(item, tensors) for item in value]}
    if isinstance(value, list):
        return [_encode(item, tensors) for item in value]
    if isinstance(value, float) and not math.isfinite(value):
        return {"__float__": repr(value)}
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise TypeError(f"Cannot save state value of type {type(value).__name__}: {value!r:.100}")


def _encode_key(key: object) -> object:
    if key is None or isinstance(key, (bool, int, str)):
        return key
    raise TypeError(f"Cannot save a state dict key of type {type(key).__name__}: {key!r:.100}")


def _decode(value: object, tensors: dict, used: set, source: str, depth: int) -> object:
    if depth > _MAX_DEPTH:
        raise ArchiveError(f"{source}: the state nests deeper than {_MAX_DEPTH} levels.")
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, list):
        return [_decode(item, tensors, used, source, depth + 1) for item in value]
    if not isinstance(value, dict) or len(value) != 1:
        raise ArchiveError(f"{source}: unexpected state value {value!r:.200}.")
    ((tag, body),) = value.items()
    if tag == "__tensor__" and isinstance(body, str) and body in tensors and body not in used:
        used.add(body)
        return tensors[body]
    if tag == "__tuple__" and isinstance(body, list):
        return tuple(_decode(item, tensors, used, source, depth + 1) for item in body)
    if tag == "__float__" and body in ("inf", "-inf", "nan"):
        return float(body)
    if tag == "__dict__" and isinstance(body, list):
        return _decode_dict(body, tensors, used, source, depth)
    raise ArchiveError(f"{source}: unexpected state value {value!r:.200}.")


def _decode_dict(pairs: list, tensors: dict, used: set, source: str, depth: int) -> dict:
    result = {}
    for pair in pairs:
        if (
            not isinstance(pair, list)
            or len(pair) != 2
            or not (pair[0] is None or isinstance(pair[0], (bool, int, str)))
            or pair[0] in result
        ):
            raise ArchiveError(f"{source}: malformed state dict entry {pair!r:.200}.")
        result[pair[0]] = _decode(pair[1], tensors, used, source, depth + 1)
    return result
