"""Automatic names: snake_case from the class name, made unique per session like Keras 3.

Example:
>>> from tritonlayers.layers.naming import to_snake_case
>>> to_snake_case("MLPBlock"), to_snake_case("ComputeSum")
('mlp_block', 'compute_sum')
"""

import re

_uids: "dict[str, int]" = {}


def to_snake_case(name: str) -> str:
    """`name` in snake_case.

    Example:
    >>> to_snake_case("ActivityRegularization")
    'activity_regularization'
    """
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


def unique_name(prefix: str) -> str:
    """`prefix` the first time, then `prefix_1`, `prefix_2`, ... (as Keras's `auto_name`).

    Example:
    >>> clear_uids()
    >>> unique_name("linear"), unique_name("linear")
    ('linear', 'linear_1')
    """
    uid = _uids.get(prefix, 0)
    _uids[prefix] = uid + 1
    return prefix if uid == 0 else f"{prefix}_{uid}"


def clear_uids() -> None:
    """Restart every automatic name from its bare prefix (Keras's `clear_session`).

    Example:
    >>> _ = unique_name("dense")
    >>> clear_uids()
    >>> unique_name("dense")
    'dense'
    """
    _uids.clear()
