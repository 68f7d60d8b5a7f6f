"""Lookup and text preprocessing layers: StringLookup, IntegerLookup, Hashing and
TextVectorization.

Strings are handled on the host (Python lists or NumPy arrays of `str`; there is no string
tensor in torch): the layers look up, hash, standardize and split them in Python/NumPy and
return torch tensors on `config.device()` (int64 ids, or float counts/encodings).

Vocabularies follow Keras 3: `adapt` orders tokens by count, ties broken by the token in
descending order; the index layout is `[mask] + [OOV] * num_oov_indices + tokens`, where the
mask slot exists only for `output_mode="int"`. Several OOV indices are filled by hashing
(FarmHash64, or SipHash-2-4 with a `salt`, the same bucket numbers as Keras) or, for
integers, by `floormod`. An adapted vocabulary is kept in `get_config()["vocabulary"]` (Keras
writes it to an asset file instead), so saved models carry it in `config.json`.
"""

import re
import string
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
import torch

from .. import config
from ._index_lookup import (
    OUTPUT_MODES,
    IndexLookup,
    check_dense,
    check_no_vocabulary_file,
    encode_ids,
    encoded_shape,
    standardize_output_mode,
    to_integers,
    to_numpy,
    to_strings,
)
from ._string_hashing import hash_buckets
from .layer import Layer


class StringLookup(IndexLookup):
    """Maps strings to vocabulary indices (or encodes them as one/multi-hot, count, tf-idf).

    Give a `vocabulary` or call `adapt(data)`. Index layout: the mask token (when
    `mask_token` is set and `output_mode="int"`), then `num_oov_indices` OOV indices (OOV
    strings are hashed among them with FarmHash64, or SipHash-2-4 when `salt` is given),
    then the vocabulary. `invert=True` maps indices back to strings (a NumPy array of str).
    Outputs: int64 ids, or float32 vectors of `vocabulary_size()` (or `max_tokens` with
    `pad_to_max_tokens=True`) per sample for "multi_hot", "count" and "tf_idf".

    Example:
    >>> import tritonlayers as keras
    >>> layer = keras.layers.StringLookup(vocabulary=["a", "b", "c", "d"])
    >>> layer([["a", "c", "d"], ["d", "z", "b"]]).tolist()
    [[1, 3, 4], [4, 0, 2]]
    >>> adapted = keras.layers.StringLookup()
    >>> adapted.adapt([["a", "c", "d"], ["d", "z", "b"]])
    >>> adapted.get_vocabulary()
    ['[UNK]', 'd', 'z', 'c', 'b', 'a']
    """

    def __init__(
        self,
        max_tokens: "int | None" = None,
        num_oov_indices: int = 1,
        mask_token: "str | None" = None,
        oov_token: str = "[UNK]",
        vocabulary: Any = None,
        idf_weights: Any = None,
        invert: bool = False,
        output_mode: str = "int",
        pad_to_max_tokens: bool = False,
        sparse: bool = False,
        encoding: str = "utf-8",
        name: "str | None" = None,
        salt: Any = None,
        **kwargs,
    ):
        self.encoding = encoding
        kwargs.pop("oov_method", None)  # in Keras's configs; strings always hash OOV values
        super().__init__(
            max_tokens=max_tokens,
            num_oov_indices=num_oov_indices,
            mask_token=mask_token,
            oov_token=oov_token,
            vocabulary=vocabulary,
            idf_weights=idf_weights,
            invert=invert,
            output_mode=output_mode,
            pad_to_max_tokens=pad_to_max_tokens,
            sparse=sparse,
            oov_method="farmhash",
            salt=salt,
            name=name,
            **kwargs,
        )

    def _keys(self, values: Any) -> np.ndarray:
        return to_strings("StringLookup", values)

    def _token_output(self, tokens: np.ndarray) -> np.ndarray:
        return tokens.astype(str)

    def get_config(self) -> dict:
        return {**super().get_config(), "encoding": self.encoding}


