"""Reuters newswires: 11,228 newswires in 46 topics, each a list of word indices, split into
training and test sets by `test_split`.

Word indices follow IMDB's convention: frequency rank plus `index_from`, with `start_char`
(1) opening each newswire and `oov_char` (2) standing for cut words.

Example (downloads about 2 MB on first use):
>>> import tritonlayers as keras
>>> (x_train, y_train), (x_test, _) = keras.datasets.reuters.load_data()  # doctest: +SKIP
>>> len(x_train), len(x_test)  # doctest: +SKIP
(8982, 2246)
>>> keras.datasets.reuters.get_label_names()[3]
'earn'
"""

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

ORIGIN = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/reuters.npz"
FILE_HASH = "d6586e694ee56d7a4e65172e12b3e987c03096cb01eab99753921ef915959916"
WORD_INDEX_ORIGIN = (
    "https://storage.googleapis.com/tensorflow/tf-keras-datasets/reuters_word_index.json"
)
WORD_INDEX_HASH = "4d44cc38712099c9e383dc6e5f11a921"
_LABEL_NAMES = (
    "cocoa", "grain", "veg-oil", "earn", "acq", "wheat", "copper", "housing", "money-supply",
    "coffee", "sugar", "trade", "reserves", "ship", "cotton", "carcass", "crude", "nat-gas",
    "cpi", "money-fx", "interest", "gnp", "meal-feed", "alum", "oilseed", "gold", "tin",
    "strategic-metal", "livestock", "retail", "ipi", "iron-steel", "rubber", "heat", "jobs",
    "lei", "bop", "zinc", "orange", "pet-chem", "dlr", "gas", "silver", "wpi", "hog", "lead",
)  # fmt: skip


def load_data(
    path: str = "reuters.npz",
    num_words: "int | None" = None,
    skip_top: int = 0,
    maxlen: "int | None" = None,
    test_split: float = 0.2,
    seed: int = 113,
    start_char: "int | None" = 1,
    oov_char: "int | None" = 2,
    index_from: int = 3,
) -> tuple:
    """Load Reuters as `(x_train, y_train), (x_test, y_test)`: 1-D object arrays of lists of
    word indices, and int64 topic labels (0-45, named by `get_label_names()`).

    Args:
        path: where to cache the file, relative to `~/.keras/datasets` (or `$KERAS_HOME`).
        num_words: keep words with index below this (the others become `oov_char`);
            None keeps all but the largest index, as Keras does.
        skip_top: words with index below this become `oov_char` too.
        maxlen: drop the newswires with `maxlen` or more indices (after `start_char`).
        test_split: fraction of the (shuffled) newswires that goes to the test set, in [0, 1].
        seed: seed of the shuffle.
        start_char: index opening each newswire; None for none.
        oov_char: index for dropped words; None removes them instead.
        index_from: added to every word rank.
    """
    if not 0 <= test_split <= 1:
        raise ValueError(
            f"Invalid `test_split` argument: {test_split}. It must be between 0 and 1."
        )
    local = get_file(path, origin=ORIGIN, file_hash=FILE_HASH)
    arrays = load_npz(local)
    if "x" not in arrays or "y" not in arrays:
        raise ValueError(
            f"{local} has arrays {sorted(arrays)}; expected ['x', 'y']. It is not the Reuters "
            f"archive: delete it to download it again from {ORIGIN}."
        )
    xs, labels = shuffle_together(np.random.RandomState(seed), arrays["x"], arrays["y"])
    xs = offset_words(xs, start_char, index_from)
    if maxlen:
        xs, kept_labels = drop_long(maxlen, xs, labels)
        labels = np.asarray(kept_labels, dtype=labels.dtype)
    xs = cap_vocabulary(xs, num_words, skip_top, oov_char)
    split = int(len(xs) * (1 - test_split))
    return (
        (object_array(xs[:split]), np.array(labels[:split])),
        (object_array(xs[split:]), np.array(labels[split:])),
    )


def get_word_index(path: str = "reuters_word_index.json") -> dict:
    """The `{word: frequency rank}` dict of the newswires (add `index_from`, 3 by default,
    to get the indices `load_data` uses)."""
    local = get_file(path, origin=WORD_INDEX_ORIGIN, file_hash=WORD_INDEX_HASH)
    return read_word_index(local, WORD_INDEX_ORIGIN)


def get_label_names() -> tuple:
    """The 46 topic names, indexed by label."""
    return _LABEL_NAMES
