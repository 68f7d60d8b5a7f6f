"""Argument checks shared by the built-in layers: tuples, data formats, "same" padding; and
the order of their config keys."""

from collections.abc import Sequence

import torch
import torch.nn.functional as F

from .. import config


def in_keras_order(config: dict, keys: tuple) -> dict:
    """`config` with `keys` moved after the base layer keys, in the order Keras lists them
    (a saved config.json and a printed config read the same as Keras's).

    Example:
    >>> in_keras_order({"name": "n", "b": 2, "a": 1}, ("a", "b"))
    {'name': 'n', 'a': 1, 'b': 2}
    """
    own = {key: config.pop(key) for key in keys}
    return {**config, **own}


def check_not_quantized(layer: str, quantization_config) -> None:
    """Accept Keras's `quantization_config=None` (its configs list it); refuse any other
    value, as these layers do not quantize.

    Example:
    >>> check_not_quantized("Dense", None)
    """
    if quantization_config is not None:
        raise ValueError(
            f"{layer}: quantization is not supported. Received: "
            f"quantization_config={quantization_config}"
        )


def standardize_tuple(value: "int | Sequence[int]", n: int, name: str) -> tuple:
    """`value` as a tuple of `n` positive ints (an int is repeated), as Keras accepts them.

    Example:
    >>> standardize_tuple(3, 2, "kernel_size")
    (3, 3)
    """
    values = (value,) * n if isinstance(value, int) else tuple(value)
    message = f"The `{name}` argument must be a tuple of {n} integers. Received {name}={value}"
    if len(values) != n or not all(isinstance(v, int) for v in values):
        raise ValueError(message)
    if not_positive := {v for v in values if v <= 0}:
        raise ValueError(
            f"{message}, including values {not_positive} that do not satisfy `value > 0`"
        )
    return values


def standardize_data_format(data_format: "str | None") -> str:
    """`data_format`, or the global `image_data_format()` when None, checked."""
    data_format = config.image_data_format() if data_format is None else data_format.lower()
    if data_format not in ("channels_last", "channels_first"):
        raise ValueError(
            "The `data_format` argument must be one of {'channels_first', 'channels_last'}. "
            f"Received: data_format={data_format}"
        )
    return data_format


def standardize_padding(padding: str, allow_causal: bool = False) -> str:
    """`padding` lower-cased and checked ("valid", "same", and "causal" when allowed)."""
    allowed = ("valid", "same", "causal") if allow_causal else ("valid", "same")
    padding = padding.lower()
    if padding not in allowed:
        raise ValueError(f"The `padding` argument must be one of {allowed}. Received: {padding}")
    return padding


def to_channels_first(x: torch.Tensor, data_format: str) -> torch.Tensor:
    """Move the channel axis of `x` to position 1 (no-op for channels_first)."""
    return x if data_format == "channels_first" else torch.movedim(x, -1, 1)


def from_channels_first(x: torch.Tensor, data_format: str) -> torch.Tensor:
    """Undo `to_channels_first`."""
    return x if data_format == "channels_first" else torch.movedim(x, 1, -1)


def same_padding(length: int, window: int, stride: int, dilation: int = 1) -> tuple:
    """(before, after) padding so that a strided window gives ceil(length / stride) outputs.

    The extra element, if any, goes after, as in TensorFlow and Keras.
    """
    effective = (window - 1) * dilation + 1
    total = max((-(-length // stride) - 1) * stride + effective - length, 0)
    return total // 2, total - total // 2


def pad_spatial(x: torch.Tensor, pads: "list[tuple]", value: float = 0.0) -> torch.Tensor:
    """Pad the trailing spatial axes of a channels_first `x` by per-axis (before, after)."""
    flat = [p for before_after in reversed(pads) for p in before_after]
    return F.pad(x, flat, value=value) if any(flat) else x


def conv_output_length(
    length: "int | None", window: int, padding: str, stride: int, dilation: int = 1
) -> "int | None":
    """Output length of a convolution or pooling window along one axis (None stays None)."""
    if length is None:
        return None
    if padding in ("same", "causal"):
        return -(-length // stride)
    return (length - ((window - 1) * dilation + 1)) // stride + 1