class IntegerLookup(IndexLookup):
    """Maps integers to contiguous vocabulary indices (or encodes them like StringLookup).

    Give a `vocabulary` or call `adapt(data)`. The index layout is the same as StringLookup's;
    with several OOV indices an OOV value `x` goes to `x mod num_oov_indices`
    (`oov_method="floormod"`) or to the FarmHash64 (SipHash-2-4 with `salt`) bucket of its
    decimal text (`oov_method="farmhash"`). Inputs may be lists, arrays or tensors;
    `invert=True` maps indices back to the integers (an int64 tensor).

    Example:
    >>> import numpy as np
    >>> import tritonlayers as keras
    >>> layer = keras.layers.IntegerLookup(vocabulary=[12, 36, 1138, 42])
    >>> layer(np.array([[12, 1138, 42], [42, 1000, 36]])).tolist()
    [[1, 3, 4], [4, 0, 2]]
    """

    def __init__(
        self,
        max_tokens: "int | None" = None,
        num_oov_indices: int = 1,
        mask_token: "int | None" = None,
        oov_token: int = -1,
        vocabulary: Any = None,
        vocabulary_dtype: str = "int64",
        idf_weights: Any = None,
        invert: bool = False,
        output_mode: str = "int",
        sparse: bool = False,
        pad_to_max_tokens: bool = False,
        oov_method: str = "floormod",
        salt: Any = None,
        name: "str | None" = None,
        **kwargs,
    ):
        if vocabulary_dtype != "int64":
            raise ValueError(
                "IntegerLookup: only `vocabulary_dtype='int64'` is supported at this time. "
                f"Received: vocabulary_dtype={vocabulary_dtype!r}"
            )
        if salt is not None and oov_method != "farmhash":
            raise ValueError(
                "IntegerLookup: `salt` can only be used when `oov_method='farmhash'`. "
                f"Received: oov_method={oov_method!r}"
            )
        super().__init__(
            max_tokens=max_tokens,
            num_oov_indices=num_oov_indices,
            mask_token=None if mask_token is None else int(mask_token),
            oov_token=None if oov_token is None else int(oov_token),
            vocabulary=vocabulary,
            idf_weights=idf_weights,
            invert=invert,
            output_mode=output_mode,
            pad_to_max_tokens=pad_to_max_tokens,
            sparse=sparse,
            oov_method=oov_method,
            salt=salt,
            name=name,
            **kwargs,
        )
        self.vocabulary_dtype = vocabulary_dtype

    def _keys(self, values: Any) -> np.ndarray:
        return to_integers("IntegerLookup", values)

    def _token_output(self, tokens: np.ndarray) -> torch.Tensor:
        return torch.as_tensor(tokens.astype(np.int64), device=config.device())

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "vocabulary_dtype": self.vocabulary_dtype,
            "oov_method": self.oov_method,
        }


