"""Categorical preprocessing layers: CategoryEncoding (integer ids to one/multi-hot or counts)
and Discretization (numbers to bucket ids, with bucket boundaries from `adapt`)."""

from typing import Any

import numpy as np
import torch

from ..dtype_policies import to_torch_dtype
from .layer import Layer

_OUTPUT_MODES = ("int", "one_hot", "multi_hot", "count")


def _encode(ids: torch.Tensor, output_mode: str, depth: int, dtype, weights=None):
    """Encode integer `ids` in [0, depth) as Keras does.

    "one_hot" adds an axis (replacing a trailing axis of size 1); "multi_hot" and "count"
    reduce axis 1 of a batch (axis 0 of a single sample) to a presence flag or a (weighted)
    count per id.
    """
    if output_mode == "int":
        return ids.to(dtype)
    if ids.ndim == 0:
        ids = ids.reshape(1)
    if output_mode == "one_hot" and ids.ndim > 1 and ids.shape[-1] == 1:
        ids = ids.squeeze(-1)
    one_hot = torch.nn.functional.one_hot(ids.long(), depth).to(dtype)
    if output_mode == "one_hot":
        return one_hot
    axis = 1 if ids.ndim > 1 else 0
    if output_mode == "multi_hot":
        return one_hot.amax(dim=axis)
    if weights is not None:
        one_hot = one_hot * weights.to(dtype).unsqueeze(-1)
    return one_hot.sum(dim=axis)


def _encoded_shape(input_shape: tuple, output_mode: str, depth: int) -> tuple:
    """The shape `_encode` gives for inputs of `input_shape`."""
    shape = tuple(input_shape)
    if output_mode == "int":
        return shape
    if len(shape) == 0:
        shape = (1,)
    if output_mode == "one_hot":
        if len(shape) > 1 and shape[-1] == 1:
            shape = shape[:-1]
        return shape + (depth,)
    return (shape[0],) + shape[2:] + (depth,) if len(shape) > 1 else (depth,)


def _check_output_mode(layer: str, output_mode: str, allowed: tuple) -> None:
    if output_mode not in allowed:
        raise ValueError(
            f"{layer}: unknown value for `output_mode`. Allowed values are: {allowed}. "
            f"Received: output_mode={output_mode!r}"
        )


def _check_dense(layer: str, sparse: bool) -> None:
    if sparse:
        raise ValueError(
            f"{layer}: `sparse=True` is not supported (tritonlayers tensors are dense torch "
            "tensors, like Keras's torch backend). Received: sparse=True"
        )


