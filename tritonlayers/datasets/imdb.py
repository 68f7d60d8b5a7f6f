"""IMDB movie reviews: 25,000 training and 25,000 test reviews labelled by sentiment
(1 positive, 0 negative), each a list of word indices.

A word's index is its frequency rank plus `index_from` (so 4 is the most frequent word with
the defaults); 0 is never used, `start_char` (1) opens each review and `oov_char` (2) stands
for words cut by `num_words` or `skip_top`.

Example (downloads about 17 MB on first use):
>>> import tritonlayers as keras
>>> (x_train, y_train), _ = keras.datasets.imdb.load_data(num_words=10000)  # doctest: +SKIP
>>> x_train.shape, x_train.dtype, x_train[0][:3]  # doctest: +SKIP
((25000,), dtype('O'), [1, 14, 22])
>>> keras.datasets.imdb.get_word_index()["good"]  # doctest: +SKIP
49
"""

import warnings

import numpy as np

from .data_utils import get_file
from .safe_pickle import load_npz
from .word_sequences import (
    cap_vocabulary,
    drop_long,
    object_array,
    offset_words,
    read_word_index,
    shuffle_together,
)

ORIGIN = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/imdb.npz"
FILE_HASH = "69664113be75683a8fe16e3ed0ab59fda8886cb3cd7ada244f7d9544e4676b9f"
WORD_INDEX_ORIGIN = (
    "https://storage.googleapis.com/tensorflow/tf-keras-datasets/imdb_word_index.json"
)
WORD_INDEX_HASH = "bfafd718b763782e994055a2d397834f"
_KEYS = ("x_train", "y_train", "x_test", "y_test")


def load_data(
    path: str = "imdb.npz",
    num_words: "int | None" = None,
    skip_top: int = 0,
    maxlen: "int | None" = None,
    seed: int = 113,
    start_char: "int | None" = 1,
    oov_char: "int | None" = 2,
    index_from: int = 3,
    **kwargs,
) -> tuple:
    """Load IMDB as `(x_train, y_train), (x_test, y_test)`: 1-D object arrays of lists of
    word indices, and int64 label arrays.

    Args:
        path: where to cache the file, relative to `~/.keras/datasets` (or `$KERAS_HOME`).
        num_words: keep words with index below this (the others become `oov_char`);
            None keeps all but the largest index, as Keras does.
        skip_top: words with index below this become `oov_char` too.
        maxlen: drop the reviews with `maxlen` or more indices (after `start_char`).
        seed: seed of the shuffle (train and test are shuffled separately).
        start_char: index opening each review; None for none.
        oov_char: index for dropped words; None removes them instead.
        index_from: added to every word rank.
        **kwargs: accepted and ignored with a warning (Keras 3 ignores them silently).
    """
    if kwargs:
        warnings.warn(
            f"imdb.load_data ignores the keyword arguments {sorted(kwargs)}.", stacklevel=2
        )
    local = get_file(path, origin=ORIGIN, file_hash=FILE_HASH)
    arrays = load_npz(local)
    if any(key not in arrays for key in _KEYS):
        raise ValueError(
            f"{local} has arrays {sorted(arrays)}; expected {list(_KEYS)}. It is not the IMDB "
            f"archive: delete it to download it again from {ORIGIN}."
        )
    rng = np.random.RandomState(seed)
    x_train, labels_train = shuffle_together(rng, arrays["x_train"], arrays["y_train"])
    x_test, labels_test = shuffle_together(rng, arrays["x_test"], arrays["y_test"])
    x_train = offset_words(x_train, start_char, index_from)
    x_test = offset_words(x_test, start_char, index_from)
    if maxlen:
        x_train, labels_train = drop_long(maxlen, x_train, labels_train)
        x_test, labels_test = drop_long(maxlen, x_test, labels_test)
        if not x_train or not x_test:
            raise ValueError(
                f"After filtering for sequences shorter than maxlen={maxlen}, no sequence "
                "was kept. Increase maxlen."
            )
    sequences = cap_vocabulary(x_train + x_test, num_words, skip_top, oov_char)
    labels = np.concatenate([labels_train, labels_test])
    split = len(x_train)
    return (
        (object_array(sequences[:split]), labels[:split]),
        (object_array(sequences[split:]), labels[split:]),
    )


def get_word_index(path: str = "imdb_word_index.json") -> dict:
    """The `{word: frequency rank}` dict of the IMDB reviews (add `index_from`, 3 by
    default, to get the indices `load_data` uses)."""
    local = get_file(path, origin=WORD_INDEX_ORIGIN, file_hash=WORD_INDEX_HASH)
    return read_word_index(local, WORD_INDEX_ORIGIN)
