"""Whole-model archives (`.keras`) and model JSON: save, load, and their checks.

A `.keras` file is a zip (written atomically: a crash mid-save keeps the previous file)
holding:

- `config.json`: `{module, class_name, config, registered_name, build_config,
  compile_config}`, the model as `serialize_keras_object` describes it;
- `metadata.json`: `{tritonlayers_version, date_saved}`;
- `model.weights.safetensors`: every variable, keyed as `variable_keys` names it;
- `optimizer.json` + `optimizer.safetensors` (compiled models): whether the optimizer was
  built and its `state_dict()`, so a reloaded model keeps training where it stopped;
- `assets/<layer path>/...`: the files of layers that define `save_assets` (see `assets`),
  handed to their `load_assets` once the weights are in.

Loading trusts nothing in the file: the archive is read with bounds, the JSON strictly,
the safetensors header field by field; classes come only from tritonlayers and the registry
(`safe_mode` refuses code such as `Lambda`); the rebuilt model's variables are allocated
uninitialized and may not take more memory than about twice the file's weights; every
tensor is checked before any is assigned, and every variable is assigned. Any problem
raises `ArchiveError` (a `ValueError`).

Example:
>>> import os, tempfile
>>> import tritonlayers as keras
>>> model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
>>> path = os.path.join(tempfile.mkdtemp(), "model.keras")
>>> keras.saving.save_model(model, path)
>>> restored = keras.saving.load_model(path)
>>> [tuple(w.shape) for w in restored.weights]
[(3, 2), (2,)]
"""

import contextlib
import datetime
import json
import os
from typing import Any

from . import optimizer_state, safetensors_io, strict_json
from .archive import MAX_ENTRIES, archive_bytes, read_archive, write_archive
from .assets import ASSETS_PREFIX, collect_assets, restore_assets
from .errors import ArchiveError, ConfigRebuildError
from .object_registration import CustomObjectScope
from .serialization_lib import SafeModeScope, deserialize_keras_object, serialize_keras_object
from .weights_io import (
    ARCHIVE_OPTIMIZER_STATE,
    ARCHIVE_OPTIMIZER_TENSORS,
    ARCHIVE_WEIGHTS,
    assign_weights,
    collect_weights,
    read_archive_optimizer_state,
)

__all__ = ["load_model", "model_from_json", "save_model"]

CONFIG = "config.json"
METADATA = "metadata.json"
# Beyond twice the file's weights, what a rebuilt model's (uninitialized) variables may
# allocate before their values are checked against the file: a config cannot ask for more.
_BUDGET_SLACK_BYTES = 1024 * 1024
_REQUIRED = (CONFIG, METADATA, ARCHIVE_WEIGHTS)
_OPTIONAL = (ARCHIVE_OPTIMIZER_STATE, ARCHIVE_OPTIMIZER_TENSORS)
_CONFIG_FIELDS = {
    "module": (str, type(None)),
    "class_name": (str,),
    "config": (dict,),
    "registered_name": (str, type(None)),
    "build_config": (dict, type(None)),
    "compile_config": (dict, type(None)),
}


def save_model(model, filepath: "str | os.PathLike[str]", overwrite: bool = True) -> None:
    """Save the model (architecture, weights, compile and optimizer state) to a `.keras` file.

    The file is replaced atomically: a process killed mid-save leaves the previous file.

    Example:
    >>> import os, tempfile
    >>> import tritonlayers as keras
    >>> model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
    >>> keras.saving.save_model(model, os.path.join(tempfile.mkdtemp(), "filepath.keras"))
    """
    filepath = os.fspath(filepath)
    if not filepath.endswith(".keras"):
        raise ValueError(
            "Invalid filepath extension for saving. Please add a `.keras` extension for the "
            f"native format. Received: filepath={filepath}"
        )
    if not overwrite and os.path.exists(filepath):
        raise FileExistsError(f"{filepath} exists and overwrite=False.")
    write_archive(filepath, model_entries(model))


def load_model(
    filepath: "str | os.PathLike[str]",
    custom_objects: "dict[str, Any] | None" = None,
    compile: bool = True,
    safe_mode: bool = True,
):
    """Load a model saved by `save_model` / `model.save`.

    Args:
        filepath: a `.keras` file.
        custom_objects: `{name: class or function}` for custom objects that are not
            registered with `register_keras_serializable`.
        compile: compile the model as it was saved and restore its optimizer state.
        safe_mode: refuse configs that carry Python code (`Lambda`). Only turn it off for
            files you trust.

    Raises:
        ValueError: the path does not name an existing `.keras` file (Keras's wording).
        ArchiveError: the file is malformed, hostile, or does not describe a loadable model.

    Example:
    >>> import os, tempfile
    >>> import tritonlayers as keras
    >>> model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(3)])
    >>> path = os.path.join(tempfile.mkdtemp(), "m.keras")
    >>> model.save(path)
    >>> type(keras.saving.load_model(path)).__name__
    'Sequential'
    """
    filepath = os.fspath(filepath)
    if not filepath.endswith(".keras"):
        raise ValueError(
            f"File format not supported: filepath={filepath}. tritonlayers loads `.keras` "
            "archives (weights alone: `model.load_weights`)."
        )
    if not os.path.isfile(filepath):
        raise ValueError(
            f"File not found: filepath={filepath}. Please ensure the file is an accessible "
            "`.keras` zip file."
        )
    entries = read_archive(
        filepath, required=_REQUIRED, optional=_OPTIONAL, optional_prefixes=(ASSETS_PREFIX,)
    )
    return model_from_entries(entries, filepath, custom_objects, compile, safe_mode)


