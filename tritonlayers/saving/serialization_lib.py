"""Objects to config dicts and back, in Keras 3's format, without importing what a file names.

A serialized object is ``{"module", "class_name", "config", "registered_name"}`` (plus
``build_config``/``compile_config`` for layers and models). Deserialization resolves
``class_name`` only

- in the registry (``register_keras_serializable``), ``custom_objects`` and enclosing
  ``custom_object_scope`` blocks, or
- in tritonlayers' own namespaces (``layers``, ``models``, ``losses``, ``metrics``,
  ``optimizers``, ``initializers``, ``regularizers``, ``constraints``, ``activations``,
  ``random``, ``dtype_policies``); functions only from the namespaces that hold modeling
  functions (activations, losses, ...).

The ``module`` of a config only selects one of those namespaces (``"keras.layers"`` and
``"tritonlayers.layers"`` both mean ours); it is never imported. A config that names any
other module or a function path (the CVE-2024-3660 / CVE-2025-1550 style of attack) gets a
``DeserializationError``, a ``ValueError``. Python code (``__lambda__``) loads only with
``safe_mode=False``.

Example:
>>> import tritonlayers as keras
>>> config = keras.saving.serialize_keras_object(keras.initializers.Constant(2.0))
>>> config["class_name"], config["config"]
('Constant', {'value': 2.0})
>>> keras.saving.deserialize_keras_object(config).value
2.0
"""

import base64
import importlib
import inspect
import marshal
import threading
import types
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from . import object_registration

__all__ = [
    "DeserializationError",
    "SafeModeScope",
    "deserialize_keras_object",
    "enable_unsafe_deserialization",
    "in_safe_mode",
    "resolve_identifier",
    "serialize_keras_object",
]

PLAIN_TYPES = (str, int, float, bool)

# Namespace name -> the tritonlayers module that holds its public classes and functions.
_NAMESPACES = {
    name: f"tritonlayers.{name}"
    for name in (
        "activations",
        "constraints",
        "dtype_policies",
        "initializers",
        "layers",
        "losses",
        "metrics",
        "models",
        "ops",
        "optimizers",
        "random",
        "regularizers",
    )
}
# Namespaces whose plain functions a config may name (Keras's BUILTIN_MODULES).
_FUNCTION_NAMESPACES = (
    "activations",
    "constraints",
    "initializers",
    "losses",
    "metrics",
    "optimizers",
    "regularizers",
)
# The package-level names: Keras writes module "keras" for models and dtype policies.
_TOP_LEVEL_NAMESPACES = ("models", "dtype_policies", "layers")
_NON_MODELING_FUNCTIONS = frozenset({"get", "serialize", "deserialize"})


class DeserializationError(ValueError, TypeError):
    """A config that cannot be turned into an object: unknown, unsafe or malformed.

    It is a ``ValueError`` (what loading documents) and a ``TypeError`` (what Keras raises
    for an unknown class).
    """


# ---------------------------------------------------------------------------------------
# Safe mode
# ---------------------------------------------------------------------------------------

_safe_mode = threading.local()
_unsafe_globally = {"enabled": False}


def enable_unsafe_deserialization() -> None:
    """Allow configs that carry Python code (``Lambda`` functions) everywhere, for good.

    Example:
    >>> import tritonlayers as keras
    >>> keras.saving.serialization_lib.in_safe_mode()
    True
    """
    _unsafe_globally["enabled"] = True


def in_safe_mode() -> bool:
    """Whether code-bearing configs must be refused right now.

    True unless ``enable_unsafe_deserialization()`` was called or the innermost
    ``SafeModeScope`` (which ``deserialize_keras_object`` opens) says False. ``Lambda``
    consults it before loading a function from a config.

    Example:
    >>> from tritonlayers.saving.serialization_lib import SafeModeScope, in_safe_mode
    >>> with SafeModeScope(False):
    ...     in_safe_mode()
    False
    """
    if _unsafe_globally["enabled"]:
        return False
    scoped = _scoped_safe_mode()
    return True if scoped is None else scoped


