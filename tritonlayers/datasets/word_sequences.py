"""The word-index arithmetic IMDB and Reuters share: reviews and newswires are stored as
lists of word ranks (1 = most frequent word), which `load_data` shifts, filters and caps.

Example:
>>> offset_words([[1, 5], [2]], start_char=1, index_from=3)
[[1, 4, 8], [1, 5]]
>>> cap_vocabulary([[1, 4, 8], [1, 5]], num_words=6, skip_top=0, oov_char=2)
[[1, 4, 2], [1, 5]]
"""

import json
import os
from collections.abc import Sequence

import numpy as np


def shuffle_together(rng: np.random.RandomState, *arrays: np.ndarray) -> list:
    """`arrays` reordered by one permutation drawn as Keras draws it (shuffling an arange)."""
    indices = np.arange(len(arrays[0]))
    rng.shuffle(indices)
    return [array[indices] for array in arrays]


def offset_words(sequences: Sequence, start_char: "int | None", index_from: int) -> list:
    """Each sequence as a list with `index_from` added to every word and `start_char`
    prepended (when not None)."""
    prefix = [] if start_char is None else [start_char]
    return [prefix + [word + index_from for word in sequence] for sequence in sequences]


def drop_long(maxlen: int, sequences: list, labels: Sequence) -> tuple:
    """The sequences shorter than `maxlen` (strictly, as Keras) and their labels, as lists."""
    kept = [
        (sequence, label) for sequence, label in zip(sequences, labels) if len(sequence) < maxlen
    ]
    return [sequence for sequence, _ in kept], [label for _, label in kept]


def cap_vocabulary(
    sequences: list, num_words: "int | None", skip_top: int, oov_char: "int | None"
) -> list:
    """Words outside `skip_top <= word < num_words` replaced by `oov_char`, or dropped when
    it is None. `num_words` None (or 0) means the largest word present, which, as in Keras,
    is itself then out of range."""
    if not num_words:
        num_words = max((max(sequence) for sequence in sequences if len(sequence)), default=0)
    if oov_char is not None:
        return [[w if skip_top <= w < num_words else oov_char for w in s] for s in sequences]
    return [[w for w in s if skip_top <= w < num_words] for s in sequences]


def object_array(sequences: list) -> np.ndarray:
    """A 1-D object array whose items are the given lists (also when they share a length)."""
    array = np.empty(len(sequences), dtype=object)
    for i, sequence in enumerate(sequences):
        array[i] = sequence
    return array


def read_word_index(path: "str | os.PathLike", origin: str) -> dict:
    """The `{word: rank}` dict of a cached word-index JSON file."""
    try:
        with open(path, encoding="utf-8") as f:
            index = json.load(f)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(
            f"{path} is not a valid word-index JSON file: {error}. Delete it to download it "
            f"again from {origin}."
        ) from error
    if not isinstance(index, dict):
        raise ValueError(
            f"{path} holds a JSON {type(index).__name__}; expected an object mapping words to "
            f"ranks. Delete it to download it again from {origin}."
        )
    return index