def model_from_json(json_string: "str | bytes", custom_objects: "dict[str, Any] | None" = None):
    """Rebuild a (freshly initialized) model from `model.to_json()`.

    Example:
    >>> import tritonlayers as keras
    >>> model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(3)])
    >>> clone = keras.saving.model_from_json(model.to_json())
    >>> [tuple(w.shape) for w in clone.weights]
    [(2, 3), (3,)]
    """
    config = _checked_config(strict_json.loads_object(json_string, "model JSON"), "model JSON")
    return _deserialize(config, "model JSON", custom_objects, safe_mode=True)


def model_entries(model) -> dict[str, bytes]:
    """The archive entries `save_model` writes for `model`, as `{name: bytes}`."""
    from .. import __version__

    metadata = {
        "tritonlayers_version": __version__,
        "date_saved": datetime.datetime.now().strftime("%Y-%m-%d@%H:%M:%S"),
    }
    entries = {
        CONFIG: json.dumps(serialize_keras_object(model)).encode("utf-8"),
        METADATA: json.dumps(metadata).encode("utf-8"),
        ARCHIVE_WEIGHTS: safetensors_io.save(collect_weights(model)),
    }
    optimizer_parts = optimizer_state.encode(model)
    if optimizer_parts is not None:
        text, tensors = optimizer_parts
        entries[ARCHIVE_OPTIMIZER_STATE] = text.encode("utf-8")
        entries[ARCHIVE_OPTIMIZER_TENSORS] = safetensors_io.save(tensors)
    assets = collect_assets(model)
    if len(entries) + len(assets) > MAX_ENTRIES:
        raise ValueError(
            f"Cannot save {type(model).__name__} '{model.name}': its layers' `save_assets` "
            f"wrote {len(assets)} files, but a `.keras` archive holds at most {MAX_ENTRIES} "
            f"entries, {len(entries)} of them taken by the model (write fewer asset files)."
        )
    entries.update(assets)
    return entries


def model_to_bytes(model) -> bytes:
    """The `.keras` archive of `model` as bytes (for pickling and copying)."""
    return archive_bytes(model_entries(model))


def model_from_bytes(
    data: bytes, custom_objects: "dict[str, Any] | None" = None, safe_mode: bool = True
):
    """Load a model from `.keras` archive bytes, as `load_model` does from a file."""
    entries = read_archive(
        data, required=_REQUIRED, optional=_OPTIONAL, optional_prefixes=(ASSETS_PREFIX,)
    )
    return model_from_entries(entries, "<archive bytes>", custom_objects, True, safe_mode)


def model_from_entries(entries: dict[str, bytes], source, custom_objects, compile, safe_mode):
    """Parse and check every entry, rebuild the model, then fill its weights and state."""
    config = _checked_config(
        strict_json.loads_object(entries[CONFIG], f"{source}/{CONFIG}"), source
    )
    _check_metadata(strict_json.loads_object(entries[METADATA], f"{source}/{METADATA}"), source)
    weights_source = f"{source}/{ARCHIVE_WEIGHTS}"
    weights, _ = safetensors_io.load(entries[ARCHIVE_WEIGHTS], source=weights_source)
    from ..layers.variables import variables_for_loading

    state = read_archive_optimizer_state(entries, source) if compile else None
    compile_config = config.pop("compile_config", None)
    budget = 2 * sum(tensor.nbytes for tensor in weights.values()) + _BUDGET_SLACK_BYTES
    with variables_for_loading(budget):
        model = _deserialize(config, source, custom_objects, safe_mode)
    if compile and compile_config:
        _compile(model, compile_config, source, custom_objects, safe_mode)
    assign_weights(model, weights, weights_source, optimizer=state)
    restore_assets(model, entries)
    return model


def _compile(model, compile_config: dict, source: str, custom_objects, safe_mode: bool) -> None:
    try:
        unsafe = contextlib.nullcontext() if safe_mode else SafeModeScope(False)
        with unsafe, CustomObjectScope(custom_objects or {}):
            model.compile_from_config(compile_config)
    except Exception as exc:
        raise ArchiveError(f"{source}: could not compile the model as saved: {exc}") from exc


def _deserialize(config: dict, source: str, custom_objects, safe_mode: bool):
    from ..layers import Layer

    try:
        model = deserialize_keras_object(config, custom_objects=custom_objects, safe_mode=safe_mode)
    except Exception as exc:
        raise ConfigRebuildError(
            f"{source}: could not rebuild the model from its config: {exc}"
        ) from exc
    if not isinstance(model, Layer):
        raise ArchiveError(
            f"{source}: the config describes a {type(model).__name__}, not a layer or model."
        )
    return model


def _checked_config(config: dict, source: str) -> dict:
    for field, types in _CONFIG_FIELDS.items():
        required = field in ("class_name", "config")
        if (required and field not in config) or (
            field in config and not isinstance(config[field], types)
        ):
            expected = " or ".join("null" if t is type(None) else t.__name__ for t in types)
            found = type(config[field]).__name__ if field in config else "nothing"
            raise ArchiveError(
                f"{source}: config field {field!r} must be {expected}; found {found}."
            )
    extra = sorted(set(config) - set(_CONFIG_FIELDS))
    if extra:
        raise ArchiveError(f"{source}: unexpected config fields {extra}.")
    return dict(config)


def _check_metadata(metadata: dict, source: str) -> None:
    for field in ("tritonlayers_version", "date_saved"):
        if not isinstance(metadata.get(field), str):
            found = repr(metadata.get(field))[:100]
            raise ArchiveError(f"{source}/{METADATA}: {field!r} must be a string; found {found}.")