def _scoped_safe_mode() -> "bool | None":
    stack = getattr(_safe_mode, "stack", None)
    return stack[-1] if stack else None


class SafeModeScope:
    """Set the safe-mode flag seen by nested deserialization inside a ``with`` block.

    Example:
    >>> from tritonlayers.saving.serialization_lib import SafeModeScope, in_safe_mode
    >>> with SafeModeScope(True):
    ...     in_safe_mode()
    True
    """

    def __init__(self, safe_mode: bool = True):
        self.safe_mode = bool(safe_mode)

    def __enter__(self) -> "SafeModeScope":
        if not hasattr(_safe_mode, "stack"):
            _safe_mode.stack = []
        _safe_mode.stack.append(self.safe_mode)
        return self

    def __exit__(self, *exc_info) -> None:
        _safe_mode.stack.pop()


# ---------------------------------------------------------------------------------------
# Python functions as data (only for Lambda-style code, loaded only when unsafe)
# ---------------------------------------------------------------------------------------


def func_dump(fn: types.FunctionType) -> str:
    """Encode a Python function's bytecode as base64 text (for ``Lambda`` configs)."""
    return base64.b64encode(marshal.dumps(fn.__code__)).decode("ascii")


def _lambda_globals() -> dict:
    """What a loaded lambda sees as globals: the package under its usual aliases."""
    import builtins

    import tritonlayers

    return {
        "__builtins__": builtins,
        "keras": tritonlayers,
        "tritonlayers": tritonlayers,
        "ops": tritonlayers.ops,
        "np": np,
        "torch": torch,
    }


def func_load(
    code: str, globs: "dict | None" = None, defaults: "tuple | None" = None
) -> types.FunctionType:
    """Rebuild a function from ``func_dump`` text. Runs code from the file: unsafe.

    Refuses in safe mode; callers check ``in_safe_mode()`` first to give their own message.
    Its globals are ``globs``, else ``keras``/``tritonlayers``, ``ops``, ``np`` and ``torch``.
    """
    if in_safe_mode():
        raise DeserializationError(
            "Refusing to load Python bytecode from a config in safe mode: it could run "
            "arbitrary code. If you trust the file, pass safe_mode=False to the loading "
            "function or call tritonlayers.saving.serialization_lib."
            "enable_unsafe_deserialization()."
        )
    try:
        raw = base64.b64decode(code.encode("ascii"), validate=True)
        code_object = marshal.loads(raw)
    except (ValueError, EOFError, TypeError, AttributeError) as error:
        raise DeserializationError(f"Malformed function bytecode in config: {error}") from None
    if not isinstance(code_object, types.CodeType):
        raise DeserializationError("Malformed function bytecode in config: not a code object.")
    if code_object.co_freevars:
        raise DeserializationError(
            f"Cannot load a function that uses variables of an enclosing scope "
            f"({', '.join(code_object.co_freevars)}): their values are not saved. Register a "
            "named function with register_keras_serializable instead."
        )
    namespace = globs if globs is not None else _lambda_globals()
    return types.FunctionType(code_object, namespace, None, defaults)


# ---------------------------------------------------------------------------------------
# Serialization
# ---------------------------------------------------------------------------------------


def serialize_keras_object(obj: Any) -> Any:
    """A JSON-friendly config for ``obj``: a layer, loss, initializer, function, array, ...

    Plain values, lists and dicts come back as they are (their items serialized); objects
    with ``get_config`` become ``{"module", "class_name", "config", "registered_name"}``.

    Example:
    >>> import tritonlayers as keras
    >>> keras.saving.serialize_keras_object(keras.activations.relu)["config"]
    'relu'
    """
    if obj is None or isinstance(obj, PLAIN_TYPES):
        return obj
    if isinstance(obj, (list, tuple)):
        items = [serialize_keras_object(item) for item in obj]
        return tuple(items) if isinstance(obj, tuple) else items
    if isinstance(obj, dict):
        return serialize_dict(obj)
    special = _serialize_special(obj)
    if special is not None:
        return special
    if isinstance(obj, types.FunctionType):
        return _serialize_function(obj)
    return _serialize_object(obj)