class Hashing(Layer):
    """Hashes strings or integers into `num_bins` bins, with Keras's bin numbers.

    Strings are hashed with FarmHash64 (TensorFlow's `Fingerprint64`), or with SipHash-2-4
    keyed by `salt` (one int, or two). Integers are hashed as their decimal text, floats are
    first truncated to integers. With a `mask_value`, that value goes to bin 0 and the others
    to bins 1..num_bins-1. `output_mode`: "int" (int64 bins), "one_hot", "multi_hot" or
    "count" (float32 vectors of `num_bins`, the last axis being the sample).

    Example:
    >>> import tritonlayers as keras
    >>> keras.layers.Hashing(num_bins=3)([["A"], ["B"], ["C"], ["D"], ["E"]]).tolist()
    [[1], [0], [1], [1], [2]]
    >>> keras.layers.Hashing(num_bins=3, salt=133)([["A"], ["B"], ["C"]]).tolist()
    [[0], [0], [2]]
    """

    def __init__(
        self,
        num_bins: int,
        mask_value: Any = None,
        salt: Any = None,
        output_mode: str = "int",
        sparse: bool = False,
        **kwargs,
    ):
        if (
            num_bins is None
            or isinstance(num_bins, bool)
            or not isinstance(num_bins, int)
            or num_bins <= 0
        ):
            raise ValueError(
                "Hashing: `num_bins` cannot be `None` or non-positive values. "
                f"Received: num_bins={num_bins!r}."
            )
        output_mode = standardize_output_mode("Hashing", output_mode, OUTPUT_MODES[:4])
        check_dense("Hashing", sparse)
        super().__init__(**kwargs)
        self.built = True  # no weights
        self.num_bins = num_bins
        self.mask_value = mask_value
        self.output_mode = output_mode
        self.sparse = sparse
        self.strong_hash = salt is not None
        if salt is None:
            self.salt = None
        elif isinstance(salt, (tuple, list)) and len(salt) == 2:
            self.salt = [int(s) for s in salt]
        elif isinstance(salt, int) and not isinstance(salt, bool):
            self.salt = [salt, salt]
        else:
            raise ValueError(
                "Hashing: the `salt` argument can only be a tuple of size 2 integers, or a "
                f"single integer. Received: salt={salt!r}."
            )

    def _convert_inputs(self, args: tuple, kwargs: dict) -> "tuple[tuple, dict]":
        return args, kwargs  # strings stay on the host; `call` converts

    def _texts(self, inputs: Any) -> "tuple[np.ndarray, np.ndarray]":
        """The inputs as decimal/str text (flat) and their array (for shape and masking)."""
        array = to_numpy(inputs)
        if array.dtype.kind in "USO":
            array = to_strings("Hashing", array)
            return array.reshape(-1), array
        if array.dtype.kind not in "iuf":
            raise ValueError(
                "Hashing: expected strings, integers or floats. "
                f"Received values of dtype {array.dtype}."
            )
        integers = array.astype(np.int64)  # floats are truncated, as Keras's cast does
        return np.asarray([str(v) for v in integers.reshape(-1).tolist()], dtype=object), array

    def call(self, inputs: Any) -> torch.Tensor:
        texts, array = self._texts(inputs)
        bins = self.num_bins
        masked = self.mask_value is not None and bins > 1
        if masked:
            bins -= 1
        ids = hash_buckets(texts.tolist(), bins, self.salt)
        if masked:
            ids = np.where(array.reshape(-1) == self.mask_value, 0, ids + 1)
        ids = ids.reshape(array.shape)
        if self.output_mode == "int":
            return torch.as_tensor(ids, device=config.device())
        return encode_ids(ids, self.output_mode, self.num_bins, None)

    def compute_output_shape(self, input_shape: Any) -> tuple:
        return encoded_shape(tuple(input_shape), self.output_mode, self.num_bins)

    def compute_output_spec(self, inputs: Any) -> Any:
        from .symbolic import KerasTensor

        dtype = "int64" if self.output_mode == "int" else config.floatx()
        return KerasTensor(self.compute_output_shape(inputs.shape), dtype=dtype)

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "num_bins": self.num_bins,
            "salt": self.salt,
            "mask_value": self.mask_value,
            "output_mode": self.output_mode,
            "sparse": self.sparse,
        }


_PUNCTUATION = str.maketrans("", "", string.punctuation)  # Keras strips these 32 characters
_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)
_WHITESPACE = re.compile(r"[ \t\n\v\f\r]+")


def _serialize_step(step: "str | Callable | None") -> Any:
    """A `standardize`/`split` value for a config: a name, None, or a registered callable."""
    if not callable(step):
        return step
    from ..saving import serialize_keras_object

    return serialize_keras_object(step)


def _ngrams(tokens: list, widths: "tuple[int, ...]") -> list:
    """All n-grams of each width in `widths` (width order), words joined by a space."""
    return [" ".join(tokens[i : i + n]) for n in widths for i in range(len(tokens) - n + 1)]


