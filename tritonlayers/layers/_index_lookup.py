"""What StringLookup and IntegerLookup share (`IndexLookup`: the vocabulary, `adapt`, the
lookup and its encodings) and the host-side input conversions of the text layers.

Index layout, as in Keras 3: `[mask] + [OOV] * num_oov_indices + tokens`, the mask slot only
for `output_mode="int"`; `adapt` orders tokens by count, ties broken by the token, high to
low; "tf_idf" weights are `log(1 + num_documents / (1 + document_count))`, the OOV slots
taking their mean.

Example:
>>> from tritonlayers.layers._index_lookup import to_strings
>>> to_strings("StringLookup", [b"a", "b"]).tolist()
['a', 'b']
"""

import os
from collections import Counter
from collections.abc import Iterable
from typing import Any

import numpy as np
import torch

from .. import config
from ._string_hashing import hash_buckets
from .layer import Layer

OUTPUT_MODES = ("int", "one_hot", "multi_hot", "count", "tf_idf")


def standardize_output_mode(layer: str, output_mode: str, allowed: tuple = OUTPUT_MODES) -> str:
    output_mode = {"binary": "multi_hot", "tf-idf": "tf_idf"}.get(output_mode, output_mode)
    if output_mode not in allowed:
        raise ValueError(
            f"{layer}: invalid value for argument `output_mode`. Expected one of {allowed}. "
            f"Received: output_mode={output_mode!r}"
        )
    return output_mode


def check_dense(layer: str, sparse: bool, ragged: bool = False) -> None:
    if sparse or ragged:
        flag = "sparse" if sparse else "ragged"
        raise ValueError(
            f"{layer}: `{flag}=True` can only be used with the TensorFlow backend "
            "(tritonlayers tensors are dense torch tensors)."
        )


def to_numpy(values: Any) -> np.ndarray:
    if isinstance(values, torch.Tensor):
        return values.detach().cpu().numpy()
    return np.asarray(values)


def to_strings(layer: str, values: Any) -> np.ndarray:
    """`values` (str, nested lists, or an array of str/bytes) as an object array of str."""
    array = to_numpy(values)
    if array.dtype.kind == "S":
        array = np.char.decode(array, "utf-8")
    if array.dtype.kind == "O":
        flat = [v.decode("utf-8") if isinstance(v, bytes) else v for v in array.reshape(-1)]
        if not all(isinstance(v, str) for v in flat):
            raise ValueError(f"{layer}: expected string inputs. Received: {values!r}")
        return np.asarray(flat, dtype=object).reshape(array.shape)
    if array.dtype.kind != "U":
        raise ValueError(
            f"{layer}: expected string inputs (a str, a list or a NumPy array of str). "
            f"Received values of dtype {array.dtype}."
        )
    return array.astype(object)


def to_integers(layer: str, values: Any) -> np.ndarray:
    """`values` (ints, an int array or tensor, or whole floats) as an int64 array."""
    array = to_numpy(values)
    if array.dtype.kind == "f" and np.array_equal(array, np.round(array)):
        array = array.astype(np.int64)
    if array.dtype.kind not in "iub":
        raise ValueError(
            f"{layer}: expected integer inputs. Received values of dtype {array.dtype}."
        )
    return array.astype(np.int64)


def encode_ids(ids: np.ndarray, output_mode: str, depth: int, idf: "np.ndarray | None"):
    """Encode int ids in [0, depth) as Keras's lookup layers do; -1 marks a dropped id.

    "one_hot" adds an axis (replacing a trailing axis of size 1); "multi_hot", "count" and
    "tf_idf" reduce the last (sample) axis to one vector of `depth` per sample.
    """
    if ids.ndim == 0:
        ids = ids.reshape(1)
    if output_mode == "one_hot":
        if ids.ndim > 1 and ids.shape[-1] == 1:
            ids = ids[..., 0]
        flat = ids.reshape(-1)
        out = np.zeros((flat.size, depth), dtype=np.float32)
        keep = flat >= 0
        out[np.nonzero(keep)[0], flat[keep]] = 1.0
        return torch.as_tensor(out.reshape(ids.shape + (depth,)), device=config.device())
    rows = ids.reshape(int(np.prod(ids.shape[:-1])), ids.shape[-1])
    counts = np.zeros((rows.shape[0], depth), dtype=np.float32)
    row_index = np.broadcast_to(np.arange(rows.shape[0])[:, None], rows.shape)
    keep = rows >= 0
    np.add.at(counts, (row_index[keep], rows[keep]), 1.0)
    if output_mode == "multi_hot":
        counts = np.minimum(counts, 1.0)
    elif output_mode == "tf_idf":
        counts = counts * idf[:depth].astype(np.float32)
    return torch.as_tensor(counts.reshape(ids.shape[:-1] + (depth,)), device=config.device())


