"""Recurrent cells: SimpleRNNCell, LSTMCell, GRUCell (one timestep each), StackedRNNCells.

Keras 3 weights and gate orders: LSTM (i, f, c, o) with `unit_forget_bias`; GRU (z, r, h)
with `reset_after=True` and a `(2, 3 * units)` bias by default. Each cell splits its work in
two: `project` computes `inputs @ kernel + bias` (for all timesteps at once when `RNN` runs
it, as one `kernels.fused_linear` matmul), and `recur` does the per-step recurrent part.
Dropout masks are drawn once per sequence and reused at every timestep.
"""

import torch

from .. import activations, constraints, initializers, kernels, random, regularizers
from ..dtype_policies import to_torch_dtype
from ..saving.serialization_lib import deserialize_keras_object, serialize_keras_object
from ._arguments import in_keras_order
from .layer import Layer


def _dropout_mask(like: torch.Tensor, rate: float, seed_generator) -> torch.Tensor:
    """A `like`-shaped keep mask scaled by 1 / (1 - rate) (0 where dropped)."""
    return kernels.dropout(torch.ones_like(like), rate, seed_generator.next())


def set_cell_options(
    cell: Layer,
    *,
    use_bias: bool,
    kernel_initializer,
    recurrent_initializer,
    bias_initializer,
    kernel_regularizer,
    recurrent_regularizer,
    bias_regularizer,
    kernel_constraint,
    recurrent_constraint,
    bias_constraint,
    dropout: float,
    recurrent_dropout: float,
    seed,
) -> None:
    """Give a recurrent cell its weight options (resolved from names), its dropout rates
    (clipped to [0, 1]) and the seed generator of its dropout masks."""
    cell.use_bias = use_bias
    cell.kernel_initializer = initializers.get(kernel_initializer)
    cell.recurrent_initializer = initializers.get(recurrent_initializer)
    cell.bias_initializer = initializers.get(bias_initializer)
    cell.kernel_regularizer = regularizers.get(kernel_regularizer)
    cell.recurrent_regularizer = regularizers.get(recurrent_regularizer)
    cell.bias_regularizer = regularizers.get(bias_regularizer)
    cell.kernel_constraint = constraints.get(kernel_constraint)
    cell.recurrent_constraint = constraints.get(recurrent_constraint)
    cell.bias_constraint = constraints.get(bias_constraint)
    cell.dropout = min(1.0, max(0.0, dropout))
    cell.recurrent_dropout = min(1.0, max(0.0, recurrent_dropout))
    cell.seed = seed
    cell.seed_generator = random.SeedGenerator(seed)


# The cells' arguments in the order Keras lists them in their configs.
_CELL_KEYS = (
    "units",
    "activation",
    "use_bias",
    "kernel_initializer",
    "recurrent_initializer",
    "bias_initializer",
    "kernel_regularizer",
    "recurrent_regularizer",
    "bias_regularizer",
    "kernel_constraint",
    "recurrent_constraint",
    "bias_constraint",
    "dropout",
    "recurrent_dropout",
    "seed",
)
_LSTM_CELL_KEYS = (
    "units",
    "activation",
    "recurrent_activation",
    "use_bias",
    "unit_forget_bias",
    *_CELL_KEYS[3:],
)
_GRU_CELL_KEYS = (
    "units",
    "activation",
    "recurrent_activation",
    *_CELL_KEYS[2:-1],
    "reset_after",
    "seed",
)


