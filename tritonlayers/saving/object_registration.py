"""The registry of user classes and functions that configs may name.

A config names a custom object by its registered name, ``"package>Name"``. Deserialization
finds it here (or in ``custom_objects`` / a ``custom_object_scope``) and nowhere else: no
module named in a file is ever imported.

Example:
>>> import tritonlayers as keras
>>> @keras.saving.register_keras_serializable(package="Demo")
... def scaled_relu(x):
...     return 2.0 * keras.ops.relu(x)
>>> keras.saving.get_registered_name(scaled_relu)
'Demo>scaled_relu'
>>> keras.saving.get_registered_object("Demo>scaled_relu") is scaled_relu
True
"""

import inspect
import threading
from collections.abc import Callable
from typing import Any

__all__ = [
    "CustomObjectScope",
    "custom_object_scope",
    "get_custom_objects",
    "get_registered_name",
    "get_registered_object",
    "register_keras_serializable",
]

GLOBAL_CUSTOM_OBJECTS: dict[str, Any] = {}
GLOBAL_CUSTOM_NAMES: dict[Any, str] = {}

_scopes = threading.local()


def _scope_stack() -> list[dict[str, Any]]:
    if not hasattr(_scopes, "stack"):
        _scopes.stack = []
    return _scopes.stack


def scoped_custom_objects() -> dict[str, Any]:
    """The objects made visible by the enclosing ``custom_object_scope`` blocks (inner wins)."""
    merged: dict[str, Any] = {}
    for objects in _scope_stack():
        merged.update(objects)
    return merged


class CustomObjectScope:
    """Make custom objects visible to deserialization inside a ``with`` block.

    Args:
        custom_objects: a dict (or several) mapping the names used in configs to classes or
            functions.

    Example:
    >>> import tritonlayers as keras
    >>> class MyLayer(keras.layers.Layer):
    ...     pass
    >>> with keras.saving.CustomObjectScope({"MyLayer": MyLayer}):
    ...     keras.saving.get_registered_object("MyLayer") is MyLayer
    True
    """

    def __init__(self, *custom_objects: "dict[str, Any] | None"):
        self.custom_objects: dict[str, Any] = {}
        for objects in custom_objects:
            if objects is None:
                continue
            if not isinstance(objects, dict):
                raise TypeError(
                    "CustomObjectScope expects dicts mapping names to classes or functions; "
                    f"received {type(objects).__name__}."
                )
            self.custom_objects.update(objects)

    def __enter__(self) -> "CustomObjectScope":
        _scope_stack().append(self.custom_objects)
        return self

    def __exit__(self, *exc_info) -> None:
        _scope_stack().pop()


custom_object_scope = CustomObjectScope


def get_custom_objects() -> dict[str, Any]:
    """The global registry dict (registered name -> object); editing it registers objects.

    Example:
    >>> import tritonlayers as keras
    >>> isinstance(keras.saving.get_custom_objects(), dict)
    True
    """
    return GLOBAL_CUSTOM_OBJECTS


def register_keras_serializable(
    package: str = "Custom", name: "str | None" = None
) -> Callable[[Any], Any]:
    """Decorator that registers a class or function under ``"package>name"`` for loading.

    Args:
        package: the package part of the registered name.
        name: the name part; defaults to the object's ``__name__``.

    Example:
    >>> import tritonlayers as keras
    >>> @keras.saving.register_keras_serializable(package="Demo", name="Twice")
    ... class Twice(keras.layers.Layer):
    ...     def call(self, x):
    ...         return 2 * x
    >>> keras.saving.get_registered_name(Twice)
    'Demo>Twice'
    """
    if not isinstance(package, str) or ">" in package:
        raise ValueError(
            f"register_keras_serializable: package must be a string without '>'; "
            f"received {package!r}."
        )

    def decorator(arg):
        object_name = name if name is not None else getattr(arg, "__name__", None)
        if not isinstance(object_name, str):
            raise ValueError(
                "register_keras_serializable: cannot find a name for "
                f"{arg!r}; pass name=... explicitly."
            )
        if inspect.isclass(arg) and not hasattr(arg, "get_config"):
            raise ValueError(
                "Cannot register a class that does not have a get_config() method. "
                f"Received: class {arg.__name__}"
            )
        if not callable(arg):
            raise ValueError(
                f"register_keras_serializable expects a class or function; received {arg!r}."
            )
        registered_name = f"{package}>{object_name}"
        GLOBAL_CUSTOM_OBJECTS[registered_name] = arg
        GLOBAL_CUSTOM_NAMES[arg] = registered_name
        return arg

    return decorator


def get_registered_name(obj: Any) -> str:
    """The name ``obj`` is registered under, or its ``__name__`` when it is not registered.

    Example:
    >>> import tritonlayers as keras
    >>> keras.saving.get_registered_name(keras.activations.relu)
    'relu'
    """
    try:
        registered = GLOBAL_CUSTOM_NAMES.get(obj)
    except TypeError:
        registered = None
    return registered if registered is not None else obj.__name__


def get_registered_object(
    name: str,
    custom_objects: "dict[str, Any] | None" = None,
    module_objects: "dict[str, Any] | None" = None,
) -> Any:
    """Find ``name`` in the custom object scopes, the registry, ``custom_objects`` or
    ``module_objects`` (in that order); None when it is in none of them.

    Example:
    >>> import tritonlayers as keras
    >>> keras.saving.get_registered_object("no>such_thing") is None
    True
    """
    if not isinstance(name, str):
        return None
    for objects in (scoped_custom_objects(), GLOBAL_CUSTOM_OBJECTS, custom_objects, module_objects):
        if objects and name in objects:
            return objects[name]
    return None
