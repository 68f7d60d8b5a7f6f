"""MultiHeadAttention over `(batch, sequence, features)` inputs, with Keras 3's weights.

The projections keep Keras's layout and paths, so weights copy across with
`set_weights(get_weights())`: `query/kernel` `(dim, heads, key_dim)`, `query/bias`
`(heads, key_dim)`, likewise `key` and `value`, and `attention_output/kernel`
`(heads, value_dim, output_dim)` with `attention_output/bias` `(output_dim,)`.
"""

import math
from typing import Any

import torch

from .. import constraints, initializers, regularizers
from .layer import Layer
from .regularization import Dropout
from .symbolic import KerasTensor


class _Projection(Layer):
    """`einsum(equation, inputs, kernel) + bias`: one of the attention's dense projections."""

    def __init__(self, equation: str, kernel_shape, bias_shape, options: dict, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True  # the attention applies the inputs' masks itself
        self.equation = equation
        self.kernel_shape = tuple(kernel_shape)
        self.bias_shape = tuple(bias_shape)
        self.options = options

    def build(self, input_shape):
        o = self.options
        self.kernel = self.add_weight(
            shape=self.kernel_shape,
            initializer=o["kernel_initializer"],
            regularizer=o["kernel_regularizer"],
            constraint=o["kernel_constraint"],
            name="kernel",
        )
        self.bias = None
        if o["use_bias"]:
            self.bias = self.add_weight(
                shape=self.bias_shape,
                initializer=o["bias_initializer"],
                regularizer=o["bias_regularizer"],
                constraint=o["bias_constraint"],
                name="bias",
            )

    def call(self, inputs):
        outputs = torch.einsum(self.equation, inputs, self.kernel)
        return outputs if self.bias is None else outputs + self.bias


class MultiHeadAttention(Layer):
    """Multi-head attention (Vaswani et al.): `softmax(q k^T / sqrt(key_dim)) v` per head.

    Call it as `layer(query, value, key=None, attention_mask=None,
    return_attention_scores=False, training=None, use_causal_mask=False)`; `query` is
    `(batch, T, dim)`, `value`/`key` `(batch, S, dim)`, `attention_mask` a boolean
    `(batch, T, S)` (True = attend). Keras masks of the inputs (e.g. from
    `Embedding(mask_zero=True)`) are combined with it; the output keeps the query's mask.

    Example:
    >>> import tritonlayers as keras
    >>> mha = keras.layers.MultiHeadAttention(num_heads=2, key_dim=4)
    >>> x = keras.ops.ones((1, 5, 8))
    >>> out, scores = mha(x, x, return_attention_scores=True)
    >>> tuple(out.shape), tuple(scores.shape)
    ((1, 5, 8), (1, 2, 5, 5))
    """

    def __init__(
        self,
        num_heads: int,
        key_dim: int,
        value_dim: "int | None" = None,
        dropout: float = 0.0,
        use_bias: bool = True,
        output_shape: Any = None,
        attention_axes: Any = None,
        kernel_initializer: Any = "glorot_uniform",
        bias_initializer: Any = "zeros",
        kernel_regularizer: Any = None,
        bias_regularizer: Any = None,
        activity_regularizer: Any = None,
        kernel_constraint: Any = None,
        bias_constraint: Any = None,
        seed: "int | None" = None,
        **kwargs,
    ):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        self.supports_masking = True
        self.num_heads = num_heads
        self.key_dim = key_dim
        self.value_dim = value_dim if value_dim is not None else key_dim
        self.dropout = dropout
        self.use_bias = use_bias
        if isinstance(output_shape, (list, tuple)):
            if len(output_shape) != 1:
                raise ValueError(
                    f'Layer "{self.name}": `output_shape` must be an int or a 1-element '
                    f"tuple for (batch, sequence, features) inputs. Received: {output_shape}"
                )
            output_shape = output_shape[0]
        self._output_dim = output_shape
        if attention_axes not in (None, 1, -2, (1,), (-2,), [1], [-2]):
            raise ValueError(
                f'Layer "{self.name}" attends over the sequence axis of (batch, sequence, '
                f"features) inputs: `attention_axes` must be None or (1,). "
                f"Received: attention_axes={attention_axes}"
            )
        self.attention_axes = attention_axes
        self.seed = seed
        self._options = projection_options(
            use_bias,
            kernel_initializer,
            bias_initializer,
            kernel_regularizer,
            bias_regularizer,
            kernel_constraint,
            bias_constraint,
        )
        self._dropout_layer = Dropout(rate=dropout, seed=seed, dtype=self.dtype_policy)

    def build(self, query_shape, value_shape, key_shape=None):
        key_shape = checked_attention_shapes(self, query_shape, value_shape, key_shape)
        output_dim = self._output_dim or query_shape[-1]
        heads = self.num_heads
        self._query_dense = self._heads_projection("query", query_shape[-1], self.key_dim)
        self._key_dense = self._heads_projection("key", key_shape[-1], self.key_dim)
        self._value_dense = self._heads_projection("value", value_shape[-1], self.value_dim)
        self._output_dense = _Projection(
            "bthk,hke->bte",
            (heads, self.value_dim, output_dim),
            (output_dim,),
            self._options,
            name="attention_output",
            dtype=self.dtype_policy,
        )
        for projection in (self._query_dense, self._key_dense, self._value_dense):
            projection.build(None)
        self._output_dense.build(None)

    def _heads_projection(self, name: str, features: int, head_dim: int) -> _Projection:
        """features -> (num_heads, head_dim) per sequence step."""
        return heads_projection(self, name, features, self.num_heads, head_dim)

    def call(
        self,
        query,
        value,
        key=None,
        query_mask=None,
        value_mask=None,
        key_mask=None,
        attention_mask=None,
        return_attention_scores: bool = False,
        training=None,
        use_causal_mask: bool = False,
    ):
        if key is None:
            key = value
            key_mask = None
        elif key.shape[1] != value.shape[1]:
            raise ValueError(
                f'Layer "{self.name}": `key` and `value` must have the same sequence length. '
                f"Received: key.shape={tuple(key.shape)}, value.shape={tuple(value.shape)}"
            )
        mask = _combined_mask(
            query, value, query_mask, value_mask, key_mask, attention_mask, use_causal_mask
        )
        q = self._query_dense(query) * (1.0 / math.sqrt(self.key_dim))
        k = self._key_dense(key)
        v = self._value_dense(value)
        scores = torch.einsum("bshk,bthk->bhts", k, q)
        if mask is not None:
            mask = mask.unsqueeze(1)  # (batch, 1, T, S): the same for every head
            scores = torch.where(mask, scores, _large_negative(scores.dtype))
        scores = torch.softmax(scores, dim=-1)
        if mask is not None:
            scores = torch.where(mask, scores, 0.0)  # fully masked rows attend nowhere
        outputs = torch.einsum("bhts,bshk->bthk", self._dropout_layer(scores, training=training), v)
        outputs = self._output_dense(outputs)
        if query_mask is not None:
            outputs._keras_mask = query_mask
        return (outputs, scores) if return_attention_scores else outputs

    def compute_mask(self, inputs, mask=None):
        return mask

    def compute_output_spec(
        self, query, value, key=None, return_attention_scores: bool = False, **kwargs
    ):
        """The output KerasTensor, with the `(batch, heads, target, source)` scores when
        `return_attention_scores` (a functional model then gets both)."""
        keys = () if key is None else (key,)
        outputs = super().compute_output_spec(query, value, *keys, **kwargs)
        if not return_attention_scores:
            return outputs
        shape = (query.shape[0], self.num_heads, query.shape[1], value.shape[1])
        return outputs, KerasTensor(shape, dtype=self.compute_dtype)

    def compute_output_shape(self, query_shape, value_shape, key_shape=None):
        return (*query_shape[:-1], self._output_dim or query_shape[-1])

    def get_config(self):
        o = self._options
        return {
            **super().get_config(),
            "num_heads": self.num_heads,
            "key_dim": self.key_dim,
            "value_dim": self.value_dim,
            "dropout": self.dropout,
            "use_bias": self.use_bias,
            "output_shape": self._output_dim,
            "attention_axes": self.attention_axes,
            "kernel_initializer": initializers.serialize(o["kernel_initializer"]),
            "bias_initializer": initializers.serialize(o["bias_initializer"]),
            "kernel_regularizer": regularizers.serialize(o["kernel_regularizer"]),
            "bias_regularizer": regularizers.serialize(o["bias_regularizer"]),
            "kernel_constraint": constraints.serialize(o["kernel_constraint"]),
            "bias_constraint": constraints.serialize(o["bias_constraint"]),
            "seed": self.seed,
        }


def projection_options(
    use_bias,
    kernel_initializer,
    bias_initializer,
    kernel_regularizer,
    bias_regularizer,
    kernel_constraint,
    bias_constraint,
) -> dict:
    """The kernel and bias options an attention layer gives each of its projections."""
    return {
        "use_bias": use_bias,
        "kernel_initializer": initializers.get(kernel_initializer),
        "bias_initializer": initializers.get(bias_initializer),
        "kernel_regularizer": regularizers.get(kernel_regularizer),
        "bias_regularizer": regularizers.get(bias_regularizer),
        "kernel_constraint": constraints.get(kernel_constraint),
        "bias_constraint": constraints.get(bias_constraint),
    }


def checked_attention_shapes(layer: Layer, query_shape, value_shape, key_shape):
    """The key shape (the value's when None), after checking that every input is
    (batch, sequence, features)."""
    key_shape = value_shape if key_shape is None else key_shape
    for name, shape in (("query", query_shape), ("value", value_shape), ("key", key_shape)):
        if len(shape) != 3:
            raise ValueError(
                f'Layer "{layer.name}" expects (batch, sequence, features) inputs. '
                f"Received: {name}.shape={tuple(shape)}"
            )
    return key_shape


def heads_projection(
    layer: Layer, name: str, features: int, heads: int, head_dim: int
) -> _Projection:
    """An attention layer's projection of `features` to `(heads, head_dim)` per sequence
    step, with the layer's kernel options and dtype policy."""
    shape = (heads, head_dim)
    return _Projection(
        "bsd,dhk->bshk",
        (features, *shape),
        shape,
        layer._options,
        name=name,
        dtype=layer.dtype_policy,
    )


def _large_negative(dtype: torch.dtype) -> float:
    """Keras's stand-in for -inf before a softmax (-1e9, or -3e4 in float16)."""
    return -3e4 if dtype == torch.float16 else -1e9


def _combined_mask(query, value, query_mask, value_mask, key_mask, attention_mask, causal):
    """The boolean (batch, T, S) mask: the AND of the inputs' masks, `attention_mask` and
    the causal mask, or None when there is none."""
    masks = []
    if query_mask is not None:
        masks.append(query_mask.bool().unsqueeze(-1))
    for sequence_mask in (value_mask, key_mask):
        if sequence_mask is not None:
            masks.append(sequence_mask.bool().unsqueeze(-2))
    if attention_mask is not None:
        masks.append(torch.as_tensor(attention_mask, device=query.device).bool())
    if causal:
        steps, sources = query.shape[1], value.shape[1]
        masks.append(
            torch.ones(steps, sources, dtype=torch.bool, device=query.device).tril().unsqueeze(0)
        )
    if not masks:
        return None
    combined = masks[0]
    for mask in masks[1:]:
        combined = combined & mask
    return combined
