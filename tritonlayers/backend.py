"""`keras.backend`: the backend name, float defaults, `clear_session`, dtype names and Keras's
type promotion rules, as Keras 3 exposes them.

Example:
>>> import tritonlayers as keras
>>> keras.backend.backend(), keras.backend.floatx()
('torch', 'float32')
>>> keras.backend.result_type("int32", "float16")
'float16'
"""

import functools
from typing import Any

from . import config
from .config import (
    backend,
    epsilon,
    floatx,
    image_data_format,
    set_epsilon,
    set_floatx,
    set_image_data_format,
)
from .layers import naming
from .layers.symbolic import is_keras_tensor
from .utils import clear_session

__all__ = [
    "backend",
    "clear_session",
    "epsilon",
    "floatx",
    "get_uid",
    "image_data_format",
    "is_float_dtype",
    "is_int_dtype",
    "is_keras_tensor",
    "result_type",
    "set_epsilon",
    "set_floatx",
    "set_image_data_format",
    "standardize_dtype",
]


_INT_TYPES = ("uint8", "uint16", "uint32", "uint64", "int8", "int16", "int32", "int64")
_FLOAT_TYPES = ("bfloat16", "float16", "float32", "float64")
_FLOAT8_TYPES = ("float8_e4m3fn", "float8_e5m2")
_COMPLEX_TYPES = ("complex64", "complex128")
ALLOWED_DTYPES = (*_FLOAT_TYPES, *_INT_TYPES, "bool", "string", *_FLOAT8_TYPES, *_COMPLEX_TYPES)
# Python scalar types, and the name "int", as the torch backend of Keras reads them.
_PYTHON_DTYPES = {
    bool: "bool",
    int: "int32",
    float: "float32",
    str: "string",
    complex: "complex64",
    "int": "int32",
}


def standardize_dtype(dtype: Any = None) -> str:
    """The Keras name of a dtype given as a name, a Python type, a torch or a NumPy dtype.

    None means `floatx()`; Python's `int` is "int32" and `float` is "float32" (Keras's
    rules for the torch backend).

    Example:
    >>> import torch
    >>> standardize_dtype(int), standardize_dtype(torch.bfloat16), standardize_dtype(None)
    ('int32', 'bfloat16', 'float32')
    """
    if dtype is None:
        return config.floatx()
    name = _PYTHON_DTYPES.get(dtype, dtype) if _hashable(dtype) else dtype
    if hasattr(name, "name") and isinstance(name.name, str):
        name = name.name
    elif hasattr(name, "__name__"):
        name = name.__name__
    elif "torch." in str(name):
        name = str(name).split(".")[-1]
    if not isinstance(name, str) or name not in ALLOWED_DTYPES:
        raise ValueError(f"Invalid dtype: {dtype}")
    return name


def _hashable(value: Any) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True


def is_float_dtype(dtype: Any) -> bool:
    """Whether `dtype` is a floating point type (bfloat16 and float8 types included).

    Example:
    >>> is_float_dtype("bfloat16"), is_float_dtype("int8"), is_float_dtype(float)
    (True, False, True)
    """
    name = standardize_dtype(dtype)
    return name.startswith(("float", "bfloat"))


def is_int_dtype(dtype: Any) -> bool:
    """Whether `dtype` is a signed or unsigned integer type ("bool" is not).

    Example:
    >>> is_int_dtype("uint8"), is_int_dtype("bool"), is_int_dtype(int)
    (True, False, True)
    """
    name = standardize_dtype(dtype)
    return name.startswith(("int", "uint"))


# Keras's type promotion lattice (adapted by Keras from JAX): each type points to the types
# just above it. "int" and "float" are the weak types of Python scalars, which take the
# other operand's type instead of widening it.
_LATTICE = {
    "bool": ("int",),
    "uint8": ("int16", "uint16"),
    "uint16": ("int32", "uint32"),
    "uint32": ("int64", "uint64"),
    "uint64": ("float",),
    "int": ("uint8", "int8", "complex64"),
    "int8": ("int16",),
    "int16": ("int32",),
    "int32": ("int64",),
    "int64": ("float",),
    "float": ("bfloat16", "float16"),
    "bfloat16": ("float32",),
    "float16": ("float32",),
    "float32": ("float64", "complex64"),
    "float64": ("complex128",),
    "complex64": ("complex128",),
    "complex128": (),
}
# The torch backend of Keras narrows 64-bit results to 32 bits.
_NARROWED = {"int64": "int32", "uint64": "uint32", "float64": "float32", "complex128": "complex64"}