class CategoryEncoding(Layer):
    """Encodes integer ids in [0, num_tokens) as one-hot, multi-hot or count vectors.

    `output_mode`: "multi_hot" (default; 1 where an id occurs in the sample, "binary" is an
    alias), "one_hot" (one vector per id) or "count" (occurrences per id, weighted by
    `count_weights` when given). Inputs are 1-D (one sample) or 2-D (a batch of samples).

    Example:
    >>> import torch
    >>> import tritonlayers as keras
    >>> keras.layers.CategoryEncoding(4)(torch.tensor([[0, 1], [3, 3]])).tolist()
    [[1.0, 1.0, 0.0, 0.0], [0.0, 0.0, 0.0, 1.0]]
    >>> keras.layers.CategoryEncoding(4, output_mode="count")(torch.tensor([1, 1, 3])).tolist()
    [0.0, 2.0, 0.0, 1.0]
    """

    def __init__(
        self,
        num_tokens: "int | None" = None,
        output_mode: str = "multi_hot",
        sparse: bool = False,
        **kwargs,
    ):
        if output_mode == "binary":
            output_mode = "multi_hot"
        _check_output_mode("CategoryEncoding", output_mode, _OUTPUT_MODES[1:])
        if num_tokens is None:
            raise ValueError(
                "CategoryEncoding: `num_tokens` must be set to use this layer. If the number "
                "of tokens is not known beforehand, use the IntegerLookup layer instead."
            )
        if isinstance(num_tokens, bool) or not isinstance(num_tokens, int) or num_tokens < 1:
            raise ValueError(
                f"CategoryEncoding: `num_tokens` must be an integer >= 1. "
                f"Received: num_tokens={num_tokens!r}"
            )
        _check_dense("CategoryEncoding", sparse)
        super().__init__(**kwargs)
        self.num_tokens = num_tokens
        self.output_mode = output_mode
        self.sparse = sparse

    def call(self, inputs, count_weights=None):
        ids = torch.as_tensor(inputs)
        if ids.is_floating_point() and not torch.equal(ids, ids.round()):
            raise ValueError(
                f"CategoryEncoding: expected integer token ids. Received inputs of dtype "
                f"{ids.dtype} with non-integer values."
            )
        if ids.numel() and (int(ids.min()) < 0 or int(ids.max()) >= self.num_tokens):
            raise ValueError(
                f"CategoryEncoding: token ids must be in [0, num_tokens) = "
                f"[0, {self.num_tokens}). Received values in [{int(ids.min())}, "
                f"{int(ids.max())}]."
            )
        if count_weights is not None and self.output_mode != "count":
            raise ValueError(
                "CategoryEncoding: `count_weights` is not used when `output_mode` is not "
                f"'count'. Received: count_weights={count_weights}"
            )
        dtype = to_torch_dtype(self.compute_dtype)
        weights = None if count_weights is None else torch.as_tensor(count_weights)
        return _encode(ids, self.output_mode, self.num_tokens, dtype, weights)

    def compute_output_shape(self, input_shape):
        return _encoded_shape(input_shape, self.output_mode, self.num_tokens)

    def get_config(self):
        return {
            **super().get_config(),
            "num_tokens": self.num_tokens,
            "output_mode": self.output_mode,
        }


def _summarize(values: np.ndarray, epsilon: float) -> np.ndarray:
    """A (2, k) quantile summary of `values`: every `step`-th sorted value, weight `step`."""
    values = np.sort(values.reshape(-1))
    step = max(values.size / (1.0 / epsilon), 1)
    picked = values[int(step - 1) :: int(step)]
    return np.stack([picked, np.full_like(picked, step)])


def _compress(summary: np.ndarray, epsilon: float) -> np.ndarray:
    """Re-grid a summary at the cumulative-weight fractions epsilon, 2 * epsilon, ..., 1."""
    if summary.shape[1] * epsilon < 1:
        return summary
    fractions = epsilon + np.arange(0.0, 1.0, epsilon)
    cumulative = summary[1].cumsum()
    at = cumulative / cumulative[-1]
    points = np.interp(fractions, at, summary[0])
    new_cumulative = np.interp(fractions, at, cumulative)
    weights = np.diff(new_cumulative, prepend=0.0)
    return np.stack([points, weights]).astype("float32")


def _merge(summary: np.ndarray, other: np.ndarray, epsilon: float) -> np.ndarray:
    merged = np.concatenate([summary, other], axis=1)
    return _compress(merged[:, np.argsort(merged[0])], epsilon)


