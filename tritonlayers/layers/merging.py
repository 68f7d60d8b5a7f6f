"""Merge layers: combine a list of tensors (Add, Subtract, Multiply, Average, Maximum,
Minimum, Concatenate, Dot) and their functional forms (`add`, `concatenate`, ...). The output
mask is the AND of the input masks.
"""

import functools

import torch
import torch.nn.functional as F

from .layer import Layer


def _broadcast_shapes(layer, shapes) -> tuple:
    """The broadcast of `shapes` (None = unknown size), or a ValueError naming the layer."""
    rank = max(len(s) for s in shapes)
    out = []
    for sizes in zip(*[(1,) * (rank - len(s)) + tuple(s) for s in shapes]):
        known = {size for size in sizes if size not in (None, 1)}
        if len(known) > 1:
            raise ValueError(
                f'Layer "{layer.name}": inputs have incompatible shapes. Received shapes '
                f"{[tuple(s) for s in shapes]}"
            )
        out.append(known.pop() if known else (None if None in sizes else 1))
    return tuple(out)


class _Merge(Layer):
    """Element-wise merge of a list of same-shaped (or broadcastable) tensors."""

    _MIN_INPUTS = 1

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def _check_inputs(self, inputs) -> list:
        if not isinstance(inputs, (list, tuple)) or len(inputs) < self._MIN_INPUTS:
            count = len(inputs) if isinstance(inputs, (list, tuple)) else "a non-list of"
            raise ValueError(
                f'A merge layer ("{self.name}") should be called on a list of at least '
                f"{self._MIN_INPUTS} inputs. Received {count} inputs."
            )
        return list(inputs)

    def build(self, input_shape):
        shapes = self._check_inputs(input_shape)
        _broadcast_shapes(self, shapes)

    def call(self, inputs):
        return self._merge(self._check_inputs(inputs))

    def compute_output_shape(self, input_shape):
        return _broadcast_shapes(self, self._check_inputs(input_shape))

    def compute_mask(self, inputs, mask=None):
        if mask is None:
            return None
        masks = [m for m in mask if m is not None]
        if not masks:
            return None
        return functools.reduce(torch.logical_and, masks)


class Add(_Merge):
    """Element-wise sum of its inputs.

    Example:
    >>> import tritonlayers as keras
    >>> keras.layers.Add()([keras.ops.ones((2,)), keras.ops.ones((2,))]).tolist()
    [2.0, 2.0]
    """

    def _merge(self, inputs):
        return functools.reduce(torch.add, inputs)


class Subtract(_Merge):
    """`inputs[0] - inputs[1]` (exactly two inputs).

    Example:
    >>> import tritonlayers as keras
    >>> keras.layers.Subtract()([keras.ops.ones((2,)), keras.ops.ones((2,))]).tolist()
    [0.0, 0.0]
    """

    _MIN_INPUTS = 2

    def _check_inputs(self, inputs):
        inputs = super()._check_inputs(inputs)
        if len(inputs) != 2:
            raise ValueError(
                f'A `Subtract` layer ("{self.name}") should be called on exactly 2 inputs. '
                f"Received: {len(inputs)} inputs."
            )
        return inputs

    def _merge(self, inputs):
        return inputs[0] - inputs[1]


class Multiply(_Merge):
    """Element-wise product of its inputs.

    Example:
    >>> import tritonlayers as keras
    >>> keras.layers.Multiply()([keras.ops.ones((2,)) * 2, keras.ops.ones((2,)) * 3]).tolist()
    [6.0, 6.0]
    """

    def _merge(self, inputs):
        return functools.reduce(torch.mul, inputs)


class Average(_Merge):
    """Element-wise mean of its inputs.

    Example:
    >>> import tritonlayers as keras
    >>> keras.layers.Average()([keras.ops.ones((2,)), keras.ops.zeros((2,))]).tolist()
    [0.5, 0.5]
    """

    def _merge(self, inputs):
        return functools.reduce(torch.add, inputs) / len(inputs)


