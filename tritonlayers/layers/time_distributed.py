"""TimeDistributed: apply one layer to every timestep of a `(batch, time, ...)` input."""

from .layer import Layer
from .wrappers import Wrapper


class TimeDistributed(Wrapper):
    """Applies `layer` to each slice `inputs[:, t]`, with the same weights for every step.

    The time axis is folded into the batch for one call of `layer`, then unfolded; masks
    pass through.

    Example:
    >>> import tritonlayers as keras
    >>> td = keras.layers.TimeDistributed(keras.layers.Dense(8))
    >>> tuple(td(keras.ops.ones((2, 10, 3))).shape), tuple(td.layer.kernel.shape)
    ((2, 10, 8), (3, 8))
    """

    def __init__(self, layer: Layer, **kwargs):
        if not isinstance(layer, Layer):
            raise ValueError(
                "Please initialize `TimeDistributed` layer with a `keras.layers.Layer` "
                f"instance. Received: {layer}"
            )
        super().__init__(layer, **kwargs)
        self.supports_masking = True

    def _check_rank(self, input_shape) -> None:
        if len(input_shape) < 3:
            raise ValueError(
                f'Layer "{self.name}": `TimeDistributed` requires an input of at least rank 3 '
                f"(batch, time, ...). Received: input_shape={tuple(input_shape)}"
            )

    def build(self, input_shape):
        self._check_rank(input_shape)
        if not self.layer.built:
            self.layer.build((None, *input_shape[2:]))

    def call(self, inputs, training=None):
        self._check_rank(inputs.shape)
        batch, steps = inputs.shape[:2]
        folded = inputs.reshape(batch * steps, *inputs.shape[2:])
        outputs = self.layer(folded, training=training)
        return outputs.reshape(batch, steps, *outputs.shape[1:])

    def compute_output_shape(self, input_shape):
        inner = self.layer.compute_output_shape((input_shape[0], *input_shape[2:]))
        return (input_shape[0], input_shape[1], *inner[1:])