def serialize_dict(obj: dict) -> dict:
    """Serialize every value of a dict (keys stay)."""
    return {key: serialize_keras_object(value) for key, value in obj.items()}


def _serialize_special(obj: Any) -> "dict | Any | None":
    if isinstance(obj, bytes):
        return {"class_name": "__bytes__", "config": {"value": obj.decode("utf-8")}}
    if isinstance(obj, slice):
        return {
            "class_name": "__slice__",
            "config": {
                "start": serialize_keras_object(obj.start),
                "stop": serialize_keras_object(obj.stop),
                "step": serialize_keras_object(obj.step),
            },
        }
    if obj is Ellipsis:
        return {"class_name": "__ellipsis__", "config": {}}
    if _is_keras_tensor(obj):
        history = getattr(obj, "_keras_history", None)
        if history:
            history = [history[0].name, *history[1:]]
        return {
            "class_name": "__keras_tensor__",
            "config": {"shape": list(obj.shape), "dtype": obj.dtype, "keras_history": history},
        }
    if isinstance(obj, torch.dtype):
        return str(obj).removeprefix("torch.")
    if isinstance(obj, torch.Tensor):
        value = obj.detach().cpu()
        return {
            "class_name": "__tensor__",
            "config": {"value": value.tolist(), "dtype": str(value.dtype).removeprefix("torch.")},
        }
    if isinstance(obj, np.ndarray) and obj.ndim > 0:
        value = {"value": obj.tolist(), "dtype": obj.dtype.name}
        return {"class_name": "__numpy__", "config": value}
    if isinstance(obj, (np.ndarray, np.generic)):
        return obj.item()
    if isinstance(obj, np.dtype):
        return obj.name
    return None


def _is_keras_tensor(obj: Any) -> bool:
    cls = type(obj)
    return cls.__name__ == "KerasTensor" and cls.__module__.startswith("tritonlayers.")


def _serialize_function(fn: types.FunctionType) -> dict:
    if fn.__name__ == "<lambda>":
        config = {"value": func_dump(fn)}
        if fn.__defaults__:
            config["defaults"] = serialize_keras_object(list(fn.__defaults__))
        return {"class_name": "__lambda__", "config": config}
    return {
        "module": "builtins",
        "class_name": "function",
        "config": object_registration.get_registered_name(fn),
        "registered_name": "function",
    }


def _serialize_object(obj: Any) -> dict:
    if not hasattr(obj, "get_config"):
        raise TypeError(
            f"Cannot serialize object {obj!r} of type {type(obj).__name__}. To be "
            "serializable, a class must implement the `get_config()` method."
        )
    cls = type(obj)
    inner_config = serialize_dict(obj.get_config())
    public_module = _public_namespace_of(cls)
    if public_module is not None:
        module, registered_name = public_module, None
    else:
        module, registered_name = cls.__module__, object_registration.get_registered_name(cls)
        if module == "__main__":  # as Keras writes it: a script's classes have no module
            module = None
    config = {
        "module": module,
        "class_name": cls.__name__,
        "config": inner_config,
        "registered_name": registered_name,
    }
    _add_build_and_compile_config(obj, config)
    return config


def _add_build_and_compile_config(obj: Any, config: dict) -> None:
    if hasattr(obj, "get_build_config"):
        build_config = obj.get_build_config()
        if build_config is not None:
            config["build_config"] = serialize_dict(build_config)
    if hasattr(obj, "get_compile_config"):
        compile_config = obj.get_compile_config()
        if compile_config is not None:
            config["compile_config"] = serialize_dict(compile_config)


def _public_namespace_of(cls: type) -> "str | None":
    """``"tritonlayers.<ns>"`` when ``cls`` is exported by one of our namespaces, else None."""
    if object_registration.GLOBAL_CUSTOM_NAMES.get(cls) is not None:
        return None
    if not cls.__module__.startswith("tritonlayers."):
        return None
    for namespace in _NAMESPACES:
        module = _namespace_module(namespace)
        if module is not None and getattr(module, cls.__name__, None) is cls:
            return _NAMESPACES[namespace]
        schedules = getattr(module, "schedules", None) if namespace == "optimizers" else None
        if schedules is not None and getattr(schedules, cls.__name__, None) is cls:
            return f"{_NAMESPACES[namespace]}.schedules"  # Keras: "keras.optimizers.schedules"
    return None


