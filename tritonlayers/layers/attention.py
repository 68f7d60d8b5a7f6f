"""MultiHeadAttention over `(batch, sequence, features)` inputs, with Keras 3's weights.

The projections keep Keras's layout and paths, so weights copy across with
`set_weights(get_weights())`: `query/kernel` `(dim, heads, key_dim)`, `query/bias`
`(heads, key_dim)`, likewise `key` and `value`, and `attention_output/kernel`
`(heads, value_dim, output_dim)` with `attention_output/bias` `(output_dim,)`.
"""

import math
from typing import Any

import torch
import torch.nn.functional as F

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

    As in Keras 3: `sliding_window=w` lets query `i` see keys `j` with `|i - j| < w`;
    `use_gate=True` multiplies the attention output by `sigmoid(query @ gate/kernel +
    gate/bias)` before the output projection; `flash_attention=True` asks for the fused
    kernel only (then `dropout` must be 0 and scores cannot be returned). Without dropout
    and returned scores, torch's fused attention computes the output (a fully masked query
    row then averages every value, as in Keras); otherwise the scores are written out.

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
        sliding_window: "int | None" = None,
        flash_attention: "bool | None" = None,
        kernel_initializer: Any = "glorot_uniform",
        bias_initializer: Any = "zeros",
        kernel_regularizer: Any = None,
        bias_regularizer: Any = None,
        activity_regularizer: Any = None,
        kernel_constraint: Any = None,
        bias_constraint: Any = None,
        use_gate: bool = False,
        seed: "int | None" = None,
        **kwargs,
    ):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        if sliding_window is not None and (
            not isinstance(sliding_window, int) or sliding_window <= 0
        ):
            raise ValueError(
                "`sliding_window` must be `None` or a positive integer. "
                f"Received: sliding_window={sliding_window}"
            )
        if flash_attention and dropout > 0.0:
            raise ValueError(
                "Dropout is not supported when flash attention is enabled. "
                "Please set dropout to 0.0 to use flash attention."
            )
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
        self.attention_axes = (
            (attention_axes,) if isinstance(attention_axes, int) else attention_axes
        )
        self.sliding_window = sliding_window
        self._flash_attention = bool(flash_attention)
        self.use_gate = use_gate
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
        self._gate_dense = None
        if self.use_gate:
            self._gate_dense = self._heads_projection("gate", query_shape[-1], self.value_dim)
        self._value_dense = self._heads_projection("value", value_shape[-1], self.value_dim)
        self._output_dense = _Projection(
            "bthk,hke->bte",
            (heads, self.value_dim, output_dim),
            (output_dim,),
            self._options,
            name="attention_output",
            dtype=self.dtype_policy,
        )
        for projection in (self._query_dense, self._key_dense, self._gate_dense):
            if projection is not None:
                projection.build(None)
        self._value_dense.build(None)
        self._output_dense.build(None)
        # Keras resolves the attended axes when it builds: the sequence axis, (1,).
        self.attention_axes = (1,)

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
        # As Keras 3.15, the query's mask is the one its tensor carries: a `query_mask`
        # passed for a tensor that carries none is not used.
        query_mask = getattr(query, "_keras_mask", None)
        if key is None:
            key = value
            key_mask = None
        elif key.shape[1] != value.shape[1]:
            raise ValueError(
                f'Layer "{self.name}": `key` and `value` must have the same sequence length. '
                f"Received: key.shape={tuple(key.shape)}, value.shape={tuple(value.shape)}"
            )
        if self._flash_attention and return_attention_scores:
            raise ValueError(
                "Returning attention scores is not supported when flash attention is enabled. "
                "Please disable flash attention to access attention scores."
            )
        masks = (query_mask, value_mask, key_mask, attention_mask)
        mask = _combined_mask(query, value, *masks, use_causal_mask, self.sliding_window)
        gate = None if self._gate_dense is None else torch.sigmoid(self._gate_dense(query))
        q, k, v = self._query_dense(query), self._key_dense(key), self._value_dense(value)
        scores = None
        if self.dropout > 0.0 or return_attention_scores:
            outputs, scores = self._attention_with_scores(q, k, v, mask, training)
        else:
            outputs = self._fused_attention(q, k, v, mask)
        outputs = self._output_dense(outputs if gate is None else outputs * gate)
        if query_mask is not None:
            outputs._keras_mask = query_mask
        return (outputs, scores) if return_attention_scores else outputs

    def _fused_attention(self, q, k, v, mask):
        """torch's scaled_dot_product_attention; masked logits get -0.7 * the largest float."""
        bias = None
        if mask is not None:
            bias = torch.where(mask.unsqueeze(1), 0.0, _sdpa_mask_value(q.dtype)).to(q.dtype)
        outputs = F.scaled_dot_product_attention(
            q.transpose(1, 2),
            k.transpose(1, 2),
            v.transpose(1, 2),
            attn_mask=bias,
            scale=1.0 / math.sqrt(self.key_dim),
        )
        return outputs.transpose(1, 2)

    def _attention_with_scores(self, q, k, v, mask, training):
        """The scores written out: the outputs `(batch, T, heads, value_dim)` and the scores
        `(batch, heads, T, S)`; a fully masked row gets zero scores."""
        q = q * (1.0 / math.sqrt(self.key_dim))
        scores = torch.einsum("bshk,bthk->bhts", k, q)
        return attend(scores, mask, v, self._dropout_layer, training)

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
            "use_gate": self.use_gate,
            # Keras keeps a given output_shape as a tuple: 6 and [6] are listed as (6,).
            "output_shape": (self._output_dim,) if self._output_dim else self._output_dim,
            "attention_axes": self.attention_axes,
            "sliding_window": self.sliding_window,
            "kernel_initializer": initializers.serialize(o["kernel_initializer"]),
            "bias_initializer": initializers.serialize(o["bias_initializer"]),
            "kernel_regularizer": regularizers.serialize(o["kernel_regularizer"]),
            "bias_regularizer": regularizers.serialize(o["bias_regularizer"]),
            "activity_regularizer": regularizers.serialize(self.activity_regularizer),
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


