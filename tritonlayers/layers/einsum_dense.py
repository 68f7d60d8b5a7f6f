"""EinsumDense: a dense layer whose contraction is an einsum equation.

The equation has one of three forms: `ab,bc->ac` (every input axis named),
`...ab,bc->...ac` (leading axes elided) or `ab...,bc->ac...` (trailing axes elided). The
kernel's axes are those of the second operand; each one is sized from the output shape
when the output names it, else from the input.
"""

import re
from typing import NamedTuple

import torch

from .. import activations, constraints, initializers, regularizers
from .input_spec import InputSpec
from .layer import Layer

# (pattern, where the ellipsis sits) for the three supported equation forms.
_FORMS = (
    (re.compile(r"([a-zA-Z]+),([a-zA-Z]+)->([a-zA-Z]+)"), None),
    (re.compile(r"\.\.\.([a-zA-Z]+),([a-zA-Z]+)->\.\.\.([a-zA-Z]+)"), "left"),
    (re.compile(r"([a-zA-Z]{2,})\.\.\.,([a-zA-Z]+)->([a-zA-Z]+)\.\.\."), "right"),
)


class EinsumLayout(NamedTuple):
    """Shapes an einsum equation implies for one input shape."""

    kernel_shape: tuple
    bias_shape: "tuple | None"
    output_shape: tuple
    input_axes: tuple  # kernel axes that are contracted with (or taken from) the input
    output_axes: tuple  # kernel axes that appear in the output


def _parse(equation: str) -> "tuple[str, str, str, str | None]":
    """(input spec, weight spec, output spec, elided side) of a supported equation."""
    for pattern, elided_side in _FORMS:
        match = pattern.fullmatch(equation)
        if match:
            return (*match.groups(), elided_side)
    raise ValueError(
        f"Invalid einsum equation '{equation}'. Equations must be in the form "
        "[X],[Y]->[Z], ...[X],[Y]->...[Z], or [X]...,[Y]->[Z]...."
    )


def analyze_einsum(
    equation: str, bias_axes: "str | None", input_shape, partial_output
) -> EinsumLayout:
    """The kernel, bias and full output shapes of `EinsumDense(equation, partial_output)`.

    `partial_output` is the output shape without the batch axis and the elided axes; its
    None entries are taken from the input where the output shares the input's axis.

    Example:
    >>> analyze_einsum("...b,bc->...c", "c", (None, 7, 5), (3,)).kernel_shape
    (5, 3)
    """
    input_spec, weight_spec, output_spec, elided_side = _parse(equation)
    input_shape = tuple(input_shape)
    elided = len(input_shape) - len(input_spec)
    if elided < 0 or (elided_side is None and elided > 0):
        raise ValueError(
            f"EinsumDense: the equation '{equation}' names {len(input_spec)} input axes, but "
            f"the input has rank {len(input_shape)} (shape {input_shape})."
        )
    partial = [partial_output] if isinstance(partial_output, int) else list(partial_output)
    output_shape = [input_shape[0]]
    if elided_side == "left":
        output_shape += list(input_shape[1:elided])
    output_shape += partial
    if elided_side == "right" or (elided_side is None and elided > 0):
        output_shape += list(input_shape[len(input_shape) - elided :])
    offset = elided if elided_side == "left" else 0
    input_index = {dim: i + offset for i, dim in enumerate(input_spec)}
    output_index = {dim: i + offset for i, dim in enumerate(output_spec)}
    for dim, i in input_index.items():
        if dim in output_index:
            j = output_index[dim]
            if output_shape[j] is None:
                output_shape[j] = input_shape[i]
            elif input_shape[i] is not None and output_shape[j] != input_shape[i]:
                raise ValueError(
                    "Input shape and output shape do not match at shared dimension "
                    f"'{dim}'. Input shape is {input_shape[i]}, and output shape is "
                    f"{output_shape[j]}."
                )
    for dim in output_spec:
        if dim not in input_spec and dim not in weight_spec:
            raise ValueError(
                f"Dimension '{dim}' was specified in the output '{output_spec}' but has no "
                f"corresponding dim in the input spec '{input_spec}' or weight spec "
                f"'{weight_spec}'"
            )
    kernel_shape, input_axes, output_axes = [], [], []
    for axis, dim in enumerate(weight_spec):
        if dim in output_index:
            kernel_shape.append(output_shape[output_index[dim]])
            output_axes.append(axis)
        elif dim in input_index:
            kernel_shape.append(input_shape[input_index[dim]])
            input_axes.append(axis)
        else:
            raise ValueError(
                f"Weight dimension '{dim}' did not have a match in either the input spec "
                f"'{input_spec}' or the output spec '{output_spec}'. For this layer, the "
                "weight must be fully specified."
            )
    bias_shape = None
    if bias_axes is not None:
        for dim in bias_axes:
            if dim not in output_spec:
                raise ValueError(
                    f"Bias dimension '{dim}' was requested, but is not part of the output "
                    f"spec '{output_spec}'"
                )
        first = min(output_spec.find(dim) for dim in bias_axes)
        bias_shape = [
            output_shape[output_index[dim]] if dim in bias_axes else 1
            for dim in output_spec[first:]
        ]
        if elided_side != "left":
            bias_shape += [1] * elided
        bias_shape = tuple(bias_shape)
    return EinsumLayout(
        tuple(kernel_shape), bias_shape, tuple(output_shape), tuple(input_axes), tuple(output_axes)
    )