def encoded_shape(input_shape: tuple, output_mode: str, depth: "int | None") -> tuple:
    shape = tuple(input_shape) or (1,)
    if output_mode == "int":
        return tuple(input_shape)
    if output_mode == "one_hot":
        return (shape[:-1] if len(shape) > 1 and shape[-1] == 1 else shape) + (depth,)
    return shape[:-1] + (depth,)


def check_no_vocabulary_file(layer: str, config: dict) -> None:
    """Refuse, in safe mode, a config naming a vocabulary file outside the model archive."""
    from ..saving.serialization_lib import in_safe_mode

    vocabulary = config.get("vocabulary")
    if isinstance(vocabulary, (str, os.PathLike)) and in_safe_mode():
        raise ValueError(
            f"{layer}: requested the loading of a vocabulary file outside of the model "
            "archive, which could read arbitrary files, so it is disallowed by default. If "
            "you trust the source of the config, call "
            "`keras.config.enable_unsafe_deserialization()` (or load with "
            f"`safe_mode=False`). Vocabulary file: {vocabulary!r}"
        )


class IndexLookup(Layer):
    """What StringLookup and IntegerLookup share: the vocabulary, `adapt`, and the lookup."""

    def __init__(
        self,
        max_tokens: "int | None",
        num_oov_indices: int,
        mask_token: Any,
        oov_token: Any,
        vocabulary: Any = None,
        idf_weights: Any = None,
        invert: bool = False,
        output_mode: str = "int",
        pad_to_max_tokens: bool = False,
        sparse: bool = False,
        oov_method: str = "floormod",
        salt: Any = None,
        **kwargs,
    ):
        layer = type(self).__name__
        kwargs.pop("vocabulary_size", None)  # Keras records it in configs; it is derived here.
        kwargs.pop("vocabulary_dtype", None)
        has_input_vocabulary = kwargs.pop("has_input_vocabulary", vocabulary is not None)
        if max_tokens is not None and max_tokens <= 1:
            raise ValueError(
                f"{layer}: if set, `max_tokens` must be greater than 1. "
                f"Received: max_tokens={max_tokens}"
            )
        if pad_to_max_tokens and max_tokens is None:
            raise ValueError(
                f"{layer}: if `pad_to_max_tokens` is True, `max_tokens` must be set. "
                f"Received: max_tokens={max_tokens}"
            )
        if not isinstance(num_oov_indices, int) or num_oov_indices < 0:
            raise ValueError(
                f"{layer}: `num_oov_indices` must be an integer >= 0. "
                f"Received: num_oov_indices={num_oov_indices!r}"
            )
        if oov_method not in ("floormod", "farmhash"):
            raise ValueError(
                f"{layer}: invalid value for argument `oov_method`. Expected one of "
                f"('floormod', 'farmhash'). Received: oov_method={oov_method!r}"
            )
        output_mode = standardize_output_mode(layer, output_mode)
        if invert and output_mode != "int":
            raise ValueError(
                f"{layer}: `output_mode` must be 'int' when `invert` is true. "
                f"Received: output_mode={output_mode!r}"
            )
        if idf_weights is not None and output_mode != "tf_idf":
            raise ValueError(
                f"{layer}: `idf_weights` should only be set if `output_mode` is 'tf_idf'. "
                f"Received: output_mode={output_mode!r}"
            )
        if output_mode == "tf_idf" and vocabulary is not None and idf_weights is None:
            raise ValueError(
                f"{layer}: when specifying the `vocabulary` argument in 'tf_idf' output "
                "mode, the `idf_weights` argument must also be provided."
            )
        check_dense(layer, sparse)
        super().__init__(**kwargs)
        self.built = True  # no weights: the vocabulary lives on the host
        self.max_tokens = max_tokens
        self.num_oov_indices = num_oov_indices
        self.mask_token = mask_token
        self.oov_token = oov_token
        self.invert = invert
        self.output_mode = output_mode
        self.pad_to_max_tokens = pad_to_max_tokens
        self.sparse = sparse
        self.oov_method = oov_method
        self.salt = self._check_salt(salt)
        self._has_input_vocabulary = has_input_vocabulary
        self._tokens: list = []
        self._index: dict = {}
        self._idf_weights: np.ndarray | None = None
        self._vocabulary_set = False
        if vocabulary is not None:
            self.set_vocabulary(vocabulary, idf_weights)

    def _check_salt(self, salt: Any) -> "list[int] | None":
        if salt is None:
            return None
        if isinstance(salt, (tuple, list)) and len(salt) == 2:
            return [int(s) for s in salt]
        if isinstance(salt, int) and not isinstance(salt, bool):
            return [salt, salt]
        raise ValueError(
            f"{type(self).__name__}: the `salt` argument can only be a tuple of 2 integers, "
            f"or a single integer. Received: salt={salt!r}"
        )

    # ----------------------------------------------------------------- vocabulary

    def _oov_start_index(self) -> int:
        return 1 if self.mask_token is not None and self.output_mode == "int" else 0

    def _token_start_index(self) -> int:
        return self._oov_start_index() + self.num_oov_indices

    def vocabulary_size(self) -> int:
        """The vocabulary size, mask and OOV indices included."""
        return self._token_start_index() + len(self._tokens)

    def get_vocabulary(self, include_special_tokens: bool = True) -> list:
        """The vocabulary, in index order (with the mask and OOV tokens unless told not)."""
        if not include_special_tokens:
            return list(self._tokens)
        special = [self.mask_token] * self._oov_start_index()
        return special + [self.oov_token] * self.num_oov_indices + list(self._tokens)

    def set_vocabulary(self, vocabulary: Any, idf_weights: Any = None) -> None:
        """Replace the vocabulary (a list, array, tensor, or the path of a file with one
        token a line) and, for "tf_idf", its inverse document frequency weights."""
        layer = type(self).__name__
        if self.output_mode == "tf_idf" and idf_weights is None:
            raise ValueError(f"{layer}: `idf_weights` must be set if output_mode is 'tf_idf'.")
        if self.output_mode != "tf_idf" and idf_weights is not None:
            raise ValueError(
                f"{layer}: `idf_weights` should only be set if output_mode is 'tf_idf'. "
                f"Received: output_mode={self.output_mode!r}"
            )
        if isinstance(vocabulary, (str, os.PathLike)):
            vocabulary = self._read_vocabulary_file(str(vocabulary))
        tokens = list(self._keys(vocabulary).reshape(-1).tolist())
        if not tokens:
            raise ValueError(f"{layer}: cannot set an empty vocabulary. Received: {vocabulary!r}")
        token_start = self._token_start_index()
        special = [self.mask_token] * self._oov_start_index() + [self.oov_token] * (
            self.num_oov_indices
        )
        found_special = tokens[:token_start] == special
        if found_special:
            tokens = tokens[token_start:]
        repeated = [t for t, c in Counter(tokens).items() if c > 1]
        if repeated:
            raise ValueError(
                f"{layer}: the passed vocabulary has at least one repeated term. Please "
                f"uniquify your dataset. The repeated terms are: {repeated}"
            )
        for name, token in (("mask_token", self.mask_token), ("oov_token", self.oov_token)):
            if token is None or token not in tokens or (name == "oov_token" and not self.invert):
                continue
            raise ValueError(
                f"{layer}: found reserved {name} {token!r} at an unexpected location in "
                "`vocabulary`. The vocabulary does not need the OOV and mask tokens; either "
                "remove them all, or put them only at the start of the vocabulary in "
                f"precisely this order: {special}."
            )
        if self.max_tokens is not None and token_start + len(tokens) > self.max_tokens:
            raise ValueError(
                f"{layer}: attempted to set a vocabulary larger than the maximum vocab size. "
                f"Received vocabulary size is {token_start + len(tokens)}; `max_tokens` is "
                f"{self.max_tokens}."
            )
        if idf_weights is not None:
            weights = to_numpy(idf_weights).astype(np.float64)
            given = len(tokens) + (token_start if found_special else 0)
            if weights.ndim != 1 or weights.size != given:
                raise ValueError(
                    f"{layer}: `idf_weights` must be 1-D with the same length as the "
                    f"vocabulary ({given}). Received shape {weights.shape}."
                )
            if not found_special:  # OOV slots get the average weight, as in Keras
                weights = np.concatenate([np.full(token_start, weights.mean()), weights])
            self._idf_weights = self._pad_idf(weights.astype(np.float32))
        self._tokens = tokens
        self._index = {token: token_start + i for i, token in enumerate(tokens)}
        self._vocabulary_set = True

    def _read_vocabulary_file(self, path: str) -> list:
        if self.output_mode == "tf_idf":
            raise ValueError(
                f"{type(self).__name__}: output_mode 'tf_idf' does not support loading a "
                "vocabulary from file."
            )
        if not os.path.isfile(path):
            raise ValueError(f"{type(self).__name__}: vocabulary file {path} does not exist.")
        with open(path, encoding="utf-8") as f:
            lines = f.read().splitlines()
        while lines and lines[-1] == "":
            lines.pop()
        return lines

    def _pad_idf(self, weights: np.ndarray) -> np.ndarray:
        if self.pad_to_max_tokens and self.max_tokens is not None:
            weights = np.pad(weights, (0, max(self.max_tokens - weights.size, 0)))
        return weights

    # ---------------------------------------------------------------------- adapt

    def adapt(self, data: Any, steps: "int | None" = None) -> None:
        """Learn the vocabulary (and, for "tf_idf", document frequencies) from `data`.

        `data` is one batch (a list, array or tensor; a 1-D batch holds one token per
        document) or an iterable of batches (of which `steps` at most are read).
        """
        if self._has_input_vocabulary:
            raise ValueError(
                f"Cannot adapt layer '{self.name}' after setting a static vocabulary via "
                "the `vocabulary` argument or the `set_vocabulary()` method."
            )
        if isinstance(data, (list, tuple, np.ndarray, torch.Tensor)):
            documents = self._documents(data, one_token_documents=True)
        elif hasattr(data, "__iter__"):
            documents = (
                document
                for i, batch in enumerate(data)
                if steps is None or i < steps
                for document in self._documents(batch, one_token_documents=False)
            )
        else:
            raise TypeError(
                f"{type(self).__name__}: `adapt` takes a list, an array, a tensor or an "
                f"iterable of batches. Received: {type(data).__name__}"
            )
        self._adapt_documents(documents)

    def _documents(self, batch: Any, one_token_documents: bool) -> list:
        """A batch as a list of documents (token lists, which may differ in length).

        Rows of a 2-D (or ragged, a list of lists) batch are documents; a 1-D batch is one
        document, or one document per token when adapting on a single array (as Keras).
        """
        if isinstance(batch, (list, tuple)) and batch and isinstance(batch[0], (list, tuple)):
            return [self._keys(row).reshape(-1).tolist() for row in batch]
        keys = self._keys(batch)
        if keys.ndim <= 1:
            flat = keys.reshape(-1).tolist()
            return [[token] for token in flat] if one_token_documents else [flat]
        return [row.tolist() for row in keys.reshape(keys.shape[0], -1)]

    def _adapt_documents(self, documents: Iterable[list]) -> None:
        counts: Counter = Counter()
        document_counts: Counter = Counter()
        num_documents = 0
        for document in documents:
            counts.update(document)
            if self.output_mode == "tf_idf":
                document_counts.update(set(document))
                num_documents += 1
        for special in (self.mask_token, self.oov_token):
            counts.pop(special, None)
        if not counts:
            return
        # Most frequent first; ties broken by the token, high to low (as Keras does).
        tokens = sorted(counts, key=lambda t: (counts[t], t), reverse=True)
        if self.max_tokens:
            tokens = tokens[: self.max_tokens - self._token_start_index()]
        token_start = self._token_start_index()
        if self.output_mode == "tf_idf":
            frequencies = np.array([document_counts[t] for t in tokens], dtype=np.float64)
            idf = np.log(1.0 + num_documents / (1.0 + frequencies)).astype(np.float32)
            idf = np.concatenate([np.full(token_start, idf.mean(), dtype=np.float32), idf])
            self._idf_weights = self._pad_idf(idf)
        self._tokens = tokens
        self._index = {token: token_start + i for i, token in enumerate(tokens)}
        self._vocabulary_set = True

    # ----------------------------------------------------------------------- call

    def _convert_inputs(self, args: tuple, kwargs: dict) -> "tuple[tuple, dict]":
        return args, kwargs  # strings stay on the host; `call` converts

    def _depth(self) -> int:
        return self.max_tokens if self.pad_to_max_tokens else self.vocabulary_size()

    def call(self, inputs: Any) -> Any:
        if self.invert:
            return self._lookup_tokens(to_integers(type(self).__name__, inputs))
        ids = self._lookup_ids(self._keys(inputs))
        if self.output_mode == "int":
            return torch.as_tensor(ids, device=config.device())
        return self._encode(ids)

    def _encode(self, ids: np.ndarray) -> torch.Tensor:
        """One/multi-hot, count or tf-idf vectors of the looked-up `ids` (-1: dropped)."""
        if not self.pad_to_max_tokens and not self._vocabulary_set:
            raise RuntimeError(
                f"{type(self).__name__}: when using `output_mode={self.output_mode}` and "
                "`pad_to_max_tokens=False`, you must set the layer's vocabulary before "
                "calling it. Either pass a `vocabulary` argument to the layer, or call "
                "`adapt` with some sample data."
            )
        return encode_ids(ids, self.output_mode, self._depth(), self._idf_weights)

    def _lookup_ids(self, keys: np.ndarray) -> np.ndarray:
        """Vocabulary indices of `keys`; OOV keys hashed or modded into the OOV indices; the
        mask token to 0 ("int") or -1 (dropped by the encodings)."""
        flat = keys.reshape(-1).tolist()
        ids = np.fromiter((self._index.get(k, -1) for k in flat), np.int64, len(flat))
        is_mask = np.zeros(len(flat), dtype=bool)
        if self.mask_token is not None:
            is_mask = np.fromiter((k == self.mask_token for k in flat), bool, len(flat))
        oov = (ids == -1) & ~is_mask
        if oov.any():
            ids[oov] = self._oov_ids([k for k, o in zip(flat, oov) if o])
        ids[is_mask] = 0 if self.output_mode == "int" else -1
        return ids.reshape(keys.shape)

    def _oov_ids(self, values: list) -> np.ndarray:
        if self.num_oov_indices == 0:
            raise ValueError(
                f"{type(self).__name__}: when `num_oov_indices=0` all inputs should be in "
                f"vocabulary, found OOV values {values}, consider setting "
                "`num_oov_indices=1`."
            )
        start = self._oov_start_index()
        if self.num_oov_indices == 1:
            return np.full(len(values), start, dtype=np.int64)
        if isinstance(values[0], int) and self.oov_method == "floormod":
            return np.mod(np.asarray(values, dtype=np.int64), self.num_oov_indices) + start
        texts = [str(v) for v in values]
        return hash_buckets(texts, self.num_oov_indices, self.salt) + start

    def _lookup_tokens(self, ids: np.ndarray) -> Any:
        """`invert=True`: indices back to tokens; indices outside the vocabulary (and the OOV
        indices) give `oov_token`, index 0 gives `mask_token` when there is one."""
        vocabulary = self.get_vocabulary()
        tokens = [
            vocabulary[i] if 0 <= i < len(vocabulary) else self.oov_token
            for i in ids.reshape(-1).tolist()
        ]
        return self._token_output(np.asarray(tokens, dtype=object).reshape(ids.shape))

    def compute_output_shape(self, input_shape: Any) -> tuple:
        if self.output_mode == "int":
            return tuple(input_shape)
        return encoded_shape(tuple(input_shape), self.output_mode, self._depth())

    def compute_output_spec(self, inputs: Any) -> Any:
        from .symbolic import KerasTensor

        dtype = "int64" if self.output_mode == "int" else config.floatx()
        return KerasTensor(self.compute_output_shape(inputs.shape), dtype=dtype)

    @classmethod
    def from_config(cls, config: dict) -> "IndexLookup":
        check_no_vocabulary_file(cls.__name__, config)
        return super().from_config(config)

    def get_config(self) -> dict:
        vocabulary = idf_weights = None
        if self._vocabulary_set:
            vocabulary = self.get_vocabulary()
            if self._idf_weights is not None:
                idf_weights = self._idf_weights[: self.vocabulary_size()].tolist()
        return {
            **super().get_config(),
            "invert": self.invert,
            "max_tokens": self.max_tokens,
            "num_oov_indices": self.num_oov_indices,
            "oov_token": self.oov_token,
            "mask_token": self.mask_token,
            "output_mode": self.output_mode,
            "sparse": self.sparse,
            "pad_to_max_tokens": self.pad_to_max_tokens,
            "idf_weights": idf_weights,
            "vocabulary": vocabulary,
            "vocabulary_size": self.vocabulary_size() if self._vocabulary_set else None,
            "salt": self.salt,
            "has_input_vocabulary": self._has_input_vocabulary,
        }