def _sdpa_mask_value(dtype: torch.dtype) -> float:
    """Keras's logit for a masked position on its fused path: -0.7 * the dtype's largest."""
    return -0.7 * (65500.0 if dtype == torch.float16 else 3.38953e38)


def attend(scores, mask, v, dropout, training):
    """Attention weights from `scores` (batch, heads, T, S): softmax where the (batch, T, S)
    `mask` allows (fully masked rows attend nowhere), then `dropout`. Returns the weighted
    values `(batch, T, heads, dim)` of `v` and the weights before dropout."""
    if mask is not None:
        mask = mask.unsqueeze(1)  # (batch, 1, T, S): the same for every head
        scores = torch.where(mask, scores, _large_negative(scores.dtype))
    scores = torch.softmax(scores, dim=-1)
    if mask is not None:
        scores = torch.where(mask, scores, 0.0)
    weights = dropout(scores, training=training)
    return torch.einsum("bhts,bshk->bthk", weights, v), scores


def _sliding_window_mask(steps: int, sources: int, window: int) -> torch.Tensor:
    """(1, T, S) boolean band: query i sees source j when |i - j| < window."""
    distance = torch.arange(steps)[:, None] - torch.arange(sources)[None, :]
    return (distance.abs() < window)[None]


def _combined_mask(
    query, value, query_mask, value_mask, key_mask, attention_mask, causal, window=None
):
    """The boolean (batch, T, S) mask: the AND of the inputs' masks, `attention_mask`, the
    causal mask and the sliding-window band of `window`, or None when there is none."""
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
    if window is not None:
        band = _sliding_window_mask(query.shape[1], value.shape[1], window)
        masks.append(band.to(query.device))
    if not masks:
        return None
    combined = masks[0]
    for mask in masks[1:]:
        combined = combined & mask
    return combined