class EinsumDense(Layer):
    """A dense layer computing `activation(einsum(equation, inputs, kernel) + bias)`.

    Args:
        equation: `"ab,bc->ac"`, `"...ab,bc->...ac"` or `"ab...,bc->ac..."` style.
        output_shape: the output shape without the batch axis and the elided axes (an
            int for one axis); None entries are inferred from the input.
        activation: activation applied last (None: linear).
        bias_axes: the output axes (letters) that get a bias; None: no bias.
        kernel_initializer, bias_initializer, kernel_regularizer, bias_regularizer,
        kernel_constraint, bias_constraint: as in `Dense`. A variance-scaling initializer
        (glorot, he, lecun) counts the kernel's input axes as fan-in and its output axes
        as fan-out, as Keras does.

    Example:
    >>> import tritonlayers as keras
    >>> layer = keras.layers.EinsumDense("abc,cd->abd", output_shape=(None, 64), bias_axes="d")
    >>> tuple(layer(keras.ops.ones((2, 32, 128))).shape), tuple(layer.kernel.shape)
    ((2, 32, 64), (128, 64))
    """

    def __init__(
        self,
        equation: str,
        output_shape,
        activation=None,
        bias_axes: "str | None" = None,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        kernel_constraint=None,
        bias_constraint=None,
        **kwargs,
    ):
        if kwargs.get("quantization_config") is not None:
            raise ValueError(
                "EinsumDense: quantization is not supported. Received: "
                f"quantization_config={kwargs['quantization_config']}"
            )
        kwargs.pop("quantization_config", None)
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        if not isinstance(equation, str):
            raise ValueError(
                f"EinsumDense: `equation` must be a string such as 'ab,bc->ac'. Received: "
                f"equation={equation!r}"
            )
        self.equation = equation
        self.partial_output_shape = (
            (output_shape,) if isinstance(output_shape, int) else tuple(output_shape)
        )
        self.bias_axes = bias_axes
        self.activation = activations.get(activation)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)

    def _layout(self, input_shape) -> EinsumLayout:
        try:
            return analyze_einsum(
                self.equation, self.bias_axes, input_shape, self.partial_output_shape
            )
        except ValueError as error:
            raise ValueError(f'Layer "{self.name}" (EinsumDense): {error}') from error

    def build(self, input_shape):
        layout = self._layout(input_shape)
        if any(size is None for size in layout.kernel_shape):
            raise ValueError(
                f'Layer "{self.name}" (EinsumDense): the kernel shape {layout.kernel_shape} '
                f"has unknown sizes for input shape {tuple(input_shape)}; give them in "
                "`output_shape` or in the input shape."
            )
        self.input_spec = InputSpec(ndim=len(input_shape))
        self.kernel = self.add_weight(
            name="kernel",
            shape=layout.kernel_shape,
            initializer=self._kernel_initializer_for(layout),
            regularizer=self.kernel_regularizer,
            constraint=self.kernel_constraint,
        )
        self.bias = None
        if layout.bias_shape is not None:
            self.bias = self.add_weight(
                name="bias",
                shape=layout.bias_shape,
                initializer=self.bias_initializer,
                regularizer=self.bias_regularizer,
                constraint=self.bias_constraint,
            )

    def _kernel_initializer_for(self, layout: EinsumLayout):
        """A variance-scaling initializer sees the kernel as `(fan_in, fan_out)`: the
        draws are i.i.d., so drawing that matrix and reshaping it gives Keras's scale."""
        initializer = self.kernel_initializer
        if not isinstance(initializer, initializers.VarianceScaling):
            return initializer
        shape = layout.kernel_shape
        fan_in = int(torch.tensor([shape[a] for a in layout.input_axes]).prod())
        fan_out = int(torch.tensor([shape[a] for a in layout.output_axes]).prod())

        def initialize(shape, dtype=None):
            values = initializer((fan_in, fan_out), dtype=dtype)
            return torch.as_tensor(values).reshape(tuple(shape))

        return initialize

    def call(self, inputs):
        if not inputs.is_floating_point():
            inputs = inputs.to(self.kernel.dtype)
        outputs = torch.einsum(self.equation, inputs, self.kernel)
        if self.bias is not None:
            outputs = outputs + self.bias
        return self.activation(outputs)

    def compute_output_shape(self, input_shape):
        return self._layout(input_shape).output_shape

    def get_config(self):
        return {
            **super().get_config(),
            "output_shape": self.partial_output_shape,
            "equation": self.equation,
            "activation": activations.serialize(self.activation),
            "bias_axes": self.bias_axes,
            "kernel_initializer": initializers.serialize(self.kernel_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
            "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
            "bias_regularizer": regularizers.serialize(self.bias_regularizer),
            "activity_regularizer": regularizers.serialize(self.activity_regularizer),
            "kernel_constraint": constraints.serialize(self.kernel_constraint),
            "bias_constraint": constraints.serialize(self.bias_constraint),
            "quantization_config": None,
        }
