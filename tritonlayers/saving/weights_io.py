"""Weights files: collect a model's variables by key, and check-then-assign loaded tensors.

A `.weights.safetensors` file holds every variable under its `variable_keys` key and, for a
compiled model, the optimizer state too (as Keras 3 weights files do): its tensors under
`optimizer/<n>` and its structure in the header metadata `optimizer_state`.

A layer whose `save_own_variables` or `load_own_variables` is user code saves what the
first puts in its store instead of its own variables, under `<layer path>/@vars/<store
key>`; loading hands those entries (as numpy arrays) to its `load_own_variables`, as Keras 3
does. `assign_weights` runs those methods last, after the checked copy below.

`assign_weights` never changes a model halfway: it first matches every tensor from the file
to a variable, checks names, shapes and dtypes, and converts each tensor to its variable's
dtype and device; only when all of that succeeded does it copy them in. A mismatch raises
one `ArchiveError` listing every variable that differs. Optimizer state that does not fit
the model's optimizer is skipped with a warning, as in Keras.

Example:
>>> import os, tempfile
>>> import tritonlayers as keras
>>> from tritonlayers.saving.weights_io import load_weights, save_weights
>>> model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
>>> path = os.path.join(tempfile.mkdtemp(), "m.weights.safetensors")
>>> save_weights(model, path)
>>> load_weights(model, path)
"""

import os
import warnings

import numpy as np
import torch

from . import optimizer_state, safetensors_io
from .archive import read_archive
from .assets import ASSETS_PREFIX
from .atomic import write_bytes_atomically
from .errors import ArchiveError
from .variable_keys import layer_prefixes, metric_state_keys, variable_keys
from .weights_h5 import H5_WEIGHTS_SUFFIX, load_weights_h5, save_weights_h5

__all__ = ["WEIGHTS_SUFFIX", "assign_weights", "collect_weights", "load_weights", "save_weights"]

WEIGHTS_SUFFIX = ".weights.safetensors"
ARCHIVE_WEIGHTS = "model.weights.safetensors"
ARCHIVE_OPTIMIZER_STATE = "optimizer.json"
ARCHIVE_OPTIMIZER_TENSORS = "optimizer.safetensors"
OPTIMIZER_PREFIX = "optimizer/"
OWN_VARIABLES = "@vars"
_OPTIMIZER_METADATA = "optimizer_state"


def collect_weights(model) -> dict[str, torch.Tensor]:
    """`{key: tensor}` of all the model's variables, as saved in weights files.

    Example:
    >>> import tritonlayers as keras
    >>> from tritonlayers.saving.weights_io import collect_weights
    >>> layer = keras.layers.Dense(2)
    >>> layer.build((None, 5))
    >>> sorted(collect_weights(layer))
    ['bias', 'kernel']
    """
    stores = _saved_stores(model)
    taken = {id(v) for layer, _ in stores.values() for v in _own_variables(layer)}
    tensors = {
        key: variable.detach()
        for key, variable in variable_keys(model).items()
        if id(variable) not in taken
    }
    for prefix, (layer, store) in stores.items():
        for name, value in store.items():
            tensors[f"{prefix}{OWN_VARIABLES}/{name}"] = _store_tensor(layer, name, value)
    return tensors


def _own_variables(layer) -> list:
    return layer._trainable_variables + layer._non_trainable_variables


def _saves_own_store(layer) -> bool:
    """Whether `layer`'s `save_own_variables` or `load_own_variables` is user code (defined
    outside tritonlayers): only those layers' stores are saved; the others' variables are
    saved by key."""
    return any(
        not getattr(type(layer), hook).__module__.startswith("tritonlayers.")
        for hook in ("save_own_variables", "load_own_variables")
    )


def _saved_stores(model) -> dict:
    """`{prefix: (layer, store)}` for the layers whose store hooks are user code."""
    stores = {}
    for prefix, layer in layer_prefixes(model).items():
        if _saves_own_store(layer):
            store: dict = {}
            layer.save_own_variables(store)
            stores[prefix] = (layer, store)
    return stores


