"""Attribute tracking: find the layers, variables and variable owners a layer holds.

`Layer.__setattr__` hands every assigned value to `track`, which walks it (lists, tuples,
dicts, nested) and registers what it finds with the owning layer: sublayers, Variables,
and objects that are not layers but expose a `variables` list (`random.SeedGenerator`,
metrics). Plain lists and dicts are replaced by `TrackedList` / `TrackedDict`, which keep
registering what is appended later (the `self.blocks = []` then `append` pattern) and
unregister what is removed.

Example:
>>> import tritonlayers as keras
>>> class Stack(keras.Layer):
...     def __init__(self):
...         super().__init__()
...         self.blocks = []
...         self.blocks.append(keras.Layer())
>>> len(Stack()._layers)
1
"""

from typing import Any

from .variables import Variable


def is_layer(value: Any) -> bool:
    """Whether `value` is a tritonlayers Layer (checked without importing layer.py).

    Example:
    >>> import tritonlayers as keras
    >>> is_layer(keras.Layer()), is_layer(object())
    (True, False)
    """
    return getattr(type(value), "_is_tritonlayers_layer", False)


def owns_variables(value: Any) -> bool:
    """Whether `value` is a non-layer object exposing its state as a `variables` list.

    Example:
    >>> import tritonlayers as keras
    >>> owns_variables(keras.random.SeedGenerator(1)), owns_variables([1])
    (True, False)
    """
    if is_layer(value) or isinstance(value, (Variable, type)):
        return False
    variables = getattr(type(value), "variables", None)
    if variables is None and "variables" not in getattr(value, "__dict__", {}):
        return False
    try:
        found = value.variables
    except Exception:
        return False
    return isinstance(found, (list, tuple)) and all(isinstance(v, Variable) for v in found)


def wrap(owner: Any, value: Any) -> Any:
    """`value` with its plain lists and dicts (at any depth) turned into tracked ones.

    Example:
    >>> import tritonlayers as keras
    >>> type(wrap(keras.Layer(), [1, 2])).__name__
    'TrackedList'
    """
    if type(value) is list:
        return TrackedList(owner, value)
    if type(value) is dict:
        return TrackedDict(owner, value)
    if type(value) is tuple:
        return tuple(wrap(owner, item) for item in value)
    return value


def track(owner: Any, value: Any) -> None:
    """Register every sublayer / Variable / variable owner inside `value` with `owner`.

    Example:
    >>> import tritonlayers as keras
    >>> outer, inner = keras.Layer(), keras.Layer()
    >>> track(outer, (inner,))
    >>> outer._layers == [inner]
    True
    """
    _visit(value, owner._track_layer, owner._track_variable, owner._track_state_owner)


def untrack(owner: Any, value: Any) -> None:
    """Unregister what `track(owner, value)` registered.

    Example:
    >>> import tritonlayers as keras
    >>> outer, inner = keras.Layer(), keras.Layer()
    >>> track(outer, inner)
    >>> untrack(outer, inner)
    >>> outer._layers
    []
    """
    _visit(value, owner._untrack_layer, owner._untrack_variable, owner._untrack_state_owner)


def _visit(value: Any, on_layer: Any, on_variable: Any, on_state_owner: Any) -> None:
    if is_layer(value):
        on_layer(value)
    elif isinstance(value, Variable):
        on_variable(value)
    elif isinstance(value, (list, tuple, dict)):
        for item in value.values() if isinstance(value, dict) else value:
            _visit(item, on_layer, on_variable, on_state_owner)
    elif owns_variables(value):
        on_state_owner(value)


class TrackedList(list):
    """A list attribute of a layer: what is added to it is tracked, what is removed is not.

    Example:
    >>> import tritonlayers as keras
    >>> outer = keras.Layer()
    >>> outer.items = []
    >>> outer.items.append(keras.Layer())
    >>> len(outer._layers), type(outer.items).__name__
    (1, 'TrackedList')
    """

    def __init__(self, owner: Any, values: Any = ()):
        self._owner = owner
        super().__init__(wrap(owner, v) for v in values)
        track(owner, self)

    def append(self, value: Any) -> None:
        value = wrap(self._owner, value)
        track(self._owner, value)
        super().append(value)

    def extend(self, values: Any) -> None:
        for value in values:
            self.append(value)

    def __iadd__(self, values: Any) -> "TrackedList":
        self.extend(values)
        return self

    def insert(self, index: int, value: Any) -> None:
        value = wrap(self._owner, value)
        track(self._owner, value)
        super().insert(index, value)

    def __setitem__(self, index: Any, value: Any) -> None:
        old = self[index]
        value = (
            [wrap(self._owner, v) for v in value]
            if isinstance(index, slice)
            else wrap(self._owner, value)
        )
        track(self._owner, value)
        super().__setitem__(index, value)
        untrack(self._owner, old)

    def __delitem__(self, index: Any) -> None:
        old = self[index]
        super().__delitem__(index)
        untrack(self._owner, old)

    def pop(self, index: int = -1) -> Any:
        value = super().pop(index)
        untrack(self._owner, value)
        return value

    def remove(self, value: Any) -> None:
        super().remove(value)
        untrack(self._owner, value)

    def clear(self) -> None:
        old = list(self)
        super().clear()
        untrack(self._owner, old)

    def __reduce__(self):
        return (list, (list(self),))


class TrackedDict(dict):
    """A dict attribute of a layer: values added are tracked, values removed are not.

    Example:
    >>> import tritonlayers as keras
    >>> outer = keras.Layer()
    >>> outer.heads = {}
    >>> outer.heads["a"] = keras.Layer()
    >>> len(outer._layers)
    1
    """

    def __init__(self, owner: Any, values: Any = ()):
        self._owner = owner
        super().__init__((k, wrap(owner, v)) for k, v in dict(values).items())
        track(owner, self)

    def __setitem__(self, key: Any, value: Any) -> None:
        value = wrap(self._owner, value)
        track(self._owner, value)
        old = self.get(key)
        super().__setitem__(key, value)
        if old is not None and old is not value:
            untrack(self._owner, old)

    def update(self, *args: Any, **kwargs: Any) -> None:
        for key, value in dict(*args, **kwargs).items():
            self[key] = value

    def setdefault(self, key: Any, default: Any = None) -> Any:
        if key not in self:
            self[key] = default
        return self[key]

    def __delitem__(self, key: Any) -> None:
        old = self[key]
        super().__delitem__(key)
        untrack(self._owner, old)

    def pop(self, key: Any, *default: Any) -> Any:
        present = key in self
        value = super().pop(key, *default)
        if present:
            untrack(self._owner, value)
        return value

    def clear(self) -> None:
        old = list(self.values())
        super().clear()
        untrack(self._owner, old)

    def __reduce__(self):
        return (dict, (dict(self),))
