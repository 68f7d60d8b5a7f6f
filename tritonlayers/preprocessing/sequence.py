"""`keras.preprocessing.sequence`: `pad_sequences`.

Example:
>>> import tritonlayers as keras
>>> keras.preprocessing.sequence.pad_sequences([[1, 2], [3]]).tolist()
[[1, 2], [0, 3]]
"""

from ..utils import pad_sequences

__all__ = ["pad_sequences"]