class TextVectorization(Layer):
    """Turns strings into token ids (or multi-hot, count, tf-idf vectors).

    Each string is standardized (`standardize`: "lower_and_strip_punctuation", "lower",
    "strip_punctuation", None, or a callable taking and returning a NumPy array of str; like
    Keras, "lower" changes only ASCII letters), split into tokens (`split`: "whitespace",
    "character", None, or a callable taking a 1-D array of str and returning a list of token
    lists), optionally expanded to `ngrams` (an int n for 1..n, or a tuple of widths), then
    looked up in a vocabulary where index 0 is padding ("") and 1 is OOV ("[UNK]").
    "int" output pads/truncates to `output_sequence_length` (or pads to the longest string).
    Inputs: a list or array of strings of shape (batch,) or (batch, 1).

    Example:
    >>> import tritonlayers as keras
    >>> layer = keras.layers.TextVectorization(output_sequence_length=4)
    >>> layer.adapt(["foo bar", "bar baz", "baz bada boom"])
    >>> layer([["foo qux bar"], ["qux baz"]]).tolist()
    [[4, 1, 3, 0], [1, 2, 0, 0]]
    >>> layer.get_vocabulary()
    ['', '[UNK]', 'baz', 'bar', 'foo', 'boom', 'bada']
    """

    def __init__(
        self,
        max_tokens: "int | None" = None,
        standardize: "str | Callable | None" = "lower_and_strip_punctuation",
        split: "str | Callable | None" = "whitespace",
        ngrams: "int | tuple[int, ...] | None" = None,
        output_mode: str = "int",
        output_sequence_length: "int | None" = None,
        pad_to_max_tokens: bool = False,
        vocabulary: Any = None,
        idf_weights: Any = None,
        sparse: bool = False,
        ragged: bool = False,
        encoding: str = "utf-8",
        name: "str | None" = None,
        **kwargs,
    ):
        check_dense("TextVectorization", sparse, ragged)
        for arg, value, allowed in (
            (
                "standardize",
                standardize,
                ("lower_and_strip_punctuation", "lower", "strip_punctuation"),
            ),
            ("split", split, ("whitespace", "character")),
        ):
            if not (value is None or callable(value) or value in allowed):
                raise ValueError(
                    f"TextVectorization: invalid value for argument `{arg}`. Expected one of "
                    f"{allowed}, None or a callable. Received: {arg}={value!r}"
                )
        output_mode = standardize_output_mode("TextVectorization", output_mode)
        if isinstance(ngrams, list):
            ngrams = tuple(ngrams)
        if not (
            ngrams is None
            or isinstance(ngrams, int)
            or isinstance(ngrams, tuple)
            and all(isinstance(n, int) for n in ngrams)
        ):
            raise ValueError(
                "TextVectorization: `ngrams` must be None, an integer, or a tuple of "
                f"integers. Received: ngrams={ngrams!r}"
            )
        if output_mode == "int" and not (
            output_sequence_length is None or isinstance(output_sequence_length, int)
        ):
            raise ValueError(
                "TextVectorization: `output_sequence_length` must be either None or an "
                "integer when `output_mode` is 'int'. Received: "
                f"output_sequence_length={output_sequence_length!r}"
            )
        if output_mode != "int" and output_sequence_length is not None:
            raise ValueError(
                "TextVectorization: `output_sequence_length` must not be set if "
                f"`output_mode` is not 'int'. Received: "
                f"output_sequence_length={output_sequence_length!r}."
            )
        kwargs.pop("vocabulary_size", None)
        has_input_vocabulary = kwargs.pop("has_input_vocabulary", vocabulary is not None)
        super().__init__(name=name, **kwargs)
        self.built = True  # no weights: the vocabulary lives in the lookup layer
        self.standardize = standardize
        self.split = split
        self.ngrams = ngrams
        self._ngram_widths = tuple(range(1, ngrams + 1)) if isinstance(ngrams, int) else ngrams
        self.output_mode = output_mode
        self.output_sequence_length = output_sequence_length
        self.encoding = encoding
        self._lookup_layer = StringLookup(
            max_tokens=max_tokens,
            vocabulary=vocabulary,
            idf_weights=idf_weights,
            pad_to_max_tokens=pad_to_max_tokens,
            mask_token="",
            output_mode=output_mode,
            has_input_vocabulary=has_input_vocabulary,
            encoding=encoding,
        )

    def _convert_inputs(self, args: tuple, kwargs: dict) -> "tuple[tuple, dict]":
        return args, kwargs  # strings stay on the host; `call` converts

    def _standardized(self, inputs: Any) -> np.ndarray:
        texts = to_strings("TextVectorization", inputs)
        if callable(self.standardize):
            return to_strings("TextVectorization", self.standardize(texts.astype(str)))
        flat = texts.reshape(-1).tolist()
        if self.standardize in ("lower", "lower_and_strip_punctuation"):
            flat = [t.translate(_ASCII_LOWER) for t in flat]
        if self.standardize in ("strip_punctuation", "lower_and_strip_punctuation"):
            flat = [t.translate(_PUNCTUATION) for t in flat]
        return np.asarray(flat, dtype=object).reshape(texts.shape)

    def _tokenize(self, inputs: Any) -> list:
        """The inputs as a list (batch) of token lists."""
        texts = self._standardized(inputs)
        if texts.ndim == 0:
            texts = texts.reshape(1)
        if self.split is None:
            rows = [list(row) for row in texts.reshape(texts.shape[0], -1).tolist()]
        else:
            if texts.ndim > 1:
                if texts.shape[-1] != 1 or texts.ndim > 2:
                    raise ValueError(
                        "TextVectorization: when tokenizing strings, the input rank must be "
                        f"1 or the last shape dimension must be 1. Received: "
                        f"inputs.shape={texts.shape} with rank={texts.ndim}"
                    )
                texts = texts[:, 0]
            if self.split == "whitespace":
                rows = [[t for t in _WHITESPACE.split(s) if t] for s in texts.tolist()]
            elif self.split == "character":
                rows = [list(s) for s in texts.tolist()]
            else:
                rows = [[str(t) for t in row] for row in self.split(texts.astype(str))]
        if self._ngram_widths is not None:
            rows = [_ngrams(row, self._ngram_widths) for row in rows]
        return rows

    def adapt(self, data: Any, batch_size: "int | None" = None, steps: "int | None" = None) -> None:
        """Learn the vocabulary from `data`: a list/array of strings (one batch) or an
        iterable of such batches (of which `steps` at most are read)."""
        if isinstance(data, (list, tuple, np.ndarray, str)):
            batches: Iterable = [data]
        elif hasattr(data, "__iter__"):
            batches = (b for i, b in enumerate(data) if steps is None or i < steps)
        else:
            raise TypeError(
                "TextVectorization: `adapt` takes a list or array of strings or an iterable "
                f"of batches. Received: {type(data).__name__}"
            )
        lookup = self._lookup_layer
        if lookup._has_input_vocabulary:
            raise ValueError(
                f"Cannot adapt layer '{self.name}' after setting a static vocabulary via "
                "the `vocabulary` argument or the `set_vocabulary()` method."
            )
        lookup._adapt_documents(row for batch in batches for row in self._tokenize(batch))

    def call(self, inputs: Any) -> torch.Tensor:
        rows = self._tokenize(inputs)
        lookup = self._lookup_layer
        length = self.output_sequence_length
        if length is None or self.output_mode != "int":
            length = max((len(row) for row in rows), default=0)
        # Padding is 0 (the "" mask) for "int" output and -1 (dropped) for the encodings.
        padding = 0 if self.output_mode == "int" else -1
        ids = np.full((len(rows), length), padding, dtype=np.int64)
        for i, row in enumerate(rows):
            row_ids = lookup._lookup_ids(np.asarray(row[:length], dtype=object))
            ids[i, : row_ids.size] = row_ids
        if self.output_mode == "int":
            return torch.as_tensor(ids, device=config.device())
        return lookup._encode(ids)

    def get_vocabulary(self, include_special_tokens: bool = True) -> list:
        """The vocabulary in index order ("" and "[UNK]" first unless told not)."""
        return self._lookup_layer.get_vocabulary(include_special_tokens)

    def vocabulary_size(self) -> int:
        """The vocabulary size, padding and OOV indices included."""
        return self._lookup_layer.vocabulary_size()

    def set_vocabulary(self, vocabulary: Any, idf_weights: Any = None) -> None:
        """Replace the vocabulary (and the idf weights for "tf_idf")."""
        self._lookup_layer.set_vocabulary(vocabulary, idf_weights)

    def compute_output_shape(self, input_shape: Any) -> tuple:
        batch = tuple(input_shape)[0] if len(input_shape) else None
        if self.output_mode == "int":
            return (batch, self.output_sequence_length)
        return (batch, self._lookup_layer._depth())

    def compute_output_spec(self, inputs: Any) -> Any:
        from .symbolic import KerasTensor

        dtype = "int64" if self.output_mode == "int" else config.floatx()
        return KerasTensor(self.compute_output_shape(inputs.shape), dtype=dtype)

    def get_config(self) -> dict:
        lookup = self._lookup_layer.get_config()
        return {
            **super().get_config(),
            "max_tokens": lookup["max_tokens"],
            "standardize": _serialize_step(self.standardize),
            "split": _serialize_step(self.split),
            "ngrams": self.ngrams,
            "output_mode": self.output_mode,
            "output_sequence_length": self.output_sequence_length,
            "pad_to_max_tokens": lookup["pad_to_max_tokens"],
            "sparse": False,
            "ragged": False,
            "vocabulary": lookup["vocabulary"],
            "idf_weights": lookup["idf_weights"],
            "encoding": self.encoding,
            "vocabulary_size": lookup["vocabulary_size"],
            "has_input_vocabulary": lookup["has_input_vocabulary"],
        }

    @classmethod
    def from_config(cls, config: dict) -> "TextVectorization":
        check_no_vocabulary_file("TextVectorization", config)
        config = dict(config)
        for name in ("standardize", "split"):
            if isinstance(config.get(name), dict):
                from ..saving import deserialize_keras_object

                config[name] = deserialize_keras_object(config[name])
        return super().from_config(config)


