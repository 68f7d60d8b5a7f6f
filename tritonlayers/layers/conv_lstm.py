"""ConvLSTM1D/2D/3D: LSTMs whose input and recurrent transformations are convolutions.

Keras 3 weights and gate order (i, f, c, o): `kernel` `(*kernel_size, channels, 4 * filters)`,
`recurrent_kernel` `(*kernel_size, filters, 4 * filters)`, `bias` `(4 * filters,)`, all under
`<layer>/conv_lstm_cell/`. The input convolution uses the layer's `strides`, `padding` and
`dilation_rate`; the recurrent one is always stride 1, "same", undilated, as in Keras.

The time loop, masks, initial and carried (stateful) states are `RNN`'s. For it, the cell
works in channels_first and keeps its states flattened to `(batch, filters * prod(spatial))`,
so RNN's per-sample masking applies unchanged; the layer converts inputs, initial states and
outputs from and to its `data_format`. The input convolution runs for all timesteps at once.
"""

import math

import torch

from .. import activations, constraints, initializers, regularizers
from ._arguments import (
    conv_output_length,
    pad_spatial,
    same_padding,
    standardize_data_format,
    standardize_padding,
    standardize_tuple,
)
from .convolutional import _CONVOLUTIONS, _torch_layout
from .input_spec import InputSpec
from .layer import Layer
from .recurrent import RNN
from .rnn_cells import _dropout_mask, set_cell_options

_GATES = 4  # i, f, c, o


def _convolve(x, kernel, bias, strides, padding: str, dilation) -> torch.Tensor:
    """channels_first convolution with a Keras-layout kernel; "same" pads as Keras does."""
    if padding == "same":
        windows = zip(x.shape[2:], kernel.shape[:-2], strides, dilation)
        x = pad_spatial(x, [same_padding(*window) for window in windows])
    rank = kernel.ndim - 2
    return _CONVOLUTIONS[rank](x, _torch_layout(kernel), bias, stride=strides, dilation=dilation)