def _namespace_module(namespace: str) -> "types.ModuleType | None":
    """Our module for a namespace, or None while that module does not exist yet."""
    module_name = _NAMESPACES[namespace]
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        if error.name == module_name:
            return None
        raise


# ---------------------------------------------------------------------------------------
# Deserialization
# ---------------------------------------------------------------------------------------


def deserialize_keras_object(
    config: Any,
    custom_objects: "dict[str, Any] | None" = None,
    safe_mode: bool = True,
    **kwargs: Any,
) -> Any:
    """Rebuild the object that ``serialize_keras_object`` described.

    Args:
        config: a config dict (or a plain value, list, or dict of configs).
        custom_objects: extra name -> class/function mappings for user objects.
        safe_mode: refuse configs that carry Python code (``Lambda`` bytecode). Inside an
            enclosing deserialization its safe mode wins, so a nested ``from_config``
            cannot switch it off.
        module_objects: (keyword) name -> object table of a namespace, so that a bare
            ``{"class_name": "Zeros", "config": {}}`` or a name string resolves there.

    Raises:
        DeserializationError (a ValueError): an unknown class, a module that is not one of
            tritonlayers' namespaces, a non-modeling function, or code in safe mode.

    Example:
    >>> import tritonlayers as keras
    >>> cfg = {"module": "tritonlayers.regularizers", "class_name": "L2",
    ...        "config": {"l2": 0.5}, "registered_name": None}
    >>> keras.saving.deserialize_keras_object(cfg).l2
    0.5
    """
    module_objects = kwargs.pop("module_objects", None)
    if kwargs:
        raise TypeError(f"deserialize_keras_object got unexpected arguments {sorted(kwargs)}.")
    if custom_objects is not None and not isinstance(custom_objects, dict):
        raise TypeError(
            f"custom_objects must be a dict of names to objects; received "
            f"{type(custom_objects).__name__}."
        )
    outer = _scoped_safe_mode()
    effective = outer if outer is not None else (safe_mode and not _unsafe_globally["enabled"])
    with SafeModeScope(effective):
        try:
            return _deserialize(config, dict(custom_objects or {}), module_objects)
        except RecursionError:
            raise DeserializationError(
                "Config is nested too deeply to deserialize (a malformed or hostile file?)."
            ) from None


def _deserialize(config: Any, custom_objects: dict, module_objects: "dict | None") -> Any:
    if config is None:
        return None
    if isinstance(config, str):
        found = object_registration.get_registered_object(config, custom_objects, module_objects)
        return config if found is None else found
    if isinstance(config, PLAIN_TYPES):
        return config
    if isinstance(config, (list, tuple)):
        return [_deserialize(item, custom_objects, module_objects) for item in config]
    if not isinstance(config, dict):
        raise DeserializationError(
            f"Could not parse config of type {type(config).__name__}: {config!r}"
        )
    if "class_name" not in config or "config" not in config:
        return {key: _deserialize(value, custom_objects, None) for key, value in config.items()}
    class_name = config["class_name"]
    if not isinstance(class_name, str):
        raise DeserializationError(
            f"Expected 'class_name' to be a string; received {class_name!r}. Full config: {config}"
        )
    if class_name.startswith("__") and class_name.endswith("__"):
        return _deserialize_special(class_name, config, custom_objects)
    if class_name == "function":
        return _retrieve_function(config, custom_objects, module_objects)
    return _instantiate(config, custom_objects, module_objects)


