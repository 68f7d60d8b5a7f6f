"""Dtype policies: the dtype a layer computes in and the dtype its variables are stored in.

"float32" computes and stores in float32; "mixed_float16" / "mixed_bfloat16" compute in the
16-bit type while the variables stay float32 (the layer casts float inputs and autocasts its
variables' values inside `call`). Set one per layer with `dtype=` or for every new layer with
`config.set_dtype_policy`.

Example:
>>> import tritonlayers as keras
>>> policy = keras.dtype_policies.DTypePolicy("mixed_bfloat16")
>>> policy.compute_dtype, policy.variable_dtype
('bfloat16', 'float32')
"""

from typing import Any

import numpy as np
import torch

from . import config

__all__ = [
    "DTypePolicy",
    "FloatDTypePolicy",
    "deserialize",
    "dtype_policy",
    "get",
    "serialize",
    "set_dtype_policy",
    "standardize_dtype",
    "to_torch_dtype",
]

_TORCH_DTYPES = {
    "float16": torch.float16,
    "bfloat16": torch.bfloat16,
    "float32": torch.float32,
    "float64": torch.float64,
    "uint8": torch.uint8,
    "int8": torch.int8,
    "int16": torch.int16,
    "int32": torch.int32,
    "int64": torch.int64,
    "bool": torch.bool,
    "complex64": torch.complex64,
    "complex128": torch.complex128,
}
_NAMES_OF_TORCH_DTYPES = {dtype: name for name, dtype in _TORCH_DTYPES.items()}
_ALIASES = {"float": "float32", "double": "float64", "half": "float16", "int": "int64"}
_MIXED = {"mixed_float16": "float16", "mixed_bfloat16": "bfloat16"}


def standardize_dtype(dtype: Any = None) -> str:
    """The Keras name ("float32", "int64", ...) of a dtype given as a name, torch or numpy dtype.

    None means `config.floatx()`.

    Example:
    >>> import torch
    >>> standardize_dtype(torch.bfloat16), standardize_dtype("float"), standardize_dtype(None)
    ('bfloat16', 'float32', 'float32')
    """
    if dtype is None:
        return config.floatx()
    if isinstance(dtype, torch.dtype):
        name = _NAMES_OF_TORCH_DTYPES.get(dtype)
    elif isinstance(dtype, str):
        name = _ALIASES.get(dtype, dtype)
        name = name if name in _TORCH_DTYPES else None
    else:
        try:
            name = np.dtype(dtype).name
        except TypeError:
            name = None
        name = name if name in _TORCH_DTYPES else None
    if name is None:
        raise ValueError(f"Invalid dtype: {dtype!r}. Expected one of {sorted(_TORCH_DTYPES)}.")
    return name


def to_torch_dtype(dtype: Any) -> torch.dtype:
    """The torch dtype for a Keras dtype name (or anything `standardize_dtype` accepts).

    Example:
    >>> to_torch_dtype("bfloat16")
    torch.bfloat16
    """
    if isinstance(dtype, torch.dtype):
        return dtype
    return _TORCH_DTYPES[standardize_dtype(dtype)]