class _ConvLSTMCell(Layer):
    """One ConvLSTM step on channels_first tensors, with flattened `(h, c)` states.

    `call(inputs (batch, channels, *spatial), [h, c]) -> (h, [h, c])`, `h` and `c` of shape
    `(batch, filters * prod(output spatial))`. `RNN` runs it as `project` (the input
    convolution, every timestep at once) and `recur` (the recurrent convolution and gates).
    """

    def __init__(
        self,
        rank: int,
        filters: int,
        kernel_size,
        strides=1,
        padding: str = "valid",
        data_format=None,
        dilation_rate=1,
        activation="tanh",
        recurrent_activation="sigmoid",
        use_bias: bool = True,
        kernel_initializer="glorot_uniform",
        recurrent_initializer="orthogonal",
        bias_initializer="zeros",
        unit_forget_bias: bool = True,
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
        super().__init__(**kwargs)
        if not isinstance(filters, int) or filters <= 0:
            raise ValueError(
                "Invalid value for argument `filters`. Expected a strictly positive value. "
                f"Received filters={filters}."
            )
        self.rank = rank
        self.filters = filters
        self.kernel_size = standardize_tuple(kernel_size, rank, "kernel_size")
        self.strides = standardize_tuple(strides, rank, "strides")
        self.padding = standardize_padding(padding)
        self.data_format = standardize_data_format(data_format)
        self.dilation_rate = standardize_tuple(dilation_rate, rank, "dilation_rate")
        if max(self.strides) > 1 and max(self.dilation_rate) > 1:
            raise ValueError(
                "Specifying `strides > 1` is not compatible with `dilation_rate > 1`. "
                f"Received: strides={self.strides} and dilation_rate={self.dilation_rate}"
            )
        self.activation = activations.get(activation)
        self.recurrent_activation = activations.get(recurrent_activation)
        self.unit_forget_bias = unit_forget_bias
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
        self.output_spatial = None

    @property
    def state_size(self) -> list:
        """`[h size, c size]`, flattened; None until built (they depend on the input size)."""
        if self.output_spatial is None:
            return [None, None]
        size = self.filters * math.prod(self.output_spatial)
        return [size, size]

    @property
    def output_size(self):
        return self.state_size[0]

    def output_spatial_shape(self, spatial) -> tuple:
        """The spatial shape of `h` and `c` for an input of spatial shape `spatial`."""
        return tuple(
            conv_output_length(length, window, self.padding, stride, dilation)
            for length, window, stride, dilation in zip(
                spatial, self.kernel_size, self.strides, self.dilation_rate
            )
        )

    def build(self, step_shape):
        """`step_shape`: one timestep's input shape, `(batch, *spatial, channels)` or
        `(batch, channels, *spatial)` per `data_format`."""
        if self.data_format == "channels_last":
            spatial, channels = tuple(step_shape[1:-1]), step_shape[-1]
        else:
            spatial, channels = tuple(step_shape[2:]), step_shape[1]
        if None in spatial:
            raise ValueError(
                "ConvLSTM layers only support static input shapes for the spatial dimension. "
                f"Received invalid input shape: input_shape={tuple(step_shape)}"
            )
        if channels is None:
            raise ValueError(
                "The channel dimension of the inputs should be defined. Found None. Full "
                f"input shape received: input_shape={tuple(step_shape)}"
            )
        self.output_spatial = self.output_spatial_shape(spatial)
        width = _GATES * self.filters
        self.kernel = self.add_weight(
            name="kernel",
            shape=(*self.kernel_size, channels, width),
            initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer,
            constraint=self.kernel_constraint,
        )
        self.recurrent_kernel = self.add_weight(
            name="recurrent_kernel",
            shape=(*self.kernel_size, self.filters, width),
            initializer=self.recurrent_initializer,
            regularizer=self.recurrent_regularizer,
            constraint=self.recurrent_constraint,
        )
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight(
                name="bias",
                shape=(width,),
                initializer=self._bias_initializer(),
                regularizer=self.bias_regularizer,
                constraint=self.bias_constraint,
            )

    def _bias_initializer(self):
        """The bias initializer, with the forget gate's part at 1 under `unit_forget_bias`."""
        if not self.unit_forget_bias:
            return self.bias_initializer
        filters, base = self.filters, self.bias_initializer

        def bias_initializer(shape, dtype=None):
            return torch.cat(
                [
                    torch.as_tensor(base((filters,), dtype=dtype)),
                    torch.ones(filters, dtype=torch.float32),
                    torch.as_tensor(base((2 * filters,), dtype=dtype)),
                ]
            )

        return bias_initializer

    def dropout_masks(self, step_input: torch.Tensor, state: torch.Tensor, training) -> tuple:
        """(input masks, recurrent masks): one mask per gate each, drawn once per sequence;
        None unless training with that rate strictly between 0 and 1 (as Keras)."""
        input_masks = recurrent_masks = None
        if training and 0.0 < self.dropout < 1.0:
            input_masks = [
                _dropout_mask(step_input, self.dropout, self.seed_generator) for _ in range(_GATES)
            ]
        if training and 0.0 < self.recurrent_dropout < 1.0:
            recurrent_masks = [
                _dropout_mask(state, self.recurrent_dropout, self.seed_generator)
                for _ in range(_GATES)
            ]
        return input_masks, recurrent_masks

    def project(self, sequences: torch.Tensor, input_masks=None) -> torch.Tensor:
        """Input convolution plus bias, `(batch, time, channels, *spatial)` ->
        `(batch, time, 4 * filters, *output spatial)`, every timestep in one convolution."""
        batch, steps = sequences.shape[:2]
        convolve = self._input_convolution
        if input_masks is None:
            outputs = convolve(sequences.flatten(0, 1), self.kernel, self.bias)
        else:
            kernels = torch.chunk(self.kernel, _GATES, dim=-1)
            biases = [None] * _GATES if self.bias is None else torch.chunk(self.bias, _GATES)
            outputs = torch.cat(
                [
                    convolve((sequences * mask.unsqueeze(1)).flatten(0, 1), kernel, bias)
                    for mask, kernel, bias in zip(input_masks, kernels, biases)
                ],
                dim=1,
            )
        return outputs.unflatten(0, (batch, steps))

    def _input_convolution(self, x, kernel, bias):
        return _convolve(x, kernel, bias, self.strides, self.padding, self.dilation_rate)

    def recur(self, projected, states, recurrent_masks=None):
        """One step from the projected input `(batch, 4 * filters, *spatial)`."""
        shape = (projected.shape[0], self.filters, *projected.shape[2:])
        h_prev, c_prev = (state.reshape(shape) for state in states)
        ones = (1,) * self.rank
        if recurrent_masks is None:
            recurrent = _convolve(h_prev, self.recurrent_kernel, None, ones, "same", ones)
        else:
            kernels = torch.chunk(self.recurrent_kernel, _GATES, dim=-1)
            recurrent = torch.cat(
                [
                    _convolve(h_prev * mask.reshape(shape), kernel, None, ones, "same", ones)
                    for mask, kernel in zip(recurrent_masks, kernels)
                ],
                dim=1,
            )
        z_i, z_f, z_c, z_o = torch.chunk(projected + recurrent, _GATES, dim=1)
        i = self.recurrent_activation(z_i)
        f = self.recurrent_activation(z_f)
        c = f * c_prev + i * self.activation(z_c)
        h = self.recurrent_activation(z_o) * self.activation(c)
        h, c = h.flatten(1), c.flatten(1)
        return h, [h, c]

    def call(self, inputs, states, training=False):
        """One step on channels_first `inputs (batch, channels, *spatial)`."""
        input_masks, recurrent_masks = self.dropout_masks(inputs, states[0], training)
        projected = self.project(inputs.unsqueeze(1), input_masks)[:, 0]
        return self.recur(projected, list(states), recurrent_masks)

    def get_config(self):
        return {
            **super().get_config(),
            "filters": self.filters,
            "kernel_size": self.kernel_size,
            "strides": self.strides,
            "padding": self.padding,
            "data_format": self.data_format,
            "dilation_rate": self.dilation_rate,
            "activation": activations.serialize(self.activation),
            "recurrent_activation": activations.serialize(self.recurrent_activation),
            "use_bias": self.use_bias,
            "kernel_initializer": initializers.serialize(self.kernel_initializer),
            "recurrent_initializer": initializers.serialize(self.recurrent_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
            "unit_forget_bias": self.unit_forget_bias,
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


class _ConvLSTM(RNN):
    """ConvLSTM over `(batch, time, *spatial, channels)` (channels_last) or
    `(batch, time, channels, *spatial)` (channels_first) inputs. Subclasses set `rank`."""

    rank = 2
    _CELL_ARGS = (
        "kernel_size",
        "strides",
        "padding",
        "data_format",
        "dilation_rate",
        "activation",
        "recurrent_activation",
        "use_bias",
        "kernel_initializer",
        "recurrent_initializer",
        "bias_initializer",
        "unit_forget_bias",
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

    def __init__(
        self,
        filters: int,
        kernel_size,
        strides=1,
        padding: str = "valid",
        data_format=None,
        dilation_rate=1,
        activation="tanh",
        recurrent_activation="sigmoid",
        use_bias: bool = True,
        kernel_initializer="glorot_uniform",
        recurrent_initializer="orthogonal",
        bias_initializer="zeros",
        unit_forget_bias: bool = True,
        kernel_regularizer=None,
        recurrent_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        kernel_constraint=None,
        recurrent_constraint=None,
        bias_constraint=None,
        dropout: float = 0.0,
        recurrent_dropout: float = 0.0,
        seed=None,
        return_sequences: bool = False,
        return_state: bool = False,
        go_backwards: bool = False,
        stateful: bool = False,
        **kwargs,
    ):
        cell = _ConvLSTMCell(
            self.rank,
            filters,
            kernel_size,
            strides=strides,
            padding=padding,
            data_format=data_format,
            dilation_rate=dilation_rate,
            activation=activation,
            recurrent_activation=recurrent_activation,
            use_bias=use_bias,
            kernel_initializer=kernel_initializer,
            recurrent_initializer=recurrent_initializer,
            bias_initializer=bias_initializer,
            unit_forget_bias=unit_forget_bias,
            kernel_regularizer=kernel_regularizer,
            recurrent_regularizer=recurrent_regularizer,
            bias_regularizer=bias_regularizer,
            kernel_constraint=kernel_constraint,
            recurrent_constraint=recurrent_constraint,
            bias_constraint=bias_constraint,
            dropout=dropout,
            recurrent_dropout=recurrent_dropout,
            seed=seed,
            name="conv_lstm_cell",
            dtype=kwargs.get("dtype"),
        )
        super().__init__(
            cell,
            return_sequences=return_sequences,
            return_state=return_state,
            go_backwards=go_backwards,
            stateful=stateful,
            activity_regularizer=activity_regularizer,
            **kwargs,
        )
        self.input_spec = InputSpec(ndim=self.rank + 3)

    filters = property(lambda self: self.cell.filters)
    kernel_size = property(lambda self: self.cell.kernel_size)
    strides = property(lambda self: self.cell.strides)
    padding = property(lambda self: self.cell.padding)
    data_format = property(lambda self: self.cell.data_format)
    dilation_rate = property(lambda self: self.cell.dilation_rate)
    activation = property(lambda self: self.cell.activation)
    recurrent_activation = property(lambda self: self.cell.recurrent_activation)
    use_bias = property(lambda self: self.cell.use_bias)
    unit_forget_bias = property(lambda self: self.cell.unit_forget_bias)
    kernel_initializer = property(lambda self: self.cell.kernel_initializer)
    recurrent_initializer = property(lambda self: self.cell.recurrent_initializer)
    bias_initializer = property(lambda self: self.cell.bias_initializer)
    kernel_regularizer = property(lambda self: self.cell.kernel_regularizer)
    recurrent_regularizer = property(lambda self: self.cell.recurrent_regularizer)
    bias_regularizer = property(lambda self: self.cell.bias_regularizer)
    kernel_constraint = property(lambda self: self.cell.kernel_constraint)
    recurrent_constraint = property(lambda self: self.cell.recurrent_constraint)
    bias_constraint = property(lambda self: self.cell.bias_constraint)
    dropout = property(lambda self: self.cell.dropout)
    recurrent_dropout = property(lambda self: self.cell.recurrent_dropout)

    def build(self, sequences_shape, initial_state_shape=None):
        if not self.cell.built:
            self.cell.build((sequences_shape[0], *sequences_shape[2:]))
        super().build(sequences_shape)

    def _state_shape(self, batch) -> tuple:
        """One state's shape in the layer's `data_format`."""
        spatial = self.cell.output_spatial
        if self.data_format == "channels_last":
            return (batch, *spatial, self.filters)
        return (batch, self.filters, *spatial)

    def _flat_state(self, state, like: torch.Tensor) -> torch.Tensor:
        """A user's initial state (layer's `data_format`) -> the cell's flat channels_first."""
        state = torch.as_tensor(state, dtype=like.dtype, device=like.device)
        expected = self._state_shape(like.shape[0])
        if tuple(state.shape) != expected:
            raise ValueError(
                f'Layer "{self.name}" expects initial states of shape {expected}. '
                f"Received: initial state of shape {tuple(state.shape)}"
            )
        if self.data_format == "channels_last":
            state = torch.movedim(state, -1, 1)
        return state.flatten(1)

    def _unflatten(self, flat: torch.Tensor) -> torch.Tensor:
        """The cell's flat channels_first `(..., filters * prod(spatial))` -> `data_format`."""
        shaped = flat.unflatten(-1, (self.filters, *self.cell.output_spatial))
        if self.data_format == "channels_last":
            shaped = torch.movedim(shaped, -self.rank - 1, -1)
        return shaped

    def call(self, sequences, initial_state=None, mask=None, training=False):
        if self.data_format == "channels_last":
            sequences = torch.movedim(sequences, -1, 2)
        if initial_state is not None:
            states = initial_state if isinstance(initial_state, (list, tuple)) else [initial_state]
            initial_state = [self._flat_state(state, sequences) for state in states]
        outputs = super().call(sequences, initial_state=initial_state, mask=mask, training=training)
        if self.return_state:
            return tuple(self._unflatten(tensor) for tensor in outputs)
        return self._unflatten(outputs)

    def compute_output_shape(self, sequences_shape, initial_state_shape=None):
        batch, steps = sequences_shape[0], sequences_shape[1]
        if self.data_format == "channels_last":
            spatial = self.cell.output_spatial_shape(sequences_shape[2:-1])
            state = (batch, *spatial, self.filters)
        else:
            spatial = self.cell.output_spatial_shape(sequences_shape[3:])
            state = (batch, self.filters, *spatial)
        output = (batch, steps, *state[1:]) if self.return_sequences else state
        return (output, state, state) if self.return_state else output

    def get_config(self):
        config = super().get_config()
        del config["cell"]
        cell_config = self.cell.get_config()
        cell_args = {key: cell_config[key] for key in self._CELL_ARGS}
        # Keras lists the layer's activity_regularizer between the cell's bias_regularizer
        # and kernel_constraint.
        at = self._CELL_ARGS.index("bias_regularizer") + 1
        return {
            **config,
            "filters": self.filters,
            **{key: cell_args[key] for key in self._CELL_ARGS[:at]},
            "activity_regularizer": regularizers.serialize(self.activity_regularizer),
            **{key: cell_args[key] for key in self._CELL_ARGS[at:]},
        }

    @classmethod
    def from_config(cls, config, custom_objects=None):
        return cls(**config)


class ConvLSTM1D(_ConvLSTM):
    """1D convolutional LSTM: inputs `(batch, time, steps, channels)` (channels_last).

    Arguments as Keras's: `filters`, `kernel_size`, `strides=1`, `padding="valid"`,
    `data_format`, `dilation_rate=1`, `activation="tanh"`, `recurrent_activation="sigmoid"`,
    `use_bias`, initializers (`recurrent_initializer="orthogonal"`), `unit_forget_bias=True`,
    regularizers, constraints, `dropout`, `recurrent_dropout`, `seed`, and RNN's
    `return_sequences`, `return_state`, `go_backwards`, `stateful`.

    Example:
    >>> import tritonlayers as keras
    >>> layer = keras.layers.ConvLSTM1D(4, 3, padding="same", return_sequences=True)
    >>> tuple(layer(keras.ops.ones((2, 5, 6, 3))).shape)
    (2, 5, 6, 4)
    """

    rank = 1


class ConvLSTM2D(_ConvLSTM):
    """2D convolutional LSTM: inputs `(batch, time, rows, cols, channels)` (channels_last).

    Arguments as `ConvLSTM1D`'s, with 2-tuples for `kernel_size`, `strides`, `dilation_rate`.

    Example:
    >>> import tritonlayers as keras
    >>> layer = keras.layers.ConvLSTM2D(4, 3, return_state=True)
    >>> out, h, c = layer(keras.ops.ones((2, 3, 6, 6, 1)))
    >>> tuple(out.shape), tuple(c.shape)
    ((2, 4, 4, 4), (2, 4, 4, 4))
    """

    rank = 2


class ConvLSTM3D(_ConvLSTM):
    """3D convolutional LSTM: inputs `(batch, time, depth, rows, cols, channels)`.

    Arguments as `ConvLSTM1D`'s, with 3-tuples for `kernel_size`, `strides`, `dilation_rate`.

    Example:
    >>> import tritonlayers as keras
    >>> layer = keras.layers.ConvLSTM3D(2, 2, strides=2)
    >>> tuple(layer(keras.ops.ones((1, 3, 4, 4, 4, 1))).shape)
    (1, 2, 2, 2, 2)
    """

    rank = 3