def _deserialize_special(class_name: str, config: dict, custom_objects: dict) -> Any:
    inner = config["config"]
    if not isinstance(inner, dict):
        raise DeserializationError(f"Expected a dict 'config' for {class_name}; got {config}")
    try:
        if class_name == "__tensor__":
            from ..ops import convert_to_tensor

            return convert_to_tensor(inner["value"], dtype=inner["dtype"])
        if class_name == "__numpy__":
            return np.array(inner["value"], dtype=np.dtype(inner["dtype"]))
        if class_name == "__bytes__":
            return inner["value"].encode("utf-8")
        if class_name == "__ellipsis__":
            return Ellipsis
        if class_name == "__slice__":
            keys = ("start", "stop", "step")
            return slice(*(_deserialize(inner[key], custom_objects, None) for key in keys))
        if class_name == "__keras_tensor__":
            from ..layers.symbolic import KerasTensor

            tensor = KerasTensor(tuple(inner["shape"]), dtype=inner["dtype"])
            tensor._pre_serialization_keras_history = inner["keras_history"]
            return tensor
        if class_name == "__lambda__":
            if in_safe_mode():
                raise DeserializationError(
                    "Requested the deserialization of a Python lambda. This carries a "
                    "potential risk of arbitrary code execution and thus it is disallowed by "
                    "default. If you trust the source of the file, pass safe_mode=False to "
                    "the loading function, or call tritonlayers.saving.serialization_lib."
                    "enable_unsafe_deserialization()."
                )
            defaults = inner.get("defaults")
            defaults = tuple(_deserialize(defaults, custom_objects, None)) if defaults else None
            return func_load(inner["value"], defaults=defaults)
    except (KeyError, TypeError, AttributeError) as error:
        raise DeserializationError(
            f"Malformed {class_name} config ({type(error).__name__}: {error}): {config}"
        ) from None
    raise DeserializationError(f"Unknown special class_name {class_name!r}. Full config: {config}")


def _retrieve_function(config: dict, custom_objects: dict, module_objects: "dict | None"):
    name = config["config"]
    if not isinstance(name, str):
        raise DeserializationError(
            f"Expected 'config' to be a function name string; received {name!r}. Full config: "
            f"{config}"
        )
    found = object_registration.get_registered_object(name, custom_objects, module_objects)
    if found is not None:
        return found
    module = config.get("module")
    namespaces = _namespaces_for(module, config, functions=True)
    for namespace in namespaces:
        fn = _lookup(namespace, name)
        if inspect.isfunction(fn) and name not in _NON_MODELING_FUNCTIONS:
            return fn
    raise DeserializationError(
        f"Could not locate function {name!r}. Configs may name only the modeling functions of "
        f"tritonlayers.{{{', '.join(_FUNCTION_NAMESPACES)}}} and functions registered with "
        "@tritonlayers.saving.register_keras_serializable() (or passed in custom_objects). "
        f"Full object config: {config}"
    )


def _instantiate(config: dict, custom_objects: dict, module_objects: "dict | None") -> Any:
    cls = _retrieve_class(config, custom_objects, module_objects)
    if inspect.isfunction(cls):
        return cls
    if not hasattr(cls, "from_config"):
        raise DeserializationError(
            f"Unable to reconstruct an instance of {config['class_name']!r} because the class "
            f"is missing a `from_config()` method. Full object config: {config}"
        )
    inner_config = config["config"] if config["config"] is not None else {}
    if not isinstance(inner_config, dict):
        raise DeserializationError(
            f"Expected 'config' to be a dict for {config['class_name']}; received "
            f"{type(inner_config).__name__}. Full config: {config}"
        )
    with object_registration.CustomObjectScope(custom_objects):
        try:
            instance = cls.from_config(inner_config)
        except Exception as error:
            refusal = _nested_refusal(error)
            if refusal is None:
                raise
            raise DeserializationError(
                f"Could not deserialize {config['class_name']!r}: {refusal}"
            ) from error
        build_config = config.get("build_config")
        if build_config and not getattr(instance, "built", True):
            instance.build_from_config(build_config)
        compile_config = config.get("compile_config")
        if compile_config and hasattr(instance, "compile_from_config"):
            instance.compile_from_config(compile_config)
    return instance


def _nested_refusal(error: BaseException) -> "DeserializationError | None":
    """The DeserializationError behind an error a ``from_config`` wrapped, if any: a nested
    refusal must surface as one, whatever exception type the class re-raised it as."""
    seen = set()
    while error is not None and id(error) not in seen:
        if isinstance(error, DeserializationError):
            return error
        seen.add(id(error))
        error = error.__cause__ or error.__context__
    return None