def _upper_bounds() -> "dict[str, frozenset]":
    """Each lattice type with every type reachable above it (itself included)."""
    bounds = {}
    for start in _LATTICE:
        seen, pending = {start}, [start]
        while pending:
            for higher in _LATTICE[pending.pop()]:
                if higher not in seen:
                    seen.add(higher)
                    pending.append(higher)
        bounds[start] = frozenset(seen)
    return bounds


_UPPER_BOUNDS = _upper_bounds()


@functools.lru_cache(maxsize=512)
def _least_upper_bound(*types: str) -> str:
    unknown = [t for t in types if t not in _UPPER_BOUNDS]
    if unknown:
        raise ValueError(f"dtype={unknown[0]!r} is not a valid dtype for Keras type promotion.")
    common = frozenset.intersection(*(_UPPER_BOUNDS[t] for t in types))
    lowest = [t for t in common if common <= _UPPER_BOUNDS[t]]
    if len(lowest) != 1:
        raise ValueError(
            f"Input dtypes {types} have no available implicit dtype promotion path. Try "
            "explicitly casting inputs to the desired output type."
        )
    return lowest[0]


def _weak_kind(name: str) -> str:
    if name == "bool":
        return name
    for kind in ("complex", "float", "int"):
        if kind in name:
            return kind
    raise ValueError(f"Invalid value for argument `dtype`. Received: dtype={name}")


def result_type(*dtypes: Any) -> str:
    """The dtype Keras's promotion rules give to an operation on values of `dtypes`.

    Python `int`/`float` are weak (they adopt the other operand's type); a weak result takes
    the precision of `floatx()`; 64-bit results are narrowed to 32 bits, as the torch
    backend of Keras does. No arguments gives `floatx()`.

    Example:
    >>> result_type("bfloat16", int), result_type("uint8", "int8"), result_type("int32", float)
    ('bfloat16', 'int16', 'float32')
    """
    if not dtypes:
        return config.floatx()
    for dtype in dtypes:
        if isinstance(dtype, str) and dtype in _FLOAT8_TYPES:
            raise ValueError(
                "There is no implicit conversions from float8 dtypes to others. You must cast "
                f"it internally. Received: {dtypes}"
            )
    names = [standardize_dtype(config.floatx() if d is None else d) for d in dtypes]
    weak = [d is int or d is float for d in dtypes]
    if len(names) == 1:
        out, out_weak = names[0], weak[0]
    elif len(set(names)) == 1 and not all(weak):
        out, out_weak = names[0], False
    elif all(weak):
        out, out_weak = _least_upper_bound(*sorted(set(names))), True
    else:
        kinds = {_weak_kind(n) if w else n for n, w in zip(names, weak)}
        out = _least_upper_bound(*sorted(kinds))
        out_weak = out in ("int", "float")
    if out_weak and out != "bool":
        precision = config.floatx()[-2:]
        kind = {"i": "int", "u": "uint"}.get(out[0], "float")
        out = f"{kind}{precision}"
    return _NARROWED.get(out, out)


def get_uid(prefix: str = "") -> int:
    """A counter per `prefix`: 1 on the first call, then 2, 3, ... (reset by `clear_session`).

    It is the counter behind automatic layer names, so after one `Dense` layer exists,
    `get_uid("dense")` returns 2, as in Keras.

    Example:
    >>> import tritonlayers as keras
    >>> keras.utils.clear_session()
    >>> keras.backend.get_uid("block"), keras.backend.get_uid("block")
    (1, 2)
    """
    uid = naming._uids.get(prefix, 0) + 1
    naming._uids[prefix] = uid
    return uid
