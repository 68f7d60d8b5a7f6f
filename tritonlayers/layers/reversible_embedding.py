"""ReversibleEmbedding: an Embedding that also projects hidden states back to logits."""

import torch

from ..dtype_policies import to_torch_dtype
from .core import Embedding
from .symbolic import KerasTensor


class ReversibleEmbedding(Embedding):
    """An `Embedding` that, called with `reverse=True`, maps `(..., output_dim)` hidden
    states to `(..., input_dim)` logits.

    The reverse projection multiplies by `embeddings.T` (`tie_weights=True`, language
    models' weight tying) or by its own `reverse_embeddings (output_dim, input_dim)`
    weight. `reverse_dtype` sets the dtype of that matmul (default: the inputs' and
    weights' common dtype); `logit_soft_cap` caps logits as `tanh(x / cap) * cap`. Other
    arguments as `Embedding`'s. No bias.

    Example:
    >>> import torch, tritonlayers as keras
    >>> layer = keras.layers.ReversibleEmbedding(10, 4)
    >>> hidden = layer(torch.tensor([[1, 2, 3]]))
    >>> tuple(hidden.shape), tuple(layer(hidden, reverse=True).shape)
    ((1, 3, 4), (1, 3, 10))
    """

    def __init__(
        self,
        input_dim: int,
        output_dim: int,
        tie_weights: bool = True,
        embeddings_initializer="uniform",
        embeddings_regularizer=None,
        embeddings_constraint=None,
        mask_zero: bool = False,
        reverse_dtype=None,
        logit_soft_cap: "float | None" = None,
        **kwargs,
    ):
        super().__init__(
            input_dim,
            output_dim,
            embeddings_initializer=embeddings_initializer,
            embeddings_regularizer=embeddings_regularizer,
            embeddings_constraint=embeddings_constraint,
            mask_zero=mask_zero,
            **kwargs,
        )
        self.tie_weights = tie_weights
        self.reverse_dtype = reverse_dtype
        self.logit_soft_cap = logit_soft_cap

    def build(self, input_shape=None):
        super().build(input_shape)
        if not self.tie_weights:
            self.reverse_embeddings = self.add_weight(
                name="reverse_embeddings",
                shape=(self.output_dim, self.input_dim),
                initializer=self.embeddings_initializer,
            )

    def call(self, inputs, reverse: bool = False):
        if not reverse:
            outputs = super().call(inputs)
            if self.mask_zero:
                outputs._keras_mask = torch.ne(inputs, 0)
            return outputs
        if inputs.shape[-1] != self.output_dim:
            raise ValueError(
                f'Layer "{self.name}" (ReversibleEmbedding): a reverse call expects inputs '
                f"whose last axis is output_dim={self.output_dim}. Received: input shape "
                f"{tuple(inputs.shape)}"
            )
        kernel = self.embeddings.T if self.tie_weights else self.reverse_embeddings
        if self.reverse_dtype is not None:
            dtype = to_torch_dtype(self.reverse_dtype)
        else:
            dtype = torch.promote_types(inputs.dtype, kernel.dtype)
        logits = inputs.to(dtype) @ kernel.to(dtype)
        if self.logit_soft_cap is not None:
            logits = torch.tanh(logits / self.logit_soft_cap) * self.logit_soft_cap
        return logits

    def compute_mask(self, inputs, mask=None):
        return None  # a forward call attaches its padding mask itself

    def compute_output_shape(self, input_shape, reverse: bool = False):
        if reverse:
            return (*input_shape[:-1], self.input_dim)
        return (*input_shape, self.output_dim)

    def compute_output_spec(self, inputs, reverse: bool = False):
        shape = self.compute_output_shape(tuple(inputs.shape), reverse=reverse)
        return KerasTensor(shape, dtype=self.compute_dtype)

    def get_config(self):
        return {
            **super().get_config(),
            "tie_weights": self.tie_weights,
            "reverse_dtype": self.reverse_dtype,
            "logit_soft_cap": self.logit_soft_cap,
        }