class DTypePolicy:
    """A dtype policy: `compute_dtype` for the math, `variable_dtype` for the weights.

    Args:
        name: "float32", "float16", "bfloat16", "float64", "mixed_float16",
            "mixed_bfloat16", or any other dtype name; None means `config.floatx()`.

    Example:
    >>> policy = DTypePolicy("mixed_float16")
    >>> policy.name, policy.compute_dtype, policy.variable_dtype
    ('mixed_float16', 'float16', 'float32')
    """

    def __init__(self, name: "str | None" = None):
        if name is None:
            name = config.floatx()
        if not isinstance(name, str):
            raise TypeError(
                f"'name' must be a string, such as 'mixed_float16'. Received: name={name} "
                f"(of type {type(name)})"
            )
        self._name = name
        self._compute_dtype, self._variable_dtype = _parse_policy_name(name)
        self._torch_compute_dtype = _TORCH_DTYPES[self._compute_dtype]
        self._torch_variable_dtype = _TORCH_DTYPES[self._variable_dtype]

    @property
    def name(self) -> str:
        """The policy's name, e.g. "mixed_float16"."""
        return self._name

    @property
    def compute_dtype(self) -> str:
        """The dtype of the layer's computations, e.g. "float16"."""
        return self._compute_dtype

    @property
    def variable_dtype(self) -> str:
        """The dtype the layer's variables are created in, e.g. "float32"."""
        return self._variable_dtype

    @property
    def torch_compute_dtype(self) -> torch.dtype:
        """`compute_dtype` as a torch dtype."""
        return self._torch_compute_dtype

    @property
    def torch_variable_dtype(self) -> torch.dtype:
        """`variable_dtype` as a torch dtype."""
        return self._torch_variable_dtype

    @property
    def is_mixed(self) -> bool:
        """True when the compute and variable dtypes differ."""
        return self._compute_dtype != self._variable_dtype

    @property
    def quantization_mode(self) -> None:
        """Keras's quantization mode; tritonlayers has no quantized policies."""
        return None

    def get_config(self) -> dict:
        return {"name": self._name}

    @classmethod
    def from_config(cls, config: dict) -> "DTypePolicy":
        return cls(**config)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, DTypePolicy) and other.name == self.name

    def __hash__(self) -> int:
        return hash(self._name)

    def __repr__(self) -> str:
        return f'<DTypePolicy "{self._name}">'


FloatDTypePolicy = DTypePolicy


def _parse_policy_name(name: str) -> "tuple[str, str]":
    if name in _MIXED:
        return _MIXED[name], "float32"
    try:
        dtype = standardize_dtype(name)
    except ValueError:
        raise ValueError(
            f"Cannot convert '{name}' to a mixed precision DTypePolicy. Valid policies include "
            "'mixed_float16', 'mixed_bfloat16', and the name of any float dtype such as "
            "'float32'."
        ) from None
    return dtype, dtype


_global_policy: "list[DTypePolicy | None]" = [None]


def dtype_policy() -> DTypePolicy:
    """The global policy new layers get when they are given no `dtype`.

    Example:
    >>> dtype_policy()
    <DTypePolicy "float32">
    """
    policy = _global_policy[0]
    if policy is None:
        return DTypePolicy(config.floatx())
    return policy


def set_dtype_policy(policy: "str | DTypePolicy | None") -> None:
    """Set the global policy (a name or a DTypePolicy); None restores the floatx default.

    Example:
    >>> set_dtype_policy("mixed_bfloat16")
    >>> dtype_policy().compute_dtype
    'bfloat16'
    >>> set_dtype_policy(None)
    """
    _global_policy[0] = None if policy is None else get(policy)


def get(identifier: Any) -> DTypePolicy:
    """A DTypePolicy from a name, a policy, a torch dtype, or a serialized policy dict.

    None gives the global policy.

    Example:
    >>> get("bfloat16").compute_dtype
    'bfloat16'
    """
    if identifier is None:
        return dtype_policy()
    if isinstance(identifier, DTypePolicy):
        return identifier
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, str):
        return DTypePolicy(identifier)
    try:
        return DTypePolicy(standardize_dtype(identifier))
    except ValueError:
        raise ValueError(
            "Cannot interpret `dtype` argument. Expected a string, a DTypePolicy or a dtype. "
            f"Received: dtype={identifier!r}"
        ) from None


def serialize(policy: DTypePolicy) -> dict:
    """The Keras 3 config dict of a policy (module "keras", as Keras writes it).

    Example:
    >>> serialize(DTypePolicy("float32"))["config"]
    {'name': 'float32'}
    """
    return {
        "module": "keras",
        "class_name": "DTypePolicy",
        "config": policy.get_config(),
        "registered_name": None,
    }


def deserialize(config: dict) -> DTypePolicy:
    """The policy a `serialize` dict (ours or Keras's) describes.

    Example:
    >>> deserialize(serialize(DTypePolicy("mixed_float16"))).name
    'mixed_float16'
    """
    class_name = config.get("class_name")
    if class_name not in ("DTypePolicy", "FloatDTypePolicy"):
        raise ValueError(
            "Cannot deserialize a dtype policy: expected class_name 'DTypePolicy' or "
            f"'FloatDTypePolicy'. Received: {config!r}"
        )
    return DTypePolicy.from_config(config.get("config", {}))
