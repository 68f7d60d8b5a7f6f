"""``keras.ops.rearrange``: einops-style reshape and transpose in one pattern.

A pattern ``"b (h p) w c -> b h (p w c)"`` names each input axis; parentheses on the left
split an axis into named parts (sizes from ``axes_lengths``, one part may be inferred), on
the right they merge axes into one. Every input name must appear once on the right.

Example:
>>> import tritonlayers as keras
>>> x = keras.ops.zeros((2, 6, 4))
>>> tuple(keras.ops.rearrange(x, "b (h p) w -> b h (p w)", p=3).shape)
(2, 2, 12)
"""

import math
import re
from typing import Any

import torch

from ._utils import tensor as as_tensor

_TOKEN = re.compile(r"\(([^()]*)\)|([A-Za-z_]\w*)|(\S)")


def _groups(side: str, pattern: str) -> "list[list[str]]":
    """Each axis of one side of the pattern as the list of names it is made of."""
    groups = []
    for group, name, other in _TOKEN.findall(side):
        if other:
            raise ValueError(
                f"rearrange: unexpected {other!r} in pattern {pattern!r}; use axis names, "
                "parentheses and one '->'."
            )
        names = group.split() if group or not name else [name]
        for part in names:
            if not re.fullmatch(r"[A-Za-z_]\w*", part):
                raise ValueError(f"rearrange: invalid axis name {part!r} in pattern {pattern!r}.")
        groups.append(names)
    return groups


def _part_sizes(groups, shape, axes_lengths: dict, pattern: str) -> dict:
    """The size of every input name, from the input's shape and ``axes_lengths``."""
    sizes = {}
    for names, size in zip(groups, shape):
        if len(names) == 1 and names[0] not in axes_lengths:
            sizes[names[0]] = size
            continue
        unknown = [n for n in names if n not in axes_lengths]
        if len(unknown) > 1:
            raise ValueError(
                f"rearrange: cannot infer the sizes of {unknown} in pattern {pattern!r}; "
                "pass all but one of them as keyword arguments."
            )
        known = math.prod(int(axes_lengths[n]) for n in names if n in axes_lengths)
        if unknown:
            if known == 0 or size % known:
                raise ValueError(
                    f"rearrange: an axis of size {size} cannot be split into "
                    f"({' '.join(names)}) with the given lengths {dict(axes_lengths)}."
                )
            sizes[unknown[0]] = size // known
        elif known != size:
            raise ValueError(
                f"rearrange: axis ({' '.join(names)}) has size {size}, but the given lengths "
                f"multiply to {known}."
            )
        sizes.update({n: int(axes_lengths[n]) for n in names if n in axes_lengths})
    return sizes


def rearrange(tensor: Any, pattern: str, **axes_lengths: int) -> torch.Tensor:
    """Reorder, split and merge the axes of ``tensor`` as ``pattern`` says.

    Example:
    >>> import tritonlayers as keras
    >>> images = keras.ops.zeros((4, 8, 10, 3))
    >>> tuple(keras.ops.rearrange(images, "b h w c -> b c h w").shape)
    (4, 3, 8, 10)
    """
    x = as_tensor(tensor)
    if not isinstance(pattern, str) or pattern.count("->") != 1:
        raise ValueError(
            f"rearrange: the pattern must have the form 'inputs -> outputs'. Received: {pattern!r}"
        )
    left, right = pattern.split("->")
    inputs, outputs = _groups(left, pattern), _groups(right, pattern)
    if len(inputs) != x.ndim:
        raise ValueError(
            f"rearrange: pattern {pattern!r} names {len(inputs)} input axes, but the tensor has "
            f"rank {x.ndim} (shape {tuple(x.shape)})."
        )
    input_names = [n for names in inputs for n in names]
    output_names = [n for names in outputs for n in names]
    for side, names in (("input", input_names), ("output", output_names)):
        if len(set(names)) != len(names):
            raise ValueError(f"rearrange: an {side} axis name repeats in pattern {pattern!r}.")
    if set(input_names) != set(output_names):
        raise ValueError(
            f"rearrange: the input axes {sorted(set(input_names))} and output axes "
            f"{sorted(set(output_names))} of pattern {pattern!r} differ."
        )
    sizes = _part_sizes(inputs, x.shape, axes_lengths, pattern)
    x = x.reshape([sizes[n] for n in input_names])
    x = x.permute([input_names.index(n) for n in output_names])
    return x.reshape([math.prod(sizes[n] for n in names) for names in outputs])