class Maximum(_Merge):
    """Element-wise maximum of its inputs.

    Example:
    >>> import tritonlayers as keras
    >>> keras.layers.Maximum()([keras.ops.ones((2,)), keras.ops.zeros((2,))]).tolist()
    [1.0, 1.0]
    """

    def _merge(self, inputs):
        return functools.reduce(torch.maximum, inputs)


class Minimum(_Merge):
    """Element-wise minimum of its inputs.

    Example:
    >>> import tritonlayers as keras
    >>> keras.layers.Minimum()([keras.ops.ones((2,)), keras.ops.zeros((2,))]).tolist()
    [0.0, 0.0]
    """

    def _merge(self, inputs):
        return functools.reduce(torch.minimum, inputs)


class Concatenate(_Merge):
    """Concatenates its inputs along `axis` (all other axes must match).

    Example:
    >>> import tritonlayers as keras
    >>> tuple(keras.layers.Concatenate()([keras.ops.ones((2, 3)), keras.ops.ones((2, 4))]).shape)
    (2, 7)
    """

    def __init__(self, axis: int = -1, **kwargs):
        super().__init__(**kwargs)
        self.axis = axis

    def compute_output_shape(self, input_shape):
        shapes = [tuple(s) for s in self._check_inputs(input_shape)]
        rank = len(shapes[0])
        axis = self.axis % rank if rank else 0
        for shape in shapes:
            others = [s for i, s in enumerate(shape) if i != axis]
            reference = [s for i, s in enumerate(shapes[0]) if i != axis]
            if len(shape) != rank or any(
                a is not None and b is not None and a != b for a, b in zip(others, reference)
            ):
                raise ValueError(
                    "A `Concatenate` layer requires inputs with matching shapes except for the "
                    f"concatenation axis. Received: input_shape={shapes}"
                )
        sizes = [shape[axis] for shape in shapes]
        total = None if None in sizes else sum(sizes)
        return (*shapes[0][:axis], total, *shapes[0][axis + 1 :])

    def build(self, input_shape):
        self.compute_output_shape(input_shape)

    def _merge(self, inputs):
        return torch.cat(inputs, dim=self.axis)

    def compute_mask(self, inputs, mask=None):
        if mask is None or all(m is None for m in mask):
            return None
        masks = []
        for x, m in zip(inputs, mask):
            m = torch.ones(x.shape, dtype=torch.bool, device=x.device) if m is None else m
            while m.ndim < x.ndim:
                m = m.unsqueeze(-1)
            masks.append(m.expand(x.shape))
        return torch.any(torch.cat(masks, dim=self.axis), dim=-1)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}


