"""InputSpec: what a layer accepts as its first input (rank, dtype, sizes on given axes).

`Layer.__call__` checks the first positional input against `layer.input_spec` and raises a
ValueError naming the layer with the expected and the received value.

Example:
>>> import torch
>>> from tritonlayers.layers.input_spec import InputSpec, assert_input_compatibility
>>> spec = InputSpec(min_ndim=2, axes={-1: 4})
>>> assert_input_compatibility(spec, torch.zeros(3, 4), "dense")
"""

from typing import Any

from ..dtype_policies import standardize_dtype


class InputSpec:
    """Constraints on a layer input: `ndim`, `min_ndim`, `max_ndim`, `axes`, `shape`, `dtype`.

    Args:
        dtype: expected dtype name (None: any).
        shape: expected shape; None entries match any size.
        ndim, min_ndim, max_ndim: expected rank bounds.
        axes: {axis: size} that must hold (negative axes count from the end).
        allow_last_axis_squeeze: accept a rank one larger whose last axis has size 1.
        name: optional name, for messages.

    Example:
    >>> InputSpec(ndim=2, axes={-1: 8}).axes
    {-1: 8}
    """

    def __init__(
        self,
        dtype: Any = None,
        shape: "tuple | None" = None,
        ndim: "int | None" = None,
        max_ndim: "int | None" = None,
        min_ndim: "int | None" = None,
        axes: "dict[int, int] | None" = None,
        allow_last_axis_squeeze: bool = False,
        name: "str | None" = None,
    ):
        self.dtype = standardize_dtype(dtype) if dtype is not None else None
        self.shape = tuple(shape) if shape is not None else None
        self.ndim = len(self.shape) if self.shape is not None else ndim
        self.max_ndim = max_ndim
        self.min_ndim = min_ndim
        self.allow_last_axis_squeeze = allow_last_axis_squeeze
        self.name = name
        self.axes = {int(k): v for k, v in (axes or {}).items()}
        if self.axes and (self.ndim is not None or self.max_ndim is not None):
            max_dim = (self.ndim if self.ndim is not None else self.max_ndim) - 1
            if max(self.axes) > max_dim:
                raise ValueError(
                    f"Axis {max(self.axes)} is greater than the maximum allowed value: {max_dim}"
                )

    def __repr__(self) -> str:
        fields = ("dtype", "shape", "ndim", "max_ndim", "min_ndim", "axes")
        parts = [f"{f}={getattr(self, f)}" for f in fields if getattr(self, f) not in (None, {})]
        return f"InputSpec({', '.join(parts)})"

    def get_config(self) -> dict:
        return {
            "dtype": self.dtype,
            "shape": self.shape,
            "ndim": self.ndim,
            "max_ndim": self.max_ndim,
            "min_ndim": self.min_ndim,
            "axes": self.axes,
        }

    @classmethod
    def from_config(cls, config: dict) -> "InputSpec":
        return cls(**config)


def assert_input_compatibility(input_spec: Any, inputs: Any, layer_name: str) -> None:
    """Raise a ValueError naming `layer_name` when `inputs` break `input_spec`.

    `input_spec` is one InputSpec for the first input, or a list of them for a list of
    inputs (one per input, None for "anything").

    Example:
    >>> import torch
    >>> spec = InputSpec(ndim=3)
    >>> assert_input_compatibility(spec, torch.zeros(2, 2), "conv")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: Input 0 with name 'None' of layer 'conv' is incompatible with the layer: ...
    """
    if input_spec is None:
        return
    if isinstance(input_spec, (list, tuple)):
        tensors = list(inputs) if isinstance(inputs, (list, tuple)) else [inputs]
        if len(tensors) != len(input_spec):
            raise ValueError(
                f"Layer '{layer_name}' expects {len(input_spec)} input(s), but it received "
                f"{len(tensors)} input tensors."
            )
        for index, (spec, tensor) in enumerate(zip(input_spec, tensors)):
            _check_one(spec, tensor, layer_name, index)
        return
    _check_one(input_spec, inputs, layer_name, 0)


def _check_one(spec: "InputSpec | None", inputs: Any, layer_name: str, index: int) -> None:
    if spec is None or inputs is None or not hasattr(inputs, "shape"):
        return
    shape = tuple(inputs.shape)
    ndim = len(shape)
    prefix = (
        f"Input {index} with name '{spec.name}' of layer '{layer_name}' is incompatible with "
        "the layer:"
    )
    if spec.ndim is not None and ndim != spec.ndim and not _squeezes_to(spec, shape):
        raise ValueError(
            f"{prefix} expected ndim={spec.ndim}, found ndim={ndim}. Full shape received: {shape}"
        )
    if spec.max_ndim is not None and ndim > spec.max_ndim:
        raise ValueError(f"{prefix} expected max_ndim={spec.max_ndim}, found ndim={ndim}")
    if spec.min_ndim is not None and ndim < spec.min_ndim:
        raise ValueError(
            f"{prefix} expected min_ndim={spec.min_ndim}, found ndim={ndim}. "
            f"Full shape received: {shape}"
        )
    if spec.dtype is not None and standardize_dtype(inputs.dtype) != spec.dtype:
        raise ValueError(
            f"{prefix} expected dtype={spec.dtype}, found dtype={standardize_dtype(inputs.dtype)}"
        )
    for axis, size in spec.axes.items():
        if size is None or -ndim > axis or axis >= ndim:
            continue
        if shape[axis] not in (size, None):
            raise ValueError(
                f"{prefix} expected axis {axis} of input shape to have value {size}, but "
                f"received input with shape {shape}"
            )
    if spec.shape is not None and len(spec.shape) == ndim:
        for expected, found in zip(spec.shape, shape):
            if expected is not None and found is not None and expected != found:
                raise ValueError(f"{prefix} expected shape={spec.shape}, found shape={shape}")


def _squeezes_to(spec: InputSpec, shape: tuple) -> bool:
    """With `allow_last_axis_squeeze`, a trailing axis of size 1 may be added or dropped."""
    if not spec.allow_last_axis_squeeze:
        return False
    if len(shape) == spec.ndim + 1:
        return shape[-1] == 1
    return len(shape) == spec.ndim - 1