def _store_tensor(layer, name, value) -> torch.Tensor:
    """A `save_own_variables` store value as a tensor for the weights file."""
    if isinstance(value, torch.Tensor):
        return value.detach().contiguous()
    array = np.asarray(value)
    if array.dtype.kind not in "biuf":
        raise ValueError(
            f"Layer '{layer.name}' ({type(layer).__name__}): `save_own_variables` stored "
            f"{name!r} as an array of dtype {array.dtype}; a weights file holds numeric and "
            "boolean arrays only (save other state with `save_assets`)."
        )
    return torch.from_numpy(array.copy())  # C order, 0-d arrays kept 0-d


def save_weights(model, filepath: "str | os.PathLike[str]", overwrite: bool = True) -> None:
    """Save the model's variables to a `.weights.safetensors` file, atomically (or to a
    `.weights.h5` file in the Keras 3 layout, without the optimizer state; see `weights_h5`).

    Example:
    >>> import os, tempfile
    >>> import tritonlayers as keras
    >>> from tritonlayers.saving import save_weights
    >>> model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    >>> save_weights(model, os.path.join(tempfile.mkdtemp(), "w.weights.safetensors"))
    """
    filepath = os.fspath(filepath)
    if not filepath.endswith((WEIGHTS_SUFFIX, H5_WEIGHTS_SUFFIX)):
        raise ValueError(
            f"The filename must end in `{WEIGHTS_SUFFIX}` (or `{H5_WEIGHTS_SUFFIX}`, the "
            f"Keras 3 layout). Received: filepath={filepath}"
        )
    _check_overwrite(filepath, overwrite)
    _check_built(model, "save")
    if filepath.endswith(H5_WEIGHTS_SUFFIX):
        save_weights_h5(model, filepath)
        return
    tensors, metadata = collect_weights(model), _weights_metadata()
    optimizer_parts = optimizer_state.encode(model)
    if optimizer_parts is not None:
        text, optimizer_tensors = optimizer_parts
        tensors.update({OPTIMIZER_PREFIX + key: value for key, value in optimizer_tensors.items()})
        metadata[_OPTIMIZER_METADATA] = text
    write_bytes_atomically(filepath, safetensors_io.save(tensors, metadata=metadata))


def load_weights(model, filepath: "str | os.PathLike[str]", skip_mismatch: bool = False) -> None:
    """Load weights saved by `save_weights` (or the weights of a `.keras` archive).

    Names and shapes must match the model's variables, else an `ArchiveError` lists every
    difference and no variable changes. With `skip_mismatch=True`, variables whose tensor is
    missing or has another shape keep their values (with a warning) and the rest load.

    Example:
    >>> import os, tempfile
    >>> import tritonlayers as keras
    >>> from tritonlayers.saving import load_weights, save_weights
    >>> model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    >>> path = os.path.join(tempfile.mkdtemp(), "w.weights.safetensors")
    >>> save_weights(model, path)
    >>> load_weights(model, path)
    """
    filepath = os.fspath(filepath)
    if filepath.endswith(".keras"):
        tensors, state, source = _read_archive_weights(filepath)
    elif filepath.endswith(WEIGHTS_SUFFIX):
        tensors, state, source = _read_weights_file(filepath)
    elif filepath.endswith(H5_WEIGHTS_SUFFIX):
        _check_built(model, "load")
        load_weights_h5(model, filepath, skip_mismatch=skip_mismatch)
        return
    else:
        raise ValueError(
            f"File format not supported: filepath={filepath}. Weights load from "
            f"`{WEIGHTS_SUFFIX}` or `{H5_WEIGHTS_SUFFIX}` files or `.keras` archives."
        )
    _check_built(model, "load")
    assign_weights(model, tensors, source, skip_mismatch=skip_mismatch, optimizer=state)


def _read_weights_file(filepath: str):
    with open(filepath, "rb") as file:
        tensors, metadata = safetensors_io.load(file.read(), source=filepath)
    optimizer_tensors = {
        key[len(OPTIMIZER_PREFIX) :]: tensors.pop(key)
        for key in list(tensors)
        if key.startswith(OPTIMIZER_PREFIX)
    }
    text = metadata.get(_OPTIMIZER_METADATA)
    if text is None and optimizer_tensors:
        raise ArchiveError(
            f"{filepath}: holds {OPTIMIZER_PREFIX}* tensors but no {_OPTIMIZER_METADATA!r} "
            "metadata describing them."
        )
    source = f"{filepath} ({_OPTIMIZER_METADATA})"
    state = None if text is None else optimizer_state.decode(text, optimizer_tensors, source)
    return tensors, state, filepath


