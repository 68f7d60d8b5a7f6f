"""GroupedQueryAttention, Keras's `GroupQueryAttention` (Ainslie et al. 2023): query heads
share fewer key/value heads.

Keras 3's weights and paths: `query/kernel` `(dim, num_query_heads, head_dim)`, `key/kernel`
and `value/kernel` `(dim, num_key_value_heads, head_dim)`, `attention_output/kernel`
`(num_query_heads, head_dim, dim)` (biases drop the first axis), plus `gate/kernel` with
`use_gate`. Key/value head `j` serves query heads `j * r ... (j + 1) * r - 1`, where
`r = num_query_heads // num_key_value_heads`.

As in Keras, two paths give the output. Without dropout and without returned scores, torch's
`scaled_dot_product_attention` computes it; a masked position then gets a very large
negative logit, so a fully masked query row averages all values. With dropout or
`return_attention_scores=True`, the scores are written out and a fully masked row is zeros.
"""

import math
from typing import Any

import torch
import torch.nn.functional as F

from .. import constraints, initializers, regularizers
from .attention import (
    _combined_mask,
    _Projection,
    _sdpa_mask_value,
    attend,
    checked_attention_shapes,
    heads_projection,
    projection_options,
)
from .layer import Layer
from .regularization import Dropout
from .symbolic import KerasTensor