class _Cell(Layer):
    """State shared by the built-in cells: weights' settings, activations and dropout."""

    _GATES = 1

    def __init__(
        self,
        units: int,
        activation="tanh",
        use_bias: bool = True,
        kernel_initializer="glorot_uniform",
        recurrent_initializer="orthogonal",
        bias_initializer="zeros",
        kernel_regularizer=None,
        recurrent_regularizer=None,
        bias_regularizer=None,
        kernel_constraint=None,
        recurrent_constraint=None,
        bias_constraint=None,
        dropout: float = 0.0,
        recurrent_dropout: float = 0.0,
        seed=None,
        **kwargs,
    ):
        if not isinstance(units, int) or units <= 0:
            raise ValueError(
                "Received an invalid value for argument `units`, expected a positive integer, "
                f"got {units}."
            )
        super().__init__(**kwargs)
        self.units = units
        self.activation = activations.get(activation)
        set_cell_options(
            self,
            use_bias=use_bias,
            kernel_initializer=kernel_initializer,
            recurrent_initializer=recurrent_initializer,
            bias_initializer=bias_initializer,
            kernel_regularizer=kernel_regularizer,
            recurrent_regularizer=recurrent_regularizer,
            bias_regularizer=bias_regularizer,
            kernel_constraint=kernel_constraint,
            recurrent_constraint=recurrent_constraint,
            bias_constraint=bias_constraint,
            dropout=dropout,
            recurrent_dropout=recurrent_dropout,
            seed=seed,
        )

    @property
    def state_size(self):
        return self.units

    @property
    def output_size(self) -> int:
        return self.units

    def _add_kernels(self, input_dim: int, bias_shape: tuple, bias_initializer) -> None:
        width = self._GATES * self.units
        self.kernel = self.add_weight(
            name="kernel",
            shape=(input_dim, width),
            initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer,
            constraint=self.kernel_constraint,
        )
        self.recurrent_kernel = self.add_weight(
            name="recurrent_kernel",
            shape=(self.units, width),
            initializer=self.recurrent_initializer,
            regularizer=self.recurrent_regularizer,
            constraint=self.recurrent_constraint,
        )
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight(
                name="bias",
                shape=bias_shape,
                initializer=bias_initializer,
                regularizer=self.bias_regularizer,
                constraint=self.bias_constraint,
            )

    def build(self, input_shape):
        self._add_kernels(input_shape[-1], (self._GATES * self.units,), self.bias_initializer)

    def dropout_masks(self, step_input: torch.Tensor, state: torch.Tensor, training) -> tuple:
        """(input mask, recurrent mask), each None unless training with that dropout > 0."""
        input_mask = recurrent_mask = None
        if training and self.dropout > 0.0:
            input_mask = _dropout_mask(step_input, self.dropout, self.seed_generator)
        if training and self.recurrent_dropout > 0.0:
            recurrent_mask = _dropout_mask(state, self.recurrent_dropout, self.seed_generator)
        return input_mask, recurrent_mask

    def _input_bias(self):
        return self.bias

    def project(self, inputs: torch.Tensor, input_mask=None) -> torch.Tensor:
        """`inputs @ kernel + input bias` for inputs `(..., input_dim)` (all timesteps at once)."""
        if input_mask is not None:
            inputs = inputs * (input_mask.unsqueeze(1) if inputs.ndim == 3 else input_mask)
        return kernels.fused_linear(inputs, self.kernel, self._input_bias())

    def call(self, inputs, states, training=False):
        """One step on `inputs (batch, input_dim)`: returns `(output, new_states)`."""
        states = list(states) if isinstance(states, (list, tuple)) else [states]
        input_mask, recurrent_mask = self.dropout_masks(inputs, states[0], training)
        return self.recur(self.project(inputs, input_mask), states, recurrent_mask)

    def get_initial_state(self, batch_size: int) -> list:
        sizes = self.state_size if isinstance(self.state_size, (list, tuple)) else [self.units]
        return [
            torch.zeros(batch_size, size, dtype=self.kernel.dtype, device=self.kernel.device)
            for size in sizes
        ]

    def get_config(self):
        return {
            **super().get_config(),
            "units": self.units,
            "activation": activations.serialize(self.activation),
            "use_bias": self.use_bias,
            "kernel_initializer": initializers.serialize(self.kernel_initializer),
            "recurrent_initializer": initializers.serialize(self.recurrent_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
            "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
            "recurrent_regularizer": regularizers.serialize(self.recurrent_regularizer),
            "bias_regularizer": regularizers.serialize(self.bias_regularizer),
            "kernel_constraint": constraints.serialize(self.kernel_constraint),
            "recurrent_constraint": constraints.serialize(self.recurrent_constraint),
            "bias_constraint": constraints.serialize(self.bias_constraint),
            "dropout": self.dropout,
            "recurrent_dropout": self.recurrent_dropout,
            "seed": self.seed,
        }


class SimpleRNNCell(_Cell):
    """Cell of a fully connected RNN: `h = act(x @ kernel + h_prev @ recurrent_kernel + bias)`.

    Example:
    >>> import tritonlayers as keras
    >>> cell = keras.layers.SimpleRNNCell(3)
    >>> output, states = cell(keras.ops.ones((2, 4)), [keras.ops.zeros((2, 3))])
    >>> tuple(output.shape), len(states)
    ((2, 3), 1)
    """

    def recur(self, projected, states, recurrent_mask=None):
        h_prev = states[0] if recurrent_mask is None else states[0] * recurrent_mask
        output = self.activation(projected + h_prev @ self.recurrent_kernel)
        return output, [output]


class LSTMCell(_Cell):
    """Cell of a Long Short-Term Memory layer, gates in Keras order (i, f, c, o).

    `unit_forget_bias=True` starts the forget gate's bias at 1.

    Example:
    >>> import tritonlayers as keras
    >>> cell = keras.layers.LSTMCell(3)
    >>> output, (h, c) = cell(keras.ops.ones((2, 4)), [keras.ops.zeros((2, 3))] * 2)
    >>> tuple(cell.kernel.shape), tuple(c.shape)
    ((4, 12), (2, 3))
    """

    _GATES = 4

    def __init__(
        self,
        units: int,
        activation="tanh",
        recurrent_activation="sigmoid",
        use_bias: bool = True,
        unit_forget_bias: bool = True,
        **kwargs,
    ):
        kwargs.pop("implementation", None)
        super().__init__(units, activation, use_bias, **kwargs)
        self.recurrent_activation = activations.get(recurrent_activation)
        self.unit_forget_bias = unit_forget_bias

    @property
    def state_size(self):
        return [self.units, self.units]

    def build(self, input_shape):
        bias_initializer = self.bias_initializer
        if self.unit_forget_bias:
            units, base = self.units, self.bias_initializer

            def bias_initializer(shape, dtype=None):
                return torch.cat(
                    [
                        torch.as_tensor(base((units,), dtype=dtype)),
                        torch.ones(units, dtype=torch.float32),
                        torch.as_tensor(base((2 * units,), dtype=dtype)),
                    ]
                )

        self._add_kernels(input_shape[-1], (4 * self.units,), bias_initializer)

    def recur(self, projected, states, recurrent_mask=None):
        h_prev, c_prev = states
        if recurrent_mask is not None:
            h_prev = h_prev * recurrent_mask
        z = projected + h_prev @ self.recurrent_kernel
        z_i, z_f, z_c, z_o = torch.chunk(z, 4, dim=-1)
        i = self.recurrent_activation(z_i)
        f = self.recurrent_activation(z_f)
        c = f * c_prev + i * self.activation(z_c)
        h = self.recurrent_activation(z_o) * self.activation(c)
        return h, [h, c]

    def get_config(self):
        config = {
            **super().get_config(),
            "recurrent_activation": activations.serialize(self.recurrent_activation),
            "unit_forget_bias": self.unit_forget_bias,
        }
        return in_keras_order(config, _LSTM_CELL_KEYS)


class GRUCell(_Cell):
    """Cell of a Gated Recurrent Unit layer, gates in Keras order (z, r, h).

    With `reset_after=True` (Keras 3's default, cuDNN's variant) the reset gate multiplies
    the recurrent projection after the matmul, and the bias is `(2, 3 * units)`: input and
    recurrent biases.

    Example:
    >>> import tritonlayers as keras
    >>> cell = keras.layers.GRUCell(3)
    >>> _ = cell(keras.ops.ones((2, 4)), [keras.ops.zeros((2, 3))])
    >>> tuple(cell.bias.shape)
    (2, 9)
    """

    _GATES = 3

    def __init__(
        self,
        units: int,
        activation="tanh",
        recurrent_activation="sigmoid",
        use_bias: bool = True,
        reset_after: bool = True,
        **kwargs,
    ):
        kwargs.pop("implementation", None)
        super().__init__(units, activation, use_bias, **kwargs)
        self.recurrent_activation = activations.get(recurrent_activation)
        self.reset_after = reset_after

    def build(self, input_shape):
        bias_shape = (2, 3 * self.units) if self.reset_after else (3 * self.units,)
        self._add_kernels(input_shape[-1], bias_shape, self.bias_initializer)

    def _input_bias(self):
        if self.bias is None:
            return None
        return self.bias[0] if self.reset_after else self.bias

    def recur(self, projected, states, recurrent_mask=None):
        h_prev = states[0]
        h_dropped = h_prev if recurrent_mask is None else h_prev * recurrent_mask
        x_z, x_r, x_h = torch.chunk(projected, 3, dim=-1)
        recurrent_kernel = self.recurrent_kernel
        if self.reset_after:
            inner = h_dropped @ recurrent_kernel
            if self.bias is not None:
                inner = inner + self.bias[1]
            r_z, r_r, r_h = torch.chunk(inner, 3, dim=-1)
            z = self.recurrent_activation(x_z + r_z)
            r = self.recurrent_activation(x_r + r_r)
            candidate = self.activation(x_h + r * r_h)
        else:
            r_z, r_r = torch.chunk(h_dropped @ recurrent_kernel[:, : 2 * self.units], 2, dim=-1)
            z = self.recurrent_activation(x_z + r_z)
            r = self.recurrent_activation(x_r + r_r)
            candidate = self.activation(
                x_h + (r * h_dropped) @ recurrent_kernel[:, 2 * self.units :]
            )
        h = z * h_prev + (1 - z) * candidate
        return h, [h]

    def get_config(self):
        config = {
            **super().get_config(),
            "recurrent_activation": activations.serialize(self.recurrent_activation),
            "reset_after": self.reset_after,
        }
        return in_keras_order(config, _GRU_CELL_KEYS)


class StackedRNNCells(Layer):
    """A stack of RNN cells that behaves as one cell: each cell's output is the next one's
    input, and the state is the list of the cells' states.

    `state_size` is the nested list of the cells' state sizes, `output_size` the last
    cell's. `call(inputs, states)` takes the states nested per cell (Keras's layout), or
    flat, one tensor per state, as `RNN` passes them, and returns them in the same layout.

    Example:
    >>> import tritonlayers as keras
    >>> cells = keras.layers.StackedRNNCells([keras.layers.LSTMCell(4), keras.layers.GRUCell(3)])
    >>> tuple(keras.layers.RNN(cells)(keras.ops.ones((2, 5, 6))).shape), cells.state_size
    ((2, 3), [[4, 4], 3])
    """

    def __init__(self, cells, **kwargs):
        super().__init__(**kwargs)
        for cell in cells:
            if not callable(getattr(cell, "call", None)):
                raise ValueError(
                    "All cells must have a `call` method. Received cell without a `call` "
                    f"method: {cell}"
                )
            if not hasattr(cell, "state_size"):
                raise ValueError(
                    "All cells must have a `state_size` attribute. Received cell without a "
                    f"`state_size`: {cell}"
                )
        self.cells = list(cells)

    @property
    def state_size(self) -> list:
        return [cell.state_size for cell in self.cells]

    @property
    def output_size(self) -> int:
        return _output_size(self.cells[-1])

    def _state_counts(self) -> list:
        return [len(s) if isinstance(s, (list, tuple)) else 1 for s in self.state_size]

    def get_initial_state(self, batch_size: int) -> list:
        """Zero states, nested per cell."""
        dtype = to_torch_dtype(self.compute_dtype)
        states = []
        for cell in self.cells:
            if hasattr(cell, "get_initial_state") and getattr(cell, "built", True):
                states.append(cell.get_initial_state(batch_size))
            elif isinstance(cell.state_size, (list, tuple)):
                states.append([torch.zeros(batch_size, s, dtype=dtype) for s in cell.state_size])
            else:
                states.append(torch.zeros(batch_size, cell.state_size, dtype=dtype))
        return states

    def build(self, input_shape):
        for cell in self.cells:
            if isinstance(cell, Layer) and not cell.built:
                cell.build(input_shape)
            input_shape = (input_shape[0], _output_size(cell))

    def call(self, inputs, states, training=False):
        counts = self._state_counts()
        states = list(states) if isinstance(states, (list, tuple)) else [states]
        flat = len(states) == sum(counts) and all(isinstance(s, torch.Tensor) for s in states)
        if not flat and len(states) != len(self.cells):
            raise ValueError(
                f'Layer "{self.name}" (StackedRNNCells) expects the states of its '
                f"{len(self.cells)} cells, nested per cell or {sum(counts)} flat tensors. "
                f"Received {len(states)} states."
            )
        new_states, start = [], 0
        for cell, count, given in zip(self.cells, counts, states):
            if flat:
                cell_states, start = states[start : start + count], start + count
            else:
                cell_states = list(given) if isinstance(given, (list, tuple)) else [given]
            if isinstance(cell, Layer):
                inputs, cell_new = cell(inputs, cell_states, training=training)
            else:
                inputs, cell_new = cell.call(inputs, cell_states)
            cell_new = list(cell_new) if isinstance(cell_new, (list, tuple)) else [cell_new]
            if flat:
                new_states.extend(cell_new)
            else:
                keep_list = isinstance(given, (list, tuple)) or len(cell_new) > 1
                new_states.append(cell_new if keep_list else cell_new[0])
        return inputs, new_states

    def get_config(self):
        return {
            **super().get_config(),
            "cells": [serialize_keras_object(cell) for cell in self.cells],
        }

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        cells = [
            deserialize_keras_object(cell, custom_objects=custom_objects)
            for cell in config.pop("cells")
        ]
        return cls(cells, **config)


def _output_size(cell) -> int:
    """A cell's output size: `output_size`, else its (first) state size."""
    if getattr(cell, "output_size", None) is not None:
        return cell.output_size
    size = cell.state_size
    return size[0] if isinstance(size, (list, tuple)) else size
