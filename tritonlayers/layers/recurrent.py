"""Recurrent layers: RNN over a cell, SimpleRNN, LSTM, GRU (and their cells), Bidirectional.

Keras 3 semantics: gate orders LSTM (i, f, c, o) and GRU (z, r, h); GRU's
`reset_after=True` with a `(2, 3 * units)` bias; masked timesteps carry the previous
output and states forward (`zero_output_for_mask=False`); `go_backwards` returns the
outputs in processing (reversed) order. Dropout masks are drawn once per call and reused
at every timestep.

The built-in cells split their work in two: `project` computes `inputs @ kernel + bias`
for every timestep in one matmul, and `recur` does the per-step recurrent part.
"""

import torch

from .. import activations, constraints, initializers, kernels, random, regularizers
from ..dtype_policies import to_torch_dtype
from ..saving import deserialize_keras_object, serialize_keras_object
from .input_spec import InputSpec
from .layer import Layer


def _dropout_mask(like: torch.Tensor, rate: float, seed_generator) -> torch.Tensor:
    """A `like`-shaped keep mask scaled by 1 / (1 - rate) (0 where dropped)."""
    return kernels.dropout(torch.ones_like(like), rate, seed_generator.next())


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
        self.use_bias = use_bias
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.recurrent_initializer = initializers.get(recurrent_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.recurrent_regularizer = regularizers.get(recurrent_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.recurrent_constraint = constraints.get(recurrent_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.dropout = min(1.0, max(0.0, dropout))
        self.recurrent_dropout = min(1.0, max(0.0, recurrent_dropout))
        self.seed = seed
        self.seed_generator = random.SeedGenerator(seed)

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
        return {
            **super().get_config(),
            "recurrent_activation": activations.serialize(self.recurrent_activation),
            "unit_forget_bias": self.unit_forget_bias,
        }


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
        return {
            **super().get_config(),
            "recurrent_activation": activations.serialize(self.recurrent_activation),
            "reset_after": self.reset_after,
        }


class RNN(Layer):
    """Runs a cell over the timesteps of a `(batch, timesteps, features)` input.

    Any cell works that has `call(inputs, states, training=False) -> (output, new_states)`
    and `state_size`; the built-in cells run their input projection for all timesteps in
    one matmul. Masked timesteps keep the previous output and states (zeros for the output
    with `zero_output_for_mask=True`). The time loop is a Python loop, so it is always
    unrolled (`unroll` is accepted for Keras compatibility); `torch.compile` traces it whole.

    Example:
    >>> import tritonlayers as keras
    >>> layer = keras.layers.RNN(keras.layers.LSTMCell(4), return_sequences=True)
    >>> tuple(layer(keras.ops.ones((2, 5, 3))).shape)
    (2, 5, 4)
    """

    def __init__(
        self,
        cell,
        return_sequences: bool = False,
        return_state: bool = False,
        go_backwards: bool = False,
        stateful: bool = False,
        unroll: bool = False,
        zero_output_for_mask: bool = False,
        **kwargs,
    ):
        if not callable(getattr(cell, "call", None)) or not hasattr(cell, "state_size"):
            raise ValueError(
                "Argument `cell` should have a `call` method and a `state_size` attribute. "
                f"Received: cell={cell}"
            )
        super().__init__(**kwargs)
        self.cell = cell
        self.return_sequences = return_sequences
        self.return_state = return_state
        self.go_backwards = go_backwards
        self.stateful = stateful
        self.unroll = unroll
        self.zero_output_for_mask = zero_output_for_mask
        self.supports_masking = True
        self.input_spec = InputSpec(ndim=3)
        self.states = None

    @property
    def _state_sizes(self) -> list:
        size = self.cell.state_size
        return list(size) if isinstance(size, (list, tuple)) else [size]

    def build(self, sequences_shape):
        if not self.cell.built:
            self.cell.build((sequences_shape[0], sequences_shape[-1]))
        if self.stateful:
            if sequences_shape[0] is None:
                raise ValueError(
                    f'Layer "{self.name}": a stateful RNN needs a fixed batch size; pass '
                    "`batch_size` to the Input (or `batch_shape`)."
                )
            self.states = [
                self.add_weight(
                    name=f"state_{i}",
                    shape=(sequences_shape[0], size),
                    initializer="zeros",
                    trainable=False,
                )
                for i, size in enumerate(self._state_sizes)
            ]

    def reset_states(self) -> None:
        """Zero the carried states of a stateful RNN."""
        for state in self.states or []:
            state.assign(torch.zeros_like(state))

    reset_state = reset_states

    def _initial_states(self, sequences, initial_state) -> list:
        if initial_state is not None:
            states = initial_state if isinstance(initial_state, (list, tuple)) else [initial_state]
            if len(states) != len(self._state_sizes):
                raise ValueError(
                    f'Layer "{self.name}" expects {len(self._state_sizes)} initial state(s), '
                    f"but it received {len(states)}."
                )
            return [
                torch.as_tensor(s, dtype=sequences.dtype, device=sequences.device) for s in states
            ]
        if self.stateful:
            return [state.to(sequences.dtype) for state in self.states]
        return [
            torch.zeros(sequences.shape[0], size, dtype=sequences.dtype, device=sequences.device)
            for size in self._state_sizes
        ]

    def call(self, sequences, initial_state=None, mask=None, training=False):
        states = self._initial_states(sequences, initial_state)
        if mask is not None:
            mask = mask.bool()
        if self.go_backwards:
            sequences = torch.flip(sequences, dims=(1,))
            mask = None if mask is None else torch.flip(mask, dims=(1,))
        step = self._step_function(sequences, states, training)
        outputs, previous = [], None
        for t in range(sequences.shape[1]):
            output, new_states = step(t, states)
            if mask is not None:
                keep = mask[:, t, None]
                if previous is None:
                    previous = torch.zeros_like(output)
                output = torch.where(keep, output, previous)
                new_states = [torch.where(keep, new, old) for new, old in zip(new_states, states)]
            outputs.append(output)
            previous, states = output, list(new_states)
        outputs_tensor = torch.stack(outputs, dim=1)
        last_output = outputs[-1]
        if mask is not None and self.zero_output_for_mask:
            outputs_tensor = torch.where(mask[:, :, None], outputs_tensor, 0.0)
            last_output = torch.where(mask[:, -1, None], last_output, 0.0)
        if self.stateful:
            for variable, state in zip(self.states, states):
                variable.assign(state.detach())
        output = outputs_tensor if self.return_sequences else last_output
        return [output, *states] if self.return_state else output

    def _step_function(self, sequences, states, training):
        """`step(t, states) -> (output, new_states)` for timestep t of `sequences`."""
        cell = self.cell
        if not hasattr(cell, "project"):
            return lambda t, s: cell(sequences[:, t], s, training=training)
        input_mask, recurrent_mask = cell.dropout_masks(sequences[:, 0], states[0], training)
        projected = cell.project(sequences, input_mask)
        return lambda t, s: cell.recur(projected[:, t], s, recurrent_mask)

    def compute_mask(self, inputs, mask=None):
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        output_mask = mask if self.return_sequences else None
        if self.return_state:
            return [output_mask] + [None] * len(self._state_sizes)
        return output_mask

    def compute_output_shape(self, sequences_shape, initial_state_shape=None):
        batch, steps = sequences_shape[0], sequences_shape[1]
        units = getattr(self.cell, "output_size", self._state_sizes[0])
        output = (batch, steps, units) if self.return_sequences else (batch, units)
        if self.return_state:
            return [output, *[(batch, size) for size in self._state_sizes]]
        return output

    def get_config(self):
        return {
            **super().get_config(),
            "cell": serialize_keras_object(self.cell),
            "return_sequences": self.return_sequences,
            "return_state": self.return_state,
            "go_backwards": self.go_backwards,
            "stateful": self.stateful,
            "unroll": self.unroll,
            "zero_output_for_mask": self.zero_output_for_mask,
        }

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        config["cell"] = deserialize_keras_object(config["cell"], custom_objects=custom_objects)
        return cls(**config)


class _BuiltInRNN(RNN):
    """An RNN whose constructor takes its cell's arguments (SimpleRNN, LSTM, GRU).

    `units` and the cell's keyword arguments (activations, initializers, regularizers,
    constraints, `dropout`, `recurrent_dropout`, `seed`, ...) build the cell; RNN's
    (`return_sequences`, `return_state`, `go_backwards`, `stateful`, `unroll`) and Layer's
    go to the layer. Keras's `use_cudnn` is accepted and has no effect.
    """

    _CELL = None
    _RNN_ARGS = (
        "return_sequences",
        "return_state",
        "go_backwards",
        "stateful",
        "unroll",
        "zero_output_for_mask",
    )
    _BASE_ARGS = (
        "name",
        "dtype",
        "trainable",
        "autocast",
        "input_shape",
        "input_dim",
        "batch_size",
        "batch_input_shape",
    )

    def __init__(self, units, activity_regularizer=None, **kwargs):
        rnn_args = {k: kwargs.pop(k) for k in self._RNN_ARGS if k in kwargs}
        base_args = {k: kwargs.pop(k) for k in self._BASE_ARGS if k in kwargs}
        kwargs.pop("use_cudnn", None)
        cell = self._CELL(
            units,
            name=f"{self._CELL.__name__.lower().replace('cell', '')}_cell",
            dtype=base_args.get("dtype"),
            trainable=base_args.get("trainable", True),
            **kwargs,
        )
        super().__init__(cell, activity_regularizer=activity_regularizer, **rnn_args, **base_args)
        self.input_spec = InputSpec(ndim=3)

    units = property(lambda self: self.cell.units)
    activation = property(lambda self: self.cell.activation)
    use_bias = property(lambda self: self.cell.use_bias)
    dropout = property(lambda self: self.cell.dropout)
    recurrent_dropout = property(lambda self: self.cell.recurrent_dropout)

    def get_config(self):
        config = super().get_config()
        cell_config = self.cell.get_config()
        for key in ("name", "trainable", "dtype"):
            cell_config.pop(key, None)
        del config["cell"]
        activity = regularizers.serialize(self.activity_regularizer)
        return {**config, **cell_config, "activity_regularizer": activity}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        return cls(**config)


class SimpleRNN(_BuiltInRNN):
    """Fully connected RNN: the output is fed back as the next step's state.

    Arguments: `units` and `SimpleRNNCell`'s (activation="tanh", ...), plus RNN's.

    Example:
    >>> import tritonlayers as keras
    >>> tuple(keras.layers.SimpleRNN(4)(keras.ops.ones((2, 5, 3))).shape)
    (2, 4)
    """

    _CELL = SimpleRNNCell


class LSTM(_BuiltInRNN):
    """Long Short-Term Memory layer (Hochreiter 1997), Keras's weights and gate order.

    Arguments: `units` and `LSTMCell`'s (activation="tanh", recurrent_activation="sigmoid",
    unit_forget_bias=True, ...), plus RNN's.

    Example:
    >>> import tritonlayers as keras
    >>> out, h, c = keras.layers.LSTM(4, return_state=True)(keras.ops.ones((2, 5, 3)))
    >>> tuple(out.shape), tuple(c.shape)
    ((2, 4), (2, 4))
    """

    _CELL = LSTMCell


class GRU(_BuiltInRNN):
    """Gated Recurrent Unit (Cho et al. 2014), Keras's `reset_after=True` variant by default.

    Arguments: `units` and `GRUCell`'s (activation="tanh", recurrent_activation="sigmoid",
    reset_after=True, ...), plus RNN's.

    Example:
    >>> import tritonlayers as keras
    >>> tuple(keras.layers.GRU(4, return_sequences=True)(keras.ops.ones((2, 5, 3))).shape)
    (2, 5, 4)
    """

    _CELL = GRUCell


class Bidirectional(Layer):
    """Runs an RNN forwards and a copy of it backwards, and merges their outputs.

    `merge_mode` is "concat" (default), "sum", "mul", "ave" or None (a list of both). With
    `return_sequences`, the backward outputs are put back in forward time order, and masked
    timesteps are zeros in both directions, as in Keras.

    Example:
    >>> import tritonlayers as keras
    >>> layer = keras.layers.Bidirectional(keras.layers.LSTM(4, return_sequences=True))
    >>> tuple(layer(keras.ops.ones((2, 5, 3))).shape)
    (2, 5, 8)
    """

    _MERGE_MODES = ("concat", "sum", "mul", "ave", None)

    def __init__(self, layer, merge_mode="concat", backward_layer=None, **kwargs):
        if not isinstance(layer, Layer):
            raise ValueError(
                "Please initialize `Bidirectional` layer with a `keras.layers.Layer` instance. "
                f"Received: {layer}"
            )
        if merge_mode not in self._MERGE_MODES:
            raise ValueError(
                f"Invalid merge mode. Received: {merge_mode}. Merge mode should be one of "
                '{"sum", "mul", "ave", "concat", None}'
            )
        super().__init__(**kwargs)
        config = layer.get_config()
        base_name = layer.name.removeprefix("forward_")
        self.forward_layer = type(layer).from_config({**config, "name": f"forward_{base_name}"})
        if backward_layer is None:
            backward_config = {
                **config,
                "go_backwards": not config["go_backwards"],
                "name": f"backward_{base_name}",
            }
            backward_layer = type(layer).from_config(backward_config)
        self.backward_layer = backward_layer
        for direction in (self.forward_layer, self.backward_layer):
            direction.zero_output_for_mask = direction.return_sequences
        self.merge_mode = merge_mode
        self.return_sequences = layer.return_sequences
        self.return_state = layer.return_state
        self.stateful = layer.stateful
        self.supports_masking = True
        self.input_spec = InputSpec(ndim=3)

    def build(self, sequences_shape):
        for direction in (self.forward_layer, self.backward_layer):
            if not direction.built:
                direction.build(sequences_shape)

    def call(self, sequences, initial_state=None, mask=None, training=None):
        forward_state = backward_state = None
        if initial_state is not None:
            half = len(initial_state) // 2
            forward_state, backward_state = initial_state[:half], initial_state[half:]
        y = self.forward_layer(sequences, initial_state=forward_state, mask=mask, training=training)
        y_rev = self.backward_layer(
            sequences, initial_state=backward_state, mask=mask, training=training
        )
        states = []
        if self.return_state:
            states = [*y[1:], *y_rev[1:]]
            y, y_rev = y[0], y_rev[0]
        dtype = to_torch_dtype(self.compute_dtype)
        y, y_rev = y.to(dtype), y_rev.to(dtype)
        if self.return_sequences:
            y_rev = torch.flip(y_rev, dims=(1,))
        output = self._merge(y, y_rev)
        if self.return_state:
            return [*output, *states] if self.merge_mode is None else [output, *states]
        return output

    def _merge(self, y, y_rev):
        if self.merge_mode == "concat":
            return torch.cat([y, y_rev], dim=-1)
        if self.merge_mode == "sum":
            return y + y_rev
        if self.merge_mode == "ave":
            return (y + y_rev) / 2
        if self.merge_mode == "mul":
            return y * y_rev
        return [y, y_rev]

    def compute_mask(self, inputs, mask=None):
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        output_mask = mask if self.return_sequences else None
        if self.merge_mode is None:
            output_mask = [output_mask, output_mask]
        if self.return_state:
            states = [None] * (2 * len(self.forward_layer._state_sizes))
            return [*output_mask, *states] if self.merge_mode is None else [output_mask, *states]
        return output_mask

    def compute_output_shape(self, sequences_shape, initial_state_shape=None):
        shape = self.forward_layer.compute_output_shape(sequences_shape)
        output, states = (shape[0], shape[1:]) if self.return_state else (shape, [])
        if self.merge_mode == "concat":
            output = (*output[:-1], 2 * output[-1])
        outputs = [output, output] if self.merge_mode is None else [output]
        if self.return_state:
            return [*outputs, *states, *states]
        return outputs[0] if self.merge_mode is not None else outputs

    def get_config(self):
        return {
            **super().get_config(),
            "merge_mode": self.merge_mode,
            "layer": serialize_keras_object(self.forward_layer),
            "backward_layer": serialize_keras_object(self.backward_layer),
        }

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        config["layer"] = deserialize_keras_object(config["layer"], custom_objects=custom_objects)
        config["backward_layer"] = deserialize_keras_object(
            config["backward_layer"], custom_objects=custom_objects
        )
        return cls(**config)