class GroupedQueryAttention(Layer):
    """Grouped-query attention: `softmax(q k^T / sqrt(head_dim)) v` with shared k/v heads.

    `num_key_value_heads=1` is multi-query attention and `num_key_value_heads ==
    num_query_heads` is multi-head attention. Call it as Keras's: `layer(query, value,
    key=None, attention_mask=None, return_attention_scores=False, training=None,
    use_causal_mask=False)`, with `query` `(batch, T, dim)`, `value`/`key` `(batch, S, dim)`
    and `attention_mask` a boolean `(batch, T, S)` (True = attend). The inputs' Keras masks
    are combined with it, and the output keeps the query's mask.

    Args:
        head_dim: size of each head.
        num_query_heads: number of query heads.
        num_key_value_heads: number of key/value heads; must divide `num_query_heads`.
        dropout: fraction of the attention weights dropped in training.
        use_bias: whether the projections have biases.
        sliding_window: None, or a positive int `w`: query `i` sees keys `j` with
            `|i - j| < w` (with `use_causal_mask`, the `w` latest ones).
        flash_attention: True asks for the fused kernel only (then `dropout` must be 0 and
            scores cannot be returned); None/False let the layer choose.
        kernel_initializer, bias_initializer, kernel_regularizer, bias_regularizer,
        activity_regularizer, kernel_constraint, bias_constraint: of the projections
            (the activity regularizer applies to the layer's output).
        use_gate: gate the attention output with `sigmoid(query @ gate_kernel + gate_bias)`.
        seed: seed of the dropout.

    Example:
    >>> import tritonlayers as keras
    >>> gqa = keras.layers.GroupQueryAttention(head_dim=4, num_query_heads=4, num_key_value_heads=2)
    >>> x = keras.ops.ones((1, 5, 8))
    >>> out, scores = gqa(x, x, return_attention_scores=True)
    >>> tuple(out.shape), tuple(scores.shape), tuple(gqa.weights[2].shape)
    ((1, 5, 8), (1, 4, 5, 5), (8, 2, 4))
    """

    def __init__(
        self,
        head_dim: int,
        num_query_heads: int,
        num_key_value_heads: int,
        dropout: float = 0.0,
        use_bias: bool = True,
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
        self.supports_masking = True
        if num_query_heads % num_key_value_heads != 0:
            raise ValueError(
                f'Layer "{self.name}": `num_query_heads` must be divisible by '
                f"`num_key_value_heads`. Received: num_query_heads={num_query_heads}, "
                f"num_key_value_heads={num_key_value_heads}"
            )
        if sliding_window is not None and (
            not isinstance(sliding_window, int) or sliding_window <= 0
        ):
            raise ValueError(
                f'Layer "{self.name}": `sliding_window` must be `None` or a positive integer. '
                f"Received: sliding_window={sliding_window}"
            )
        if flash_attention and dropout > 0.0:
            raise ValueError(
                f'Layer "{self.name}": dropout is not supported when flash attention is '
                f"enabled. Set dropout to 0.0 to use flash attention. Received: dropout={dropout}"
            )
        self.head_dim = head_dim
        self.num_query_heads = num_query_heads
        self.num_key_value_heads = num_key_value_heads
        self.num_repeats = num_query_heads // num_key_value_heads
        self.dropout = dropout
        self.use_bias = use_bias
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
        self._feature_dim = query_shape[-1]
        self._query_dense = self._heads_projection("query", query_shape[-1], self.num_query_heads)
        self._key_dense = self._heads_projection("key", key_shape[-1], self.num_key_value_heads)
        self._gate_dense = None
        if self.use_gate:
            self._gate_dense = self._heads_projection("gate", query_shape[-1], self.num_query_heads)
        self._value_dense = self._heads_projection(
            "value", value_shape[-1], self.num_key_value_heads
        )
        self._output_dense = _Projection(
            "bthk,hkd->btd",
            (self.num_query_heads, self.head_dim, self._feature_dim),
            (self._feature_dim,),
            self._options,
            name="attention_output",
            dtype=self.dtype_policy,
        )
        for projection in (
            self._query_dense,
            self._key_dense,
            self._gate_dense,
            self._value_dense,
            self._output_dense,
        ):
            if projection is not None:
                projection.build(None)

    def _heads_projection(self, name: str, features: int, heads: int) -> _Projection:
        """features -> (heads, head_dim) per sequence step."""
        return heads_projection(self, name, features, heads, self.head_dim)

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
        if self._flash_attention and return_attention_scores:
            raise ValueError(
                f'Layer "{self.name}": returning attention scores is not supported when '
                "flash attention is enabled. Disable flash attention to get the scores."
            )
        key = value if key is None else key
        others = (query_mask, value_mask, key_mask, attention_mask, self.sliding_window)
        causal_only = use_causal_mask and all(other is None for other in others)
        mask = None
        if not causal_only:
            masks = (query_mask, value_mask, key_mask, attention_mask)
            mask = _combined_mask(query, value, *masks, use_causal_mask, self.sliding_window)
        gate = None if self._gate_dense is None else torch.sigmoid(self._gate_dense(query))
        q, k, v = self._query_dense(query), self._key_dense(key), self._value_dense(value)
        scores = None
        if self.dropout > 0.0 or return_attention_scores:
            outputs, scores = self._attention_with_scores(q, k, v, mask, causal_only, training)
        else:
            outputs = self._fused_attention(q, k, v, mask, causal_only)
        outputs = self._output_dense(outputs if gate is None else outputs * gate)
        if query_mask is not None:
            outputs._keras_mask = query_mask
        return (outputs, scores) if return_attention_scores else outputs

    def _fused_attention(self, q, k, v, mask, causal: bool):
        """torch's scaled_dot_product_attention; masked logits get -0.7 * the largest float."""
        bias = None
        if mask is not None:
            bias = torch.where(mask.unsqueeze(1), 0.0, _sdpa_mask_value(q.dtype)).to(q.dtype)
        outputs = F.scaled_dot_product_attention(
            q.transpose(1, 2),
            k.transpose(1, 2),
            v.transpose(1, 2),
            attn_mask=bias,
            is_causal=causal,
            scale=1.0 / math.sqrt(self.head_dim),
            enable_gqa=True,
        )
        return outputs.transpose(1, 2)

    def _attention_with_scores(self, q, k, v, mask, causal: bool, training):
        """The scores written out: returns the outputs `(batch, T, heads, head_dim)` and the
        scores `(batch, heads, T, S)`."""
        if causal:
            steps, sources = q.shape[1], k.shape[1]
            mask = torch.ones(steps, sources, dtype=torch.bool, device=q.device).tril()[None]
        k = torch.repeat_interleave(k, self.num_repeats, dim=2)
        v = torch.repeat_interleave(v, self.num_repeats, dim=2)
        q = q * (1.0 / math.sqrt(self.head_dim))
        scores = torch.einsum("bthk,bshk->bhts", q, k)
        return attend(scores, mask, v, self._dropout_layer, training)

    def compute_mask(self, inputs, mask=None):
        return mask

    def compute_output_spec(
        self, query, value, key=None, return_attention_scores: bool = False, **kwargs
    ):
        """The output KerasTensor, with the `(batch, num_query_heads, T, S)` scores when
        `return_attention_scores` (a functional model then gets both)."""
        keys = () if key is None else (key,)
        outputs = super().compute_output_spec(query, value, *keys, **kwargs)
        if not return_attention_scores:
            return outputs
        shape = (query.shape[0], self.num_query_heads, query.shape[1], value.shape[1])
        return outputs, KerasTensor(shape, dtype=self.compute_dtype)

    def compute_output_shape(self, query_shape, value_shape, key_shape=None):
        key_shape = value_shape if key_shape is None else key_shape
        if query_shape[-1] != value_shape[-1]:
            raise ValueError(
                f'Layer "{self.name}": the last dimension of `query_shape` and `value_shape` '
                f"must be equal, but are {query_shape[-1]}, {value_shape[-1]}. Received: "
                f"query_shape={tuple(query_shape)}, value_shape={tuple(value_shape)}"
            )
        if tuple(value_shape[1:-1]) != tuple(key_shape[1:-1]):
            raise ValueError(
                f'Layer "{self.name}": all dimensions of `value` and `key`, except the last '
                f"one, must be equal. Received: value_shape={tuple(value_shape)} and "
                f"key_shape={tuple(key_shape)}"
            )
        return tuple(query_shape)

    def get_config(self):
        o = self._options
        return {
            **super().get_config(),
            "head_dim": self.head_dim,
            "num_query_heads": self.num_query_heads,
            "num_key_value_heads": self.num_key_value_heads,
            "use_bias": self.use_bias,
            "use_gate": self.use_gate,
            "sliding_window": self.sliding_window,
            "dropout": self.dropout,
            "kernel_initializer": initializers.serialize(o["kernel_initializer"]),
            "bias_initializer": initializers.serialize(o["bias_initializer"]),
            "kernel_regularizer": regularizers.serialize(o["kernel_regularizer"]),
            "bias_regularizer": regularizers.serialize(o["bias_regularizer"]),
            "activity_regularizer": regularizers.serialize(self.activity_regularizer),
            "kernel_constraint": constraints.serialize(o["kernel_constraint"]),
            "bias_constraint": constraints.serialize(o["bias_constraint"]),
            "seed": self.seed,
        }


GroupQueryAttention = GroupedQueryAttention  # Keras's public name for the class
