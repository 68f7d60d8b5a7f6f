"""Keras's top-level context managers: `name_scope` (prefixes variable paths) and `device`
(where new variables and tensors are placed).

Example:
>>> import tritonlayers as keras
>>> with keras.name_scope("encoder"):
...     keras.Variable(0.0, name="bias").path
'encoder/bias'
>>> with keras.device("cpu"):
...     keras.ops.ones((2,)).device.type
'cpu'
"""

from typing import Any

import torch

from . import config
from .layers import call_context

__all__ = ["device", "name_scope"]


class name_scope:  # noqa: N801 (Keras's name)
    """Open a sub-namespace for the paths of variables (and layers built) inside it.

    Scopes nest: `with name_scope("a"): with name_scope("b"):` gives paths under "a/b".

    Args:
        name: the scope's name; a string without "/".
        caller: the object opening the scope; with `deduplicate`, re-entering the scope
            that the same caller opened with the same name adds no extra level.
        deduplicate: see `caller`.
        override_parent: an absolute path that replaces the enclosing scopes.

    Example:
    >>> import tritonlayers as keras
    >>> with name_scope("a"), name_scope("b"):
    ...     keras.Variable(0.0, name="w").path
    'a/b/w'
    """

    _stack: "list[name_scope]" = []

    def __init__(
        self,
        name: str,
        caller: Any = None,
        deduplicate: bool = True,
        override_parent: "str | None" = None,
    ):
        if not isinstance(name, str) or "/" in name:
            raise ValueError(
                "Argument `name` must be a string and cannot contain character `/`. "
                f"Received: name={name}"
            )
        self.name = name
        self.caller = caller
        self.deduplicate = deduplicate
        self.override_parent = override_parent
        self._saved_path = None
        self._entered = False

    def __enter__(self) -> "name_scope":
        stack = name_scope._stack
        if self.deduplicate and self.caller is not None and stack:
            parent = stack[-1]
            if parent.caller is self.caller and parent.name == self.name:
                return self
        self._saved_path = call_context.STATE.path
        parent_path = self.override_parent
        if parent_path is None:
            parent_path = self._saved_path
        parent_path = "/".join(part for part in (parent_path or "").split("/") if part)
        call_context.STATE.path = f"{parent_path}/{self.name}" if parent_path else self.name
        stack.append(self)
        self._entered = True
        return self

    def __exit__(self, *exc_info: Any) -> None:
        if not self._entered:
            return
        call_context.STATE.path = self._saved_path
        name_scope._stack.remove(self)
        self._entered = False


class device:  # noqa: N801 (Keras's name)
    """Place new variables, tensors and training data on `device_name` inside the block.

    "gpu" and "gpu:N" mean "cuda" and "cuda:N", as in Keras's torch backend. Entering it
    returns the `torch.device`.

    Example:
    >>> import tritonlayers as keras
    >>> with keras.device("cpu") as where:
    ...     where, keras.config.device()
    (device(type='cpu'), device(type='cpu'))
    """

    def __init__(self, device_name: str):
        if not isinstance(device_name, str):
            raise ValueError(
                "Invalid value for argument `device_name`. Expected a string like 'gpu:0' "
                f"or 'cpu'. Received: device_name='{device_name}'"
            )
        name = device_name.lower().replace("gpu", "cuda")
        try:
            self.device = torch.device(name)
        except RuntimeError as error:
            raise ValueError(
                "Invalid value for argument `device_name`. Expected a string like 'gpu:0' "
                f"or 'cpu'. Received: device_name='{device_name}'"
            ) from error
        self._saved: list[torch.device | None] = []

    def __enter__(self) -> torch.device:
        self._saved.append(config._settings["device"])
        config.set_device(self.device)
        return self.device

    def __exit__(self, *exc_info: Any) -> None:
        config._settings["device"] = self._saved.pop()
