"""A model's optimizer state in files: encode it, check it, and restore it.

The state saved is `{"built": <was the optimizer built>, "state": optimizer.state_dict()}`,
written by `state_codec` as JSON text plus a tensor table. Restoring builds the optimizer on
the model's trainable variables first when the saved one was built, then hands the state to
`optimizer.load_state_dict`, which checks every shape before it copies anything.

Example:
>>> import tritonlayers as keras
>>> from tritonlayers.saving import optimizer_state
>>> model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
>>> model.compile(optimizer="adam", loss="mse")
>>> text, tensors = optimizer_state.encode(model)
>>> state = optimizer_state.decode(text, tensors, source="demo")
>>> optimizer_state.restore(model, state, source="demo")
"""

import torch

from . import state_codec
from .errors import ArchiveError

__all__ = ["decode", "encode", "restore"]


def encode(model) -> "tuple[str, dict[str, torch.Tensor]] | None":
    """`(json_text, tensors)` of the model's optimizer state, or None without an optimizer.

    Example:
    >>> import tritonlayers as keras
    >>> from tritonlayers.saving import optimizer_state
    >>> optimizer_state.encode(keras.Sequential([keras.Input((2,))])) is None
    True
    """
    optimizer = getattr(model, "optimizer", None)
    if optimizer is None or not hasattr(optimizer, "state_dict"):
        return None
    built = bool(getattr(optimizer, "built", False))
    return state_codec.encode({"built": built, "state": optimizer.state_dict()})


def decode(text: "str | bytes", tensors: dict[str, torch.Tensor], source: str) -> dict:
    """Parse what `encode` wrote, checking its shape; raises `ArchiveError` otherwise.

    Example:
    >>> from tritonlayers.saving import optimizer_state
    >>> optimizer_state.decode('{"__dict__": [["built", false], ["state", {"__dict__": []}]]}',
    ...                        {}, source="demo")
    {'built': False, 'state': {}}
    """
    state = state_codec.decode(text, tensors, source)
    if not isinstance(state, dict) or set(state) != {"built", "state"}:
        raise ArchiveError(
            f"{source}: expected {{'built': bool, 'state': ...}}; found {state!r:.200}."
        )
    if not isinstance(state["built"], bool):
        raise ArchiveError(
            f"{source}: 'built' must be true or false; found {state['built']!r:.50}."
        )
    return state


def restore(model, state: dict, source: str) -> None:
    """Load a decoded state into `model.optimizer` (raises `ArchiveError` if it does not fit).

    Example:
    >>> import tritonlayers as keras
    >>> from tritonlayers.saving import optimizer_state
    >>> model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    >>> model.compile(optimizer="sgd", loss="mse")
    >>> state = optimizer_state.decode(*optimizer_state.encode(model), source="demo")
    >>> optimizer_state.restore(model, state, source="demo")
    """
    optimizer = getattr(model, "optimizer", None)
    if optimizer is None:
        return
    try:
        if state["built"] and not getattr(optimizer, "built", True):
            optimizer.build(model.trainable_variables)
        optimizer.load_state_dict(state["state"])
    except Exception as exc:
        raise ArchiveError(
            f"{source}: the optimizer state does not fit the model's optimizer "
            f"{type(optimizer).__name__}: {exc}"
        ) from exc