class Discretization(Layer):
    """Buckets numbers by `bin_boundaries`: bucket i holds `boundaries[i-1] <= x < boundaries[i]`.

    Give `bin_boundaries`, or `num_bins` and call `adapt(data)` to place `num_bins - 1`
    boundaries at the data's quantiles (an approximate summary with error about `epsilon`,
    the same algorithm as Keras). `output_mode`: "int" (bucket ids, int32), or "one_hot",
    "multi_hot", "count" (encoded as in CategoryEncoding, depth = number of buckets).

    Example:
    >>> import torch
    >>> import tritonlayers as keras
    >>> layer = keras.layers.Discretization(bin_boundaries=[0.0, 1.0, 2.0])
    >>> layer(torch.tensor([[-1.5, 1.0, 3.4, 0.5]])).tolist()
    [[0, 2, 3, 1]]
    >>> adapted = keras.layers.Discretization(num_bins=2)
    >>> adapted.adapt(torch.arange(10.0))
    >>> adapted.bin_boundaries
    [4.0]
    """

    def __init__(
        self,
        bin_boundaries: "list[float] | None" = None,
        num_bins: "int | None" = None,
        epsilon: float = 0.01,
        output_mode: str = "int",
        sparse: bool = False,
        **kwargs,
    ):
        _check_output_mode("Discretization", output_mode, _OUTPUT_MODES)
        _check_dense("Discretization", sparse)
        if num_bins is not None and (not isinstance(num_bins, int) or num_bins < 0):
            raise ValueError(
                "Discretization: `num_bins` must be an integer >= 0. "
                f"Received: num_bins={num_bins!r}"
            )
        if num_bins is not None and bin_boundaries is not None:
            raise ValueError(
                "Discretization: both `num_bins` and `bin_boundaries` should not be set. "
                f"Received: num_bins={num_bins} and bin_boundaries={bin_boundaries}"
            )
        if num_bins is None and bin_boundaries is None:
            raise ValueError(
                "Discretization: you need to set either `num_bins` or `bin_boundaries`."
            )
        super().__init__(**kwargs)
        self.bin_boundaries = None if bin_boundaries is None else [float(b) for b in bin_boundaries]
        self.num_bins = num_bins
        self.epsilon = epsilon
        self.output_mode = output_mode
        self.sparse = sparse
        self._summary = np.zeros((2, 0), dtype="float32")

    def adapt(self, data: Any) -> None:
        """Set `bin_boundaries` to `num_bins` quantile buckets of `data`.

        `data` is an array or tensor (all of it is one batch) or an iterable of batches.
        """
        if self.num_bins is None:
            raise ValueError(
                "Discretization: cannot adapt a layer that was given `bin_boundaries`; "
                "construct it with `num_bins` instead."
            )
        if isinstance(data, (np.ndarray, torch.Tensor)):
            batches = [data]
        elif hasattr(data, "__iter__"):
            batches = data
        else:
            raise TypeError(
                "Discretization: `adapt` takes an array, a tensor or an iterable of batches. "
                f"Received: {type(data).__name__}"
            )
        summary = np.zeros((2, 0), dtype="float32")
        for batch in batches:
            if isinstance(batch, torch.Tensor):
                batch = batch.detach().cpu().numpy()
            values = np.asarray(batch).astype("float32")
            summary = _merge(_summarize(values, self.epsilon), summary, self.epsilon)
        self._summary = summary
        self.bin_boundaries = _compress(summary, 1.0 / self.num_bins)[0, :-1].tolist()

    def call(self, inputs):
        if self.bin_boundaries is None:
            raise ValueError(
                "Discretization: you need to either pass the `bin_boundaries` argument at "
                "construction time or call `adapt(dataset)` before you can start using the "
                "layer."
            )
        values = torch.as_tensor(inputs)
        if not values.is_floating_point():
            values = values.to(to_torch_dtype(self.compute_dtype))
        boundaries = torch.tensor(self.bin_boundaries, dtype=values.dtype, device=values.device)
        ids = torch.bucketize(values, boundaries, right=True)
        dtype = torch.int32 if self.output_mode == "int" else to_torch_dtype(self.compute_dtype)
        return _encode(ids, self.output_mode, len(self.bin_boundaries) + 1, dtype)

    def compute_output_shape(self, input_shape):
        depth = self.num_bins if self.bin_boundaries is None else len(self.bin_boundaries) + 1
        return _encoded_shape(input_shape, self.output_mode, depth)

    def get_config(self):
        # Keras's order, with only the base keys its constructor takes (no `trainable`).
        return {
            "bin_boundaries": self.bin_boundaries,
            "num_bins": self.num_bins,
            "epsilon": self.epsilon,
            "output_mode": self.output_mode,
            "sparse": self.sparse,
            "name": self.name,
            "dtype": self.dtype,
        }

    @classmethod
    def from_config(cls, config: dict) -> "Discretization":
        # An adapted layer's config holds both `num_bins` and the boundaries it found.
        config = dict(config)
        boundaries = config.get("bin_boundaries")
        if boundaries is not None and config.get("num_bins") is not None:
            del config["bin_boundaries"]
            layer = super().from_config(config)
            layer.bin_boundaries = list(boundaries)
            return layer
        return super().from_config(config)