# Feature crossing. TensorFlow's `tf.sparse.cross_hashed` (which Keras's HashedCrossing
# calls) starts from the key 0xDECAFCAFFE and folds in each feature with FarmHash's
# `FingerprintCat64`: a string feature as its `Fingerprint64`, an integer as its own int64
# bits. The bin is the final 64-bit value modulo `num_bins`.
from ..dtype_policies import to_torch_dtype  # noqa: E402
from ._string_hashing import fingerprint64  # noqa: E402

_CROSS_HASH_KEY = 0xDECAFCAFFE
_CAT_MUL = 0xC6A4A7935BD1E995
_MASK64 = (1 << 64) - 1


def _fingerprint_cat64(fp1: int, fp2: int) -> int:
    """FarmHash's `FingerprintCat64`: two 64-bit fingerprints mixed into one."""
    result = fp1 ^ _CAT_MUL
    mixed = (fp2 * _CAT_MUL) & _MASK64
    result ^= ((mixed ^ (mixed >> 47)) * _CAT_MUL) & _MASK64
    result = (result * _CAT_MUL) & _MASK64
    result = ((result ^ (result >> 47)) * _CAT_MUL) & _MASK64
    return result ^ (result >> 47)


def cross_hash_buckets(features: "list[list]", num_bins: int) -> np.ndarray:
    """The bins of the crosses of equal-length feature columns (str or int values), as
    `tf.sparse.cross_hashed(..., num_buckets=num_bins)` numbers them (int64).

    Example:
    >>> from tritonlayers.layers.text_preprocessing import cross_hash_buckets
    >>> cross_hash_buckets([["A", "B"], [101, 101]], 5).tolist()
    [1, 4]
    """
    out = []
    for row in zip(*features):
        digest = _CROSS_HASH_KEY
        for value in row:
            part = fingerprint64(value.encode("utf-8")) if isinstance(value, str) else value
            digest = _fingerprint_cat64(digest, part & _MASK64)
        out.append(digest % num_bins)
    return np.asarray(out, dtype=np.int64)