def _read_archive_weights(filepath: str):
    entries = read_archive(
        filepath,
        required=[ARCHIVE_WEIGHTS],
        optional=_OTHER_ENTRIES,
        optional_prefixes=(ASSETS_PREFIX,),
    )
    source = f"{filepath}/{ARCHIVE_WEIGHTS}"
    tensors, _ = safetensors_io.load(entries[ARCHIVE_WEIGHTS], source=source)
    return tensors, read_archive_optimizer_state(entries, filepath), source


def read_archive_optimizer_state(entries: dict[str, bytes], source: str) -> "dict | None":
    """The decoded optimizer state of archive `entries`, or None when they hold none."""
    names = (ARCHIVE_OPTIMIZER_STATE, ARCHIVE_OPTIMIZER_TENSORS)
    present = [name for name in names if name in entries]
    if not present:
        return None
    if len(present) == 1:
        missing = next(name for name in names if name not in entries)
        raise ArchiveError(f"{source}: {present[0]} is present but {missing} is missing.")
    where = f"{source}/{ARCHIVE_OPTIMIZER_TENSORS}"
    tensors, _ = safetensors_io.load(entries[ARCHIVE_OPTIMIZER_TENSORS], source=where)
    text = entries[ARCHIVE_OPTIMIZER_STATE]
    return optimizer_state.decode(text, tensors, f"{source}/{ARCHIVE_OPTIMIZER_STATE}")


_OTHER_ENTRIES = (
    "config.json",
    "metadata.json",
    ARCHIVE_OPTIMIZER_STATE,
    ARCHIVE_OPTIMIZER_TENSORS,
)


def assign_weights(
    model,
    tensors: dict[str, torch.Tensor],
    source: str,
    skip_mismatch: bool = False,
    optimizer: "dict | None" = None,
) -> None:
    """Check every tensor against the model's variables, then assign them all (or none).

    `optimizer` is a decoded optimizer state (see `optimizer_state`) restored after the
    weights were checked; when it does not fit (e.g. layers were frozen or unfrozen after
    training), it is skipped with a warning, as Keras does.

    Example:
    >>> import torch
    >>> import tritonlayers as keras
    >>> from tritonlayers.saving.weights_io import assign_weights
    >>> layer = keras.layers.Dense(2)
    >>> layer.build((None, 1))
    >>> assign_weights(layer, {"kernel": torch.ones(1, 2), "bias": torch.zeros(2)}, "demo")
    >>> layer.kernel.numpy().tolist()
    [[1.0, 1.0]]
    """
    variables = variable_keys(model)
    seed_states = _seed_generator_states(model)
    stores, store_keys = _loaded_stores(model, tensors, variables)
    taken = {id(v) for layer, _ in stores.values() for v in _own_variables(layer)}
    problems, staged = [], []
    for key, variable in variables.items():
        if id(variable) in taken:
            continue  # the layer's `load_own_variables` assigns it from its store
        if key not in tensors and id(variable) in seed_states:
            continue  # random state, not a weight: a file without it keeps the model's own
        if key not in tensors:
            problems.append(f"{key} (shape {tuple(variable.shape)}): missing from the file")
            continue
        tensor = tensors[key]
        if tuple(tensor.shape) != tuple(variable.shape):
            problems.append(
                f"{key}: the model expects shape {tuple(variable.shape)}, the file holds "
                f"{tuple(tensor.shape)}"
            )
        elif _kind(tensor.dtype) != _kind(variable.dtype):
            problems.append(
                f"{key}: the model expects dtype {_dtype_name(variable.dtype)}, the file "
                f"holds {_dtype_name(tensor.dtype)}"
            )
        else:
            staged.append((variable, tensor.to(device=variable.device, dtype=variable.dtype)))
    legacy_metric_state = metric_state_keys(model) if set(tensors) - set(variables) else set()
    unexpected = sorted(
        key
        for key in set(tensors) - set(variables) - legacy_metric_state - store_keys
        if not _is_seed_state(key, tensors[key])
    )
    problems += [f"{key}: in the file but not in the model" for key in unexpected]
    if problems and not skip_mismatch:
        raise ArchiveError(
            f"{source}: the weights do not match {_describe(model)} "
            f"({len(problems)} mismatched):\n  " + "\n  ".join(problems)
        )
    if problems:
        warnings.warn(
            f"{source}: skipped mismatched weights of {_describe(model)}:\n  "
            + "\n  ".join(problems),
            stacklevel=2,
        )
    if optimizer is not None:
        _restore_optimizer(model, optimizer, source)
    with torch.no_grad():
        for variable, tensor in staged:
            variable.copy_(tensor)
    _load_stores(stores, skip_mismatch)


