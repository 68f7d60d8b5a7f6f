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

import torch

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
    if callable(getattr(type(value), "apply_gradients", None)):
        return False  # an optimizer keeps its own state: Keras's layers do not track it
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


# Bumped whenever any layer gains or loses a sublayer; invalidates `_flatten_layers` caches.
_structure_version = [0]

_STATE_LOCKED_MESSAGE = (
    "You cannot add new elements of state (variables or sub-layers) to a layer that is "
    "already built. All state must be created in the `__init__()` method or in the "
    "`build()` method."
)


class Tracker:
    """The layer side of tracking, mixed into `Layer` (before `torch.nn.Module`).

    Own Variables land in `_trainable_variables` / `_non_trainable_variables` (creation
    order), sublayers in `_layers`, variable owners in `_state_owners`. Each is also
    registered with torch (`_parameters` / `_modules`): under its attribute name when it is
    an attribute, else under a free "auto key" (its name), so `.to()`, `state_dict()` and
    `parameters()` see everything a Keras layer tracks. State is locked after `build`.

    Example:
    >>> import tritonlayers as keras
    >>> layer = keras.Layer()
    >>> layer.weights_list = [keras.Variable([1.0], name="a")]
    >>> [name for name, _ in layer.named_parameters()]
    ['a']
    """

    def __setattr__(self, name: str, value: Any) -> None:
        value = wrap(self, value)
        parameters = self.__dict__["_parameters"]
        self._vacate_auto_key(name, value)
        if isinstance(value, Variable):
            self._track_variable(value)
            self._drop_auto_key(value)
        elif is_layer(value):
            self._track_layer(value)
            self._drop_auto_key(value)
        else:
            if not isinstance(value, (TrackedList, TrackedDict)):
                track(self, value)
            if value is not None and name in parameters:
                del parameters[name]
            if value is not None and name in self.__dict__["_modules"]:
                del self.__dict__["_modules"][name]
        torch.nn.Module.__setattr__(self, name, value)

    def __delattr__(self, name: str) -> None:
        if name in self.__dict__["_parameters"] or name in self.__dict__["_modules"]:
            untrack(self, getattr(self, name))
        elif name in self.__dict__:
            untrack(self, self.__dict__[name])
        torch.nn.Module.__delattr__(self, name)

    def _check_can_add_state(self) -> None:
        if self._locked:
            raise ValueError(f"Layer '{self.name}': {_STATE_LOCKED_MESSAGE}")

    def _track_variable(self, variable: Variable) -> None:
        own = self._trainable_variables + self._non_trainable_variables
        if any(v is variable for v in own):
            return
        self._check_can_add_state()
        if variable.trainable:
            self._trainable_variables.append(variable)
        else:
            self._non_trainable_variables.append(variable)
        if not self._trainable:
            variable.trainable = False
        if self._device_anchor is None:
            self.__dict__["_device_anchor"] = variable
        self._register_auto(self.__dict__["_parameters"], variable, variable.name)

    def _untrack_variable(self, variable: Variable) -> None:
        for store in (self._trainable_variables, self._non_trainable_variables):
            store[:] = [v for v in store if v is not variable]
        if self._device_anchor is variable:
            own = self._trainable_variables + self._non_trainable_variables
            self.__dict__["_device_anchor"] = own[0] if own else None
        self._unregister_auto(self.__dict__["_parameters"], variable)

    def _track_layer(self, layer: Any) -> None:
        if layer is self or any(existing is layer for existing in self._layers):
            return
        self._check_can_add_state()
        self._layers.append(layer)
        _structure_version[0] += 1
        self._register_auto(self.__dict__["_modules"], layer, layer.__dict__.get("name", "layer"))

    def _untrack_layer(self, layer: Any) -> None:
        self._layers[:] = [existing for existing in self._layers if existing is not layer]
        _structure_version[0] += 1
        self._unregister_auto(self.__dict__["_modules"], layer)

    def _track_state_owner(self, owner: Any) -> None:
        if any(existing is owner for existing in self._state_owners):
            return
        self._check_can_add_state()
        self._state_owners.append(owner)
        for variable in owner.variables:
            self._register_auto(self.__dict__["_parameters"], variable, variable.name)

    def _untrack_state_owner(self, owner: Any) -> None:
        self._state_owners[:] = [o for o in self._state_owners if o is not owner]
        for variable in owner.variables:
            self._unregister_auto(self.__dict__["_parameters"], variable)

    def _register_auto(self, store: dict, value: Any, name: str, reserved: str = "") -> None:
        """Register `value` with torch under a free key so `.to()` and `state_dict` see it."""
        if any(existing is value for existing in store.values()):
            return
        key = base = name.replace(".", "_") or "item"
        index = 0
        taken = (store, self.__dict__, self.__dict__["_modules"], self.__dict__["_parameters"])
        while key == reserved or any(key in names for names in taken) or hasattr(type(self), key):
            index += 1
            key = f"{base}_{index}"
        store[key] = value
        self._auto_keys.add(key)

    def _unregister_auto(self, store: dict, value: Any) -> None:
        for key in [k for k, v in store.items() if v is value and k in self._auto_keys]:
            del store[key]
            self._auto_keys.discard(key)

    def _vacate_auto_key(self, name: str, value: Any) -> None:
        """An attribute takes the name of an auto key held by another object: re-key that one."""
        if name not in self._auto_keys:
            return
        for store in (self.__dict__["_parameters"], self.__dict__["_modules"]):
            held = store.get(name)
            if held is not None and held is not value:
                del store[name]
                self._auto_keys.discard(name)
                self._register_auto(store, held, name, reserved=name)

    def _drop_auto_key(self, value: Any) -> None:
        """`value` is about to be registered under its attribute name: drop its auto key."""
        for store in (self.__dict__["_parameters"], self.__dict__["_modules"]):
            self._unregister_auto(store, value)

    def _flatten_layers(self, include_self: bool = True, recursive: bool = True) -> list:
        """This layer (optionally) and its sublayers, depth first in tracking order."""
        if not recursive:
            return ([self] if include_self else []) + list(self._layers)
        layers = list(self._flat_layers())
        return layers if include_self else layers[1:]

    def _flat_layers(self) -> tuple:
        version, layers = self._flat_cache
        if version != _structure_version[0]:
            layers = tuple(_depth_first(self))
            self.__dict__["_flat_cache"] = (_structure_version[0], layers)
        return layers


def _depth_first(layer: Any) -> list:
    found, seen, stack = [], set(), [layer]
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        found.append(current)
        stack.extend(reversed(current._layers))
    return found


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