class HashedCrossing(Layer):
    """Crosses categorical features with the hashing trick: ``hash(features) % num_bins``,
    with Keras's (TensorFlow's `cross_hashed`) bin numbers.

    Called on a tuple/list of at least two features of one shape: ``()``, ``(batch,)`` or
    ``(batch, 1)``, each of strings or integers. ``output_mode``: "int" (bins of the
    inputs' shape, int64 unless ``dtype`` says otherwise) or "one_hot" (vectors of
    ``num_bins`` in the compute dtype, replacing a trailing axis of 1). Strings are handled
    on the host, like the other hashing layers.

    Example:
    >>> import numpy as np
    >>> import tritonlayers as keras
    >>> layer = keras.layers.HashedCrossing(num_bins=5)
    >>> layer((np.array(["A", "B", "A", "B", "A"]), np.array([101, 101, 101, 102, 102]))).tolist()
    [1, 4, 1, 1, 3]
    """

    def __init__(
        self,
        num_bins: int,
        output_mode: str = "int",
        sparse: bool = False,
        name: "str | None" = None,
        dtype: Any = None,
        **kwargs,
    ):
        if isinstance(num_bins, bool) or not isinstance(num_bins, int) or num_bins <= 0:
            raise ValueError(
                f"HashedCrossing: `num_bins` must be a positive integer. Received: "
                f"num_bins={num_bins!r}"
            )
        output_mode = standardize_output_mode("HashedCrossing", output_mode, ("int", "one_hot"))
        check_dense("HashedCrossing", sparse)
        if output_mode == "int" and dtype is None:
            dtype = "int64"
        super().__init__(name=name, dtype=dtype, **kwargs)
        self.built = True  # no weights
        self.num_bins = num_bins
        self.output_mode = output_mode
        self.sparse = sparse

    def _convert_inputs(self, args: tuple, kwargs: dict) -> "tuple[tuple, dict]":
        return args, kwargs  # strings stay on the host; `call` converts

    def _columns(self, inputs: Any) -> "tuple[list[list], tuple]":
        """The features as flat Python lists (str or int) and their common shape."""
        if not isinstance(inputs, (list, tuple)):
            raise ValueError(
                "HashedCrossing: it should be called on a list or tuple of inputs. "
                f"Received: inputs={inputs!r}"
            )
        if len(inputs) < 2:
            raise ValueError(
                "HashedCrossing: it should be called on at least two inputs. "
                f"Received: inputs={inputs!r}"
            )
        arrays = [to_numpy(x) for x in inputs]
        shape = arrays[0].shape
        if len(shape) > 2 or (len(shape) == 2 and shape[-1] != 1):
            raise ValueError(
                "HashedCrossing: all inputs should have shape `()`, `(batch_size)` or "
                f"`(batch_size, 1)`. Received shapes: {[a.shape for a in arrays]}"
            )
        if any(a.shape != shape for a in arrays[1:]):
            raise ValueError(
                "HashedCrossing: all inputs should have equal shape. "
                f"Received shapes: {[a.shape for a in arrays]}"
            )
        columns = []
        for array in arrays:
            if array.dtype.kind in "USO":
                columns.append(to_strings("HashedCrossing", array).reshape(-1).tolist())
            elif array.dtype.kind in "iu":
                columns.append(array.astype(np.int64).reshape(-1).tolist())
            else:
                raise ValueError(
                    "HashedCrossing: all inputs should have an integer or string dtype. "
                    f"Received dtypes: {[str(a.dtype) for a in arrays]}"
                )
        return columns, shape

    def call(self, inputs: Any) -> torch.Tensor:
        columns, shape = self._columns(inputs)
        ids = cross_hash_buckets(columns, self.num_bins).reshape(shape)
        if self.output_mode == "int":
            return torch.as_tensor(ids, device=config.device()).to(self._output_dtype())
        encoded = encode_ids(ids, "one_hot", self.num_bins, None).to(self._output_dtype())
        return encoded.reshape(self.num_bins) if ids.ndim == 0 else encoded

    def _output_dtype(self) -> torch.dtype:
        """The layer's dtype (int64 for "int", float32 for "one_hot" by default)."""
        return to_torch_dtype(self.compute_dtype)

    def compute_output_shape(self, input_shape: Any) -> tuple:
        shapes = [tuple(s) for s in input_shape]
        if len(shapes) < 2 or any(s != shapes[0] for s in shapes[1:]):
            raise ValueError(
                "HashedCrossing: expected as input a list/tuple of at least 2 tensors of one "
                f"shape. Received input_shape={input_shape}"
            )
        shape = shapes[0]
        if self.output_mode == "int":
            return shape
        return (shape[:-1] if shape[-1:] == (1,) else shape) + (self.num_bins,)

    def compute_output_spec(self, inputs: Any) -> Any:
        from .symbolic import KerasTensor

        shape = self.compute_output_shape([x.shape for x in inputs])
        return KerasTensor(shape, dtype=self.compute_dtype)

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "num_bins": self.num_bins,
            "output_mode": self.output_mode,
            "sparse": self.sparse,
        }
