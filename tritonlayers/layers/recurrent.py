"""Recurrent layers: RNN over a cell, SimpleRNN, LSTM, GRU, Bidirectional.

Keras 3 semantics: masked timesteps carry the previous output and states forward
(`zero_output_for_mask=False`); `go_backwards` returns the outputs in processing (reversed)
order; Bidirectional zeros masked steps of its sequences. The cells live in `rnn_cells`.
"""

import torch

from .. import regularizers
from ..dtype_policies import to_torch_dtype
from ..saving import deserialize_keras_object, serialize_keras_object
from ._arguments import in_keras_order
from .input_spec import InputSpec
from .layer import Layer
from .naming import to_snake_case
from .nest import flatten
from .rnn_cells import (
    _CELL_KEYS,
    _GRU_CELL_KEYS,
    GRUCell,
    LSTMCell,
    SimpleRNNCell,
    StackedRNNCells,
)
from .variables import Variable

# What `Bidirectional` needs of the layer it wraps.
_RNN_ATTRIBUTES = ("go_backwards", "return_sequences", "return_state", "stateful")


def _with_activity_regularizer(cell_keys: tuple) -> tuple:
    """A cell's config keys with the layer's "activity_regularizer" after "bias_regularizer",
    where Keras lists it in an RNN layer's config."""
    at = cell_keys.index("bias_regularizer") + 1
    return (*cell_keys[:at], "activity_regularizer", *cell_keys[at:])


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
        if isinstance(cell, (list, tuple)):
            # Keras stacks a list of cells into one StackedRNNCells.
            cell = StackedRNNCells(cell)
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
        """The cell's state sizes, flat (a StackedRNNCells nests them per cell)."""
        return flatten(self.cell.state_size)

    def build(self, sequences_shape):
        if not self.cell.built:
            self.cell.build((sequences_shape[0], sequences_shape[-1]))
        if self.stateful:
            if sequences_shape[0] is None:
                raise ValueError(
                    "When using `stateful=True` in a RNN, the batch size must be static. "
                    f"Found dynamic batch size: sequence.shape={tuple(sequences_shape)}"
                )
            # As in Keras, the carried states are not weights of the layer: they stay out
            # of `weights`, `get_weights()`, the summary's parameter count and saved files.
            self.__dict__["states"] = [
                Variable(
                    "zeros",
                    shape=(sequences_shape[0], size),
                    dtype=self.variable_dtype,
                    trainable=False,
                    name="rnn_state",
                    device=self._build_device,
                )
                for size in self._state_sizes
            ]
            # `load_model` creates variables uninitialized (it fills weights from the file);
            # the states are not in the file, so zero them here.
            self.reset_states()

    def reset_states(self) -> None:
        """Zero the carried states of a stateful RNN."""
        for state in self.states or []:
            state.assign(torch.zeros_like(state))

    reset_state = reset_states

    def _initial_states(self, sequences, initial_state) -> list:
        if initial_state is not None:
            # Flat, one tensor per state, or nested per cell as stacked cells return them.
            states = flatten(initial_state)
            if len(states) != len(self._state_sizes):
                raise ValueError(
                    f'Layer "{self.name}" expects {len(self._state_sizes)} initial state(s), '
                    f"but it received {len(states)}."
                )
            return [
                torch.as_tensor(s, dtype=sequences.dtype, device=sequences.device) for s in states
            ]
        if self.stateful:
            expected = self.states[0].shape[0]
            if sequences.shape[0] != expected:
                raise ValueError(
                    "If an RNN is stateful, the batch size of the input sequences must be the "
                    "same as the batch size of the initial state. \n"
                    f"- Expected batch size: {expected}\n"
                    f"- Received batch size: {sequences.shape[0]}"
                )
            for state in self.states:
                # Not weights, the states do not move with `model.to(device)`: follow the input.
                if state.device != sequences.device:
                    state.data = state.data.to(sequences.device)
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
        return (output, *self._nest_states(states)) if self.return_state else output

    def _nest_states(self, flat: list) -> list:
        """`flat` (one item per state) grouped as Keras returns states: per stacked cell.

        A stack gives one entry per cell: a list for a cell with `get_initial_state` or
        several states (the built-in cells), else the lone state.
        """
        if not isinstance(self.cell, StackedRNNCells):
            return list(flat)
        nested, start = [], 0
        for cell in self.cell.cells:
            sizes = cell.state_size
            count = len(sizes) if isinstance(sizes, (list, tuple)) else 1
            group, start = list(flat[start : start + count]), start + count
            as_list = hasattr(cell, "get_initial_state") or isinstance(sizes, (list, tuple))
            nested.append(group if as_list else group[0])
        return nested

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
            return [output_mask, *self._nest_states([None] * len(self._state_sizes))]
        return output_mask

    def compute_output_shape(self, sequences_shape, initial_state_shape=None):
        batch, steps = sequences_shape[0], sequences_shape[1]
        units = getattr(self.cell, "output_size", self._state_sizes[0])
        output = (batch, steps, units) if self.return_sequences else (batch, units)
        if self.return_state:
            return (output, *self._nest_states([(batch, size) for size in self._state_sizes]))
        return output

    def get_config(self):
        return {
            **super().get_config(),
            "return_sequences": self.return_sequences,
            "return_state": self.return_state,
            "go_backwards": self.go_backwards,
            "stateful": self.stateful,
            "unroll": self.unroll,
            "zero_output_for_mask": self.zero_output_for_mask,
            "cell": serialize_keras_object(self.cell),
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
    # The cell's arguments as Keras lists them in the layer's config, after RNN's.
    _CONFIG_KEYS = _with_activity_regularizer(_CELL_KEYS)
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
            name=to_snake_case(self._CELL.__name__),
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
        config = {**config, **cell_config, "activity_regularizer": activity}
        return in_keras_order(config, self._CONFIG_KEYS)

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
    # Unlike LSTMCell's config, the layer's lists unit_forget_bias after the initializers.
    _CONFIG_KEYS = (
        "units",
        "activation",
        "recurrent_activation",
        *_BuiltInRNN._CONFIG_KEYS[2:6],
        "unit_forget_bias",
        *_BuiltInRNN._CONFIG_KEYS[6:],
    )


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
    _CONFIG_KEYS = _with_activity_regularizer(_GRU_CELL_KEYS)


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
        missing = [a for a in _RNN_ATTRIBUTES if not hasattr(layer, a)]
        if missing:
            raise ValueError(
                "`Bidirectional` wraps a recurrent layer (RNN, LSTM, GRU, ...). Received "
                f"{type(layer).__name__} '{layer.name}', which has no {missing}."
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
        self._check_directions()
        for direction in (self.forward_layer, self.backward_layer):
            direction.zero_output_for_mask = direction.return_sequences
        self.merge_mode = merge_mode
        self.return_sequences = layer.return_sequences
        self.return_state = layer.return_state
        self.stateful = layer.stateful
        self.supports_masking = True
        self.input_spec = InputSpec(ndim=3)

    def _check_directions(self) -> None:
        forward, backward = self.forward_layer, self.backward_layer
        if forward.go_backwards == backward.go_backwards:
            raise ValueError(
                "Forward layer and backward layer should have different `go_backwards` value. "
                f"Received: forward_layer.go_backwards {forward.go_backwards}, "
                f"backward_layer.go_backwards={backward.go_backwards}"
            )
        for name in ("stateful", "return_sequences", "return_state"):
            forward_value, backward_value = getattr(forward, name), getattr(backward, name)
            if forward_value != backward_value:
                raise ValueError(
                    "Forward layer and backward layer are expected to have the same value for "
                    f'attribute "{name}", got "{forward_value}" for forward layer and '
                    f'"{backward_value}" for backward layer'
                )

    def reset_states(self) -> None:
        """Zero the carried states of both directions of a stateful Bidirectional."""
        if not self.stateful:
            raise AttributeError("Layer must be stateful.")
        self.forward_layer.reset_states()
        self.backward_layer.reset_states()

    reset_state = reset_states

    @property
    def states(self) -> "tuple | None":
        """The forward then backward carried states (stateful layers), else None."""
        forward, backward = self.forward_layer.states, self.backward_layer.states
        return tuple(forward + backward) if forward and backward else None

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
            states = (*y[1:], *y_rev[1:])
            y, y_rev = y[0], y_rev[0]
        dtype = to_torch_dtype(self.compute_dtype)
        y, y_rev = y.to(dtype), y_rev.to(dtype)
        if self.return_sequences:
            y_rev = torch.flip(y_rev, dims=(1,))
        output = self._merge(y, y_rev)
        if self.return_state:
            return (*output, *states) if self.merge_mode is None else (output, *states)
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
        return (y, y_rev)

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
        outputs = (output, output) if self.merge_mode is None else (output,)
        if self.return_state:
            return (*outputs, *states, *states)
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