class Dot(_Merge):
    """Batched dot product of two tensors over `axes` (cosine similarity if `normalize`).

    Example:
    >>> import tritonlayers as keras
    >>> keras.layers.Dot(axes=1)([keras.ops.ones((2, 3)), keras.ops.ones((2, 3))]).tolist()
    [[3.0], [3.0]]
    """

    _MIN_INPUTS = 2

    def __init__(self, axes, normalize: bool = False, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(axes, (int, list, tuple)) or (
            not isinstance(axes, int) and len(axes) != 2
        ):
            raise ValueError(
                "Invalid type/value for `axes` argument. Expected an int or a list/tuple of "
                f"2 ints. Received: axes={axes}"
            )
        self.axes = axes
        self.normalize = normalize
        self.supports_masking = False

    def _axes(self, ranks) -> list:
        """`axes` made non-negative for inputs of `ranks`; an axis past an input's last one
        is an error (it would silently wrap onto the batch axis)."""
        axes = [self.axes, self.axes] if isinstance(self.axes, int) else list(self.axes)
        for axis, rank in zip(axes, ranks):
            if not -rank <= axis < rank:
                raise ValueError(
                    f'Layer "{self.name}" (Dot): axes={self.axes} is out of range for inputs '
                    f"of ranks {tuple(ranks)}."
                )
        return [axis % rank for axis, rank in zip(axes, ranks)]

    def _check_inputs(self, inputs):
        inputs = super()._check_inputs(inputs)
        if len(inputs) != 2:
            raise ValueError(
                f'A `Dot` layer ("{self.name}") should be called on a list of 2 inputs. '
                f"Received: {len(inputs)} inputs."
            )
        return inputs

    def build(self, input_shape):
        x_shape, y_shape = self._check_inputs(input_shape)
        x_axis, y_axis = self._axes((len(x_shape), len(y_shape)))
        sizes = (x_shape[x_axis], y_shape[y_axis])
        if None not in sizes and sizes[0] != sizes[1]:
            raise ValueError(
                f'Layer "{self.name}": incompatible input shapes: axis values {sizes[0]} (at '
                f"axis {x_axis}) != {sizes[1]} (at axis {y_axis}). Full input shapes: "
                f"{tuple(x_shape)}, {tuple(y_shape)}"
            )

    def _merge(self, inputs):
        x, y = inputs
        x_axis, y_axis = self._axes((x.ndim, y.ndim))
        if self.normalize:
            x, y = F.normalize(x, dim=x_axis, eps=1e-12), F.normalize(y, dim=y_axis, eps=1e-12)
        x = torch.movedim(x, x_axis, -1)
        y = torch.movedim(y, y_axis, 1)
        x_rest, y_rest = x.shape[1:-1], y.shape[2:]
        product = torch.bmm(x.reshape(x.shape[0], -1, x.shape[-1]), y.reshape(*y.shape[:2], -1))
        out = product.reshape(x.shape[0], *x_rest, *y_rest)
        return out.unsqueeze(1) if out.ndim == 1 else out

    def compute_output_shape(self, input_shape):
        x_shape, y_shape = (tuple(s) for s in self._check_inputs(input_shape))
        x_axis, y_axis = self._axes((len(x_shape), len(y_shape)))
        rest = [s for i, s in enumerate(x_shape) if i != x_axis][1:]
        rest += [s for i, s in enumerate(y_shape) if i != y_axis][1:]
        return (x_shape[0], *rest) if rest else (x_shape[0], 1)

    def compute_mask(self, inputs, mask=None):
        return None

    def get_config(self):
        return {**super().get_config(), "axes": self.axes, "normalize": self.normalize}


def _merge_function(layer_class: type, name: str):
    """Keras's functional form of a merge layer: `name(inputs, **kwargs)` applies a new one."""

    def merge(inputs, **kwargs):
        return layer_class(**kwargs)(inputs)

    merge.__name__ = merge.__qualname__ = name
    merge.__doc__ = f"""Functional interface to the `{layer_class.__name__}` layer.

    Example:
    >>> import tritonlayers as keras
    >>> tuple(keras.layers.{name}([keras.ops.ones((2, 3)), keras.ops.ones((2, 3))]).shape)
    (2, 3)
    """
    return merge


add = _merge_function(Add, "add")
subtract = _merge_function(Subtract, "subtract")
multiply = _merge_function(Multiply, "multiply")
average = _merge_function(Average, "average")
maximum = _merge_function(Maximum, "maximum")
minimum = _merge_function(Minimum, "minimum")


def concatenate(inputs, axis: int = -1, **kwargs):
    """Functional interface to the `Concatenate` layer.

    Example:
    >>> import tritonlayers as keras
    >>> tuple(keras.layers.concatenate([keras.ops.ones((2, 3)), keras.ops.ones((2, 4))]).shape)
    (2, 7)
    """
    return Concatenate(axis=axis, **kwargs)(inputs)


def dot(inputs, axes=-1, normalize: bool = False, **kwargs):
    """Functional interface to the `Dot` layer.

    Example:
    >>> import tritonlayers as keras
    >>> keras.layers.dot([keras.ops.ones((2, 3)), keras.ops.ones((2, 3))], axes=1).tolist()
    [[3.0], [3.0]]
    """
    return Dot(axes=axes, normalize=normalize, **kwargs)(inputs)
