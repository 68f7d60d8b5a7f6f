"""Attention (Luong, dot-product) and AdditiveAttention (Bahdanau) over lists of sequences.

Both are called as Keras's are: `layer([query, value])` or `layer([query, value, key])`,
with `query` `(batch, Tq, dim)` and `value`/`key` `(batch, Tv, dim)`, and give
`softmax(scores(query, key)) @ value`, `(batch, Tq, value_dim)`. `mask=[query_mask,
value_mask]` (filled in from the inputs' Keras masks, e.g. `Embedding(mask_zero=True)`)
keeps masked values out of the softmax and zeroes the outputs of masked queries; the output
keeps the query's mask. As in Keras, a masked score is lowered by 1e9 (65504 in float16)
rather than set to -inf, so a row with every value masked still attends uniformly.
"""

from typing import Any

import torch

from .. import random
from .layer import Layer


def _mask_bias(dtype: torch.dtype) -> float:
    """What a masked score loses before the softmax: float16's largest value, else 1e9."""
    return 65504.0 if dtype == torch.float16 else 1.0e9


def _is_shape(value: Any) -> bool:
    return isinstance(value, (tuple, list, torch.Size)) and all(
        d is None or isinstance(d, int) for d in value
    )


class Attention(Layer):
    """Dot-product attention: `softmax(query @ key^T) @ value` (Luong-style).

    Args:
        use_scale: multiply the scores by a learned scalar `scale` (ones at first).
        score_mode: "dot" (`query @ key^T`) or "concat"
            (`concat_score_weight * sum(tanh(query + key))` over the features).
        dropout: fraction of the attention weights dropped in training.
        seed: seed of the dropout.

    Call arguments: `inputs=[query, value(, key)]`, `mask=[query_mask, value_mask]`,
    `training`, `return_attention_scores=False` (also return the attention weights,
    `(batch, Tq, Tv)`, after the mask, softmax and dropout) and `use_causal_mask=False`
    (query step i attends only to value steps j <= i).

    Example:
    >>> import torch, tritonlayers as keras
    >>> query = torch.tensor([[[1.0, 0.0]]])
    >>> value = torch.tensor([[[2.0, 0.0], [0.0, 2.0]]])
    >>> out, scores = keras.layers.Attention()([query, value], return_attention_scores=True)
    >>> [round(s, 4) for s in scores[0, 0].tolist()]
    [0.8808, 0.1192]
    >>> tuple(out.shape)
    (1, 1, 2)
    """

    def __init__(
        self,
        use_scale: bool = False,
        score_mode: str = "dot",
        dropout: float = 0.0,
        seed: "int | None" = None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if score_mode not in ("dot", "concat"):
            raise ValueError(
                "Invalid value for argument score_mode. Expected one of {'dot', 'concat'}. "
                f"Received: score_mode={score_mode}"
            )
        if not isinstance(dropout, (int, float)) or not 0 <= dropout <= 1:
            raise ValueError(
                f"{type(self).__name__}: `dropout` must be a float between 0 and 1. "
                f"Received: dropout={dropout}"
            )
        self.use_scale = use_scale
        self.score_mode = score_mode
        self.dropout = dropout
        self.seed = seed
        self.supports_masking = True
        if dropout > 0:
            self.seed_generator = random.SeedGenerator(seed)

    def build(self, input_shape):
        self._checked_inputs(input_shape)
        self.scale = self.concat_score_weight = None
        if self.use_scale:
            self.scale = self.add_weight(name="scale", shape=(), initializer="ones")
        if self.score_mode == "concat":
            self.concat_score_weight = self.add_weight(
                name="concat_score_weight", shape=(), initializer="ones"
            )

    def _checked_inputs(self, inputs: Any) -> list:
        """`[query, value, key]` (key defaulting to value) from a list of 2 or 3 tensors (or
        shapes) of one rank, each `(..., steps, features)` as Keras's (a leading batch axis, or
        several, or none); anything else is an error naming the layer."""
        kind = type(self).__name__
        if not isinstance(inputs, (list, tuple)) or _is_shape(inputs):
            raise ValueError(
                f"{kind} layer '{self.name}' must be called on a list of inputs, namely "
                f"[query, value] or [query, value, key]. Received: inputs={inputs}."
            )
        if not 2 <= len(inputs) <= 3:
            raise ValueError(
                f"{kind} layer '{self.name}' accepts an inputs list of length 2 or 3, namely "
                f"[query, value] or [query, value, key]. Received length: {len(inputs)}."
            )
        query, value, key = (*inputs, inputs[1]) if len(inputs) == 2 else inputs
        query_shape, value_shape, key_shape = (
            tuple(item) if _is_shape(item) else tuple(item.shape) for item in (query, value, key)
        )
        rank = max(len(query_shape), 2)
        for role, shape in (("query", query_shape), ("value", value_shape), ("key", key_shape)):
            if len(shape) != rank:
                raise ValueError(
                    f"{kind} layer '{self.name}' expects (..., steps, features) inputs of one "
                    f"rank: expected ndim={rank}, found ndim={len(shape)} for {role}.shape={shape}."
                )
        if None not in (query_shape[-1], key_shape[-1]) and query_shape[-1] != key_shape[-1]:
            raise ValueError(
                f"{kind} layer '{self.name}': query and key must have the same number of "
                f"features. Received: query.shape={query_shape}, key.shape={key_shape}."
            )
        if None not in (key_shape[-2], value_shape[-2]) and key_shape[-2] != value_shape[-2]:
            raise ValueError(
                f"{kind} layer '{self.name}': key and value must have the same number of "
                f"steps. Received: key.shape={key_shape}, value.shape={value_shape}."
            )
        return [query, value, key]

    def _checked_mask(self, mask: Any) -> "tuple[Any, Any]":
        """`(query_mask, value_mask)` from `mask=[query_mask, value_mask(, key_mask)]`."""
        if mask is None:
            return None, None
        if not isinstance(mask, (list, tuple)) or not 2 <= len(mask) <= 3:
            raise ValueError(
                f"{type(self).__name__} layer '{self.name}' expects `mask` to be a list "
                f"[query_mask, value_mask]. Received: mask={mask}."
            )
        return mask[0], mask[1]

    def _scores(self, query: torch.Tensor, key: torch.Tensor) -> torch.Tensor:
        """The `(batch, Tq, Tv)` attention logits."""
        if self.score_mode == "dot":
            scores = torch.matmul(query, key.transpose(-2, -1))
            return scores if self.scale is None else scores * self.scale
        pairs = query.unsqueeze(-2) + key.unsqueeze(-3)  # (batch, Tq, Tv, dim)
        if self.scale is not None:
            pairs = pairs * self.scale
        return self.concat_score_weight * torch.tanh(pairs).sum(dim=-1)

    def call(
        self,
        inputs,
        mask=None,
        training=False,
        return_attention_scores: bool = False,
        use_causal_mask: bool = False,
    ):
        query, value, key = self._checked_inputs(inputs)
        query_mask, value_mask = self._checked_mask(mask)
        scores = self._scores(query, key)
        keep = _keep_mask(value_mask, use_causal_mask, scores)
        if keep is not None:
            scores = torch.where(keep, scores, scores - _mask_bias(scores.dtype))
        weights = torch.softmax(scores, dim=-1)
        if training and self.dropout > 0:
            weights = random.dropout(weights, self.dropout, seed=self.seed_generator)
        outputs = torch.matmul(weights, value)
        if query_mask is not None:
            outputs = torch.where(query_mask.bool().unsqueeze(-1), outputs, 0.0)
        return (outputs, weights) if return_attention_scores else outputs

    def compute_mask(self, inputs, mask=None):
        query_mask, _ = self._checked_mask(mask)
        return query_mask

    def get_config(self):
        return {
            **super().get_config(),
            "use_scale": self.use_scale,
            "score_mode": self.score_mode,
            "dropout": self.dropout,
            "seed": self.seed,
        }


def _keep_mask(value_mask: Any, causal: bool, scores: torch.Tensor) -> "torch.Tensor | None":
    """Which scores take part in the softmax: `(batch, 1, Tv)` from the value mask, AND the
    lower-triangular `(1, Tq, Tv)` causal mask when asked; None when neither is given."""
    keep = None if value_mask is None else value_mask.bool().unsqueeze(-2)
    if causal:
        steps, sources = scores.shape[-2], scores.shape[-1]
        causal_mask = torch.ones(steps, sources, dtype=torch.bool, device=scores.device).tril()
        keep = causal_mask.unsqueeze(0) if keep is None else keep & causal_mask
    return keep


class AdditiveAttention(Attention):
    """Additive attention (Bahdanau-style): scores `sum(scale * tanh(query + key))` over the
    features, then `softmax(scores) @ value`.

    Args:
        use_scale: learn a per-feature `scale` of shape `(dim,)` (glorot-uniform at first);
            without it the tanh terms are summed as they are.
        dropout: fraction of the attention weights dropped in training.
        seed: seed of the dropout.

    Call arguments as `Attention`'s.

    Example:
    >>> import torch, tritonlayers as keras
    >>> layer = keras.layers.AdditiveAttention(use_scale=False)
    >>> query, value = torch.zeros(1, 2, 3), torch.ones(1, 4, 3)
    >>> tuple(layer([query, value]).shape)
    (1, 2, 3)
    """

    def __init__(
        self, use_scale: bool = True, dropout: float = 0.0, seed: "int | None" = None, **kwargs
    ):
        super().__init__(use_scale=use_scale, dropout=dropout, seed=seed, **kwargs)

    def build(self, input_shape):
        query_shape = self._checked_inputs(input_shape)[0]
        self.scale = None
        if self.use_scale:
            self.scale = self.add_weight(
                name="scale", shape=(query_shape[-1],), initializer="glorot_uniform"
            )

    def _scores(self, query: torch.Tensor, key: torch.Tensor) -> torch.Tensor:
        terms = torch.tanh(query.unsqueeze(-2) + key.unsqueeze(-3))  # (batch, Tq, Tv, dim)
        if self.scale is not None:
            terms = terms * self.scale
        return terms.sum(dim=-1)

    def get_config(self):
        config = super().get_config()
        config.pop("score_mode")
        return config