def _loaded_stores(model, tensors: dict, variables: dict) -> "tuple[dict, set]":
    """`({prefix: (layer, {store key: array})}, their file keys)` for the layers that have
    `save_own_variables` entries in `tensors`, and the layers whose `save_own_variables`
    stored nothing (they override it, and the file has none of their own variables)."""
    prefixes = layer_prefixes(model)
    stores: dict = {}
    keys = set()
    marker = f"{OWN_VARIABLES}/"
    for key, tensor in tensors.items():
        prefix, found, name = key.partition(marker)
        if not found or prefix not in prefixes:
            continue
        if tensor.dtype == torch.bfloat16:
            tensor = tensor.float()
        stores.setdefault(prefix, (prefixes[prefix], {}))[1][name] = tensor.numpy()
        keys.add(key)
    in_file = {id(variables[key]) for key in tensors if key in variables}
    for prefix, layer in prefixes.items():
        stored_nothing = not any(id(v) in in_file for v in _own_variables(layer))
        if _saves_own_store(layer) and prefix not in stores and stored_nothing:
            stores[prefix] = (layer, {})
    return stores, keys


def _load_stores(stores: dict, skip_mismatch: bool) -> None:
    """Call each layer's `load_own_variables` on its store; report failures as Keras does
    (all of them, after trying every layer)."""
    failed = []
    for layer, store in stores.values():
        try:
            layer.load_own_variables(store)
        except Exception as error:  # user code: any failure is reported with its layer
            failed.append((layer, error))
    if not failed:
        return
    layer, error = failed[0]
    message = (
        f"A total of {len(failed)} objects could not be loaded. Example error message for "
        f"object {layer!r}:\n\n{error}\n\nList of objects that could not be loaded:\n"
        f"{[layer for layer, _ in failed]}"
    )
    if skip_mismatch:
        warnings.warn(message, stacklevel=3)
        return
    raise ArchiveError(message) from error


def _seed_generator_states(model) -> set:
    """Ids of the `SeedGenerator` state variables of `model`'s layers.

    Keras keeps them out of weights files (they are not weights), so a weights file may
    lack them (a model with an extra `Dropout`) or hold some the model lacks."""
    from ..random import SeedGenerator

    return {
        id(value.state)
        for layer in model._flatten_layers(include_self=True)
        for value in vars(layer).values()
        if isinstance(value, SeedGenerator)
    }


def _is_seed_state(key: str, tensor: torch.Tensor) -> bool:
    """Whether a file entry is a `SeedGenerator` state ("<name>_state", int64 of shape (2,))."""
    return key.endswith("_state") and tensor.dtype == torch.int64 and tuple(tensor.shape) == (2,)


def _restore_optimizer(model, state: dict, source: str) -> None:
    try:
        optimizer_state.restore(model, state, source)
    except ArchiveError as error:
        warnings.warn(f"Skipping the optimizer state: {error}", stacklevel=3)


def _dtype_name(dtype: "torch.dtype | str") -> str:
    return str(dtype).removeprefix("torch.")


def _kind(dtype: torch.dtype) -> str:
    if dtype == torch.bool:
        return "bool"
    return "float" if dtype.is_floating_point else "int"


def _describe(model) -> str:
    return f"{type(model).__name__} {getattr(model, 'name', '')!r}"


def _check_built(model, action: str) -> None:
    if not getattr(model, "built", True):
        raise ValueError(
            f"Cannot {action} the weights of {_describe(model)}: it has not been built yet. "
            "Call the model on data (or `model.build(input_shape)`) first."
        )


def _check_overwrite(filepath: str, overwrite: bool) -> None:
    if not overwrite and os.path.exists(filepath):
        raise FileExistsError(f"{filepath} exists and overwrite=False.")


def _weights_metadata() -> dict[str, str]:
    from .. import __version__

    return {"format": "tritonlayers", "tritonlayers_version": __version__}