def _retrieve_class(config: dict, custom_objects: dict, module_objects: "dict | None"):
    class_name = config["class_name"]
    registered_name = config.get("registered_name") or class_name
    for key in (registered_name, class_name):
        found = object_registration.get_registered_object(key, custom_objects, module_objects)
        if found is not None:
            return found
    # A script's own class is written with no module and its registered name: like Keras,
    # find it only among the custom objects, never as one of ours of the same name.
    own_class = config.get("module") is None and config.get("registered_name") is not None
    namespaces = () if own_class else _namespaces_for(config.get("module"), config, False)
    for namespace in namespaces:
        cls = _lookup(namespace, class_name)
        if inspect.isclass(cls):
            return cls
    raise DeserializationError(
        f"Could not locate class {class_name!r}. Make sure custom classes are decorated with "
        "`@tritonlayers.saving.register_keras_serializable()` (and imported before loading) "
        f"or passed in custom_objects. Full object config: {config}"
    )


def _namespaces_for(module: Any, config: dict, functions: bool) -> tuple[str, ...]:
    """Which of our namespaces a config's ``module`` field may point into."""
    allowed = _FUNCTION_NAMESPACES if functions else tuple(_NAMESPACES)
    if module is None or (functions and module == "builtins"):
        return allowed
    if not isinstance(module, str):
        raise DeserializationError(f"Expected 'module' to be a string; received {config}")
    package, _, rest = module.partition(".")
    if package in ("keras", "tritonlayers"):
        if rest == "":
            return tuple(ns for ns in _TOP_LEVEL_NAMESPACES if ns in allowed)
        namespace = rest.split(".")[0]
        if namespace in allowed:
            return (namespace,)
    what = "function" if functions else "class"
    name = config.get("config") if functions else config["class_name"]
    raise DeserializationError(
        f"Could not locate {what} {name!r}: module {module!r} is not one of tritonlayers' "
        f"namespaces ({', '.join(allowed)}), and deserialization never imports the module a "
        "config names. Register custom objects with "
        "@tritonlayers.saving.register_keras_serializable() (imported before loading) or pass "
        f"them in custom_objects. Full object config: {config}"
    )


def _lookup(namespace: str, name: str) -> "Callable | type | None":
    """A public class or function that tritonlayers itself defines in ``namespace``."""
    if not name.isidentifier() or name.startswith("_"):
        return None
    module = _namespace_module(namespace)
    if module is None:
        return None
    if namespace == "optimizers" and hasattr(module, "schedules"):
        candidates = (getattr(module, name, None), getattr(module.schedules, name, None))
    else:
        candidates = (getattr(module, name, None),)
    for obj in candidates:
        if (inspect.isclass(obj) or inspect.isfunction(obj)) and getattr(
            obj, "__module__", ""
        ).startswith("tritonlayers."):
            return obj
    return None


def resolve_identifier(identifier: Any, module_objects: "dict[str, Any]", kind: str) -> Any:
    """What a namespace's ``get(identifier)`` returns (initializers, regularizers, ...).

    None stays None; a name from ``module_objects`` or the registry, or a config dict,
    becomes an instance; a class is instantiated with no arguments; a callable (instance or
    function) passes through.

    Example:
    >>> from tritonlayers import regularizers
    >>> from tritonlayers.saving.serialization_lib import resolve_identifier
    >>> resolve_identifier("l2", {"l2": regularizers.L2}, "regularizer").l2
    0.01
    """
    if identifier is None:
        return None
    if isinstance(identifier, str):
        obj = module_objects.get(identifier) or deserialize_keras_object(identifier)
    elif isinstance(identifier, dict):
        obj = deserialize_keras_object(identifier, module_objects=module_objects)
    else:
        obj = identifier
    if inspect.isclass(obj):
        obj = obj()
    if callable(obj):
        return obj
    raise ValueError(
        f"Could not interpret {kind} identifier: {identifier!r}. Expected one of "
        f"{sorted(module_objects)}, a config dict, or a callable."
    )
