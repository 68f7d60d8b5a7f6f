"""`.weights.h5` files laid out as Keras 3 writes them, so weights move both ways.

Keras 3 stores each saveable object's own variables in an HDF5 group `<path>/vars`, as
datasets "0", "1", ... (trainable variables, then non-trainable ones), with the object's
name in the group's `name` attribute; the model's own group is the top-level `vars`. An
object's path is the chain of attribute names that reach it: a Sequential or functional
model lists its layers first under `layers/<class in snake case>` (numbered "dense",
"dense_1" within the list), then every other attribute follows in sorted order (private
ones last), an object reached twice keeping its first path ("layers/lstm/cell",
"block/blocks/dense_1"). The optimizer state is not written here; a file's `optimizer/`
groups are skipped with a warning.

h5py is optional: it is imported only when a `.weights.h5` file is read or written.

Example:
>>> import os, tempfile
>>> import tritonlayers as keras
>>> from tritonlayers.saving.weights_h5 import load_weights_h5, save_weights_h5
>>> model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
>>> path = os.path.join(tempfile.mkdtemp(), "m.weights.h5")
>>> save_weights_h5(model, path)
>>> load_weights_h5(model, path)
"""

import io
import re
import warnings

import numpy as np
import torch

from .atomic import write_bytes_atomically
from .errors import ArchiveError
from .variable_keys import layer_prefixes, variable_keys

__all__ = [
    "H5_WEIGHTS_SUFFIX",
    "h5_layout",
    "load_weights_h5",
    "read_weights_h5",
    "save_weights_h5",
]

H5_WEIGHTS_SUFFIX = ".weights.h5"
_VARS = "vars"
_OPTIMIZER = "optimizer"


def _h5py(filepath: str):
    try:
        import h5py
    except ImportError as error:
        raise ImportError(
            f"Reading or writing '{filepath}' needs h5py, which is not installed: "
            "`pip install h5py`, or use a `.weights.safetensors` file instead."
        ) from error
    return h5py


def h5_layout(model) -> dict:
    """`{group path: layer}` for `model` and every sublayer, as Keras 3 paths them (the
    model itself is ""), in visiting order.

    Example:
    >>> import tritonlayers as keras
    >>> from tritonlayers.saving.weights_h5 import h5_layout
    >>> model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    >>> list(h5_layout(model))
    ['', 'layers/dense']
    """
    layout: dict = {}
    _walk(model, "", layout, set(), _internal_attributes())
    return layout


def _internal_attributes() -> frozenset:
    """Attribute names of tritonlayers' base `Layer` (and torch's `Module`): never a path,
    as Keras skips its base `Layer`'s attributes."""
    from ..layers.layer import Layer

    return frozenset(dir(Layer))


def _walk(layer, path: str, layout: dict, seen: set, skip: frozenset) -> None:
    from ..layers.layer import Layer
    from ..models.functional import Functional
    from ..models.model import Model
    from ..models.sequential import Sequential

    if id(layer) in seen:
        return
    seen.add(id(layer))
    layout[path] = layer
    children, graph = [], set()
    if isinstance(layer, (Sequential, Functional)):
        children.append(("layers", layer.layers))
        # their layers are registered as torch modules under the layers' own names
        graph = {id(child) for child in getattr(layer, "_sequence", layer.layers)}
    modules = [name for name, child in layer._modules.items() if id(child) not in graph]
    # private containers in `__dict__` are tritonlayers' caches; sublayers are in `_modules`
    names = {*(name for name in vars(layer) if not name.startswith("_")), *modules}
    names = {name for name in names if not name.startswith("__") and name not in skip}
    if isinstance(layer, Model):
        names.add("layers")
    for name in sorted(names, key=lambda name: f"~{name}" if name[0] == "_" else name):
        children.append((name, getattr(layer, name)))
    for name, value in children:
        child_path = f"{path}/{name}" if path else name
        if isinstance(value, Layer):
            _walk(value, child_path, layout, seen, skip)
        elif isinstance(value, (list, tuple, dict)):
            _walk_container(value, child_path, layout, seen, skip, set())


def _walk_container(container, path: str, layout: dict, seen: set, skip, containers) -> None:
    from ..layers.layer import Layer

    if id(container) in containers:
        return
    containers.add(id(container))
    counts: dict = {}
    items = container.values() if isinstance(container, dict) else container
    for item in items:
        if isinstance(item, Layer):
            name = _numbered(_snake_case(type(item).__name__), counts)
            _walk(item, f"{path}/{name}", layout, seen, skip)
        elif isinstance(item, (list, tuple, dict)):
            name = _numbered("container", counts)
            _walk_container(item, f"{path}/{name}", layout, seen, skip, containers)


def _snake_case(name: str) -> str:
    """Keras's path name for a class: "Conv2D" -> "conv2d", "BatchNormalization" ->
    "batch_normalization" (a digit does not start a new word, unlike `snake_case`)."""
    name = re.sub(r"\W+", "", name)
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


def _numbered(base: str, counts: dict) -> str:
    if base in counts:
        counts[base] += 1
        return f"{base}_{counts[base]}"
    counts[base] = 0
    return base


def _vars_group(path: str) -> str:
    return f"{path}/{_VARS}" if path else _VARS


def save_weights_h5(model, filepath: str) -> None:
    """Write `model`'s variables to `filepath` in the Keras 3 `.weights.h5` layout,
    atomically (the old file stays whole until the new one is complete).

    Example:
    >>> import os, tempfile
    >>> import tritonlayers as keras
    >>> from tritonlayers.saving.weights_h5 import save_weights_h5
    >>> model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    >>> save_weights_h5(model, os.path.join(tempfile.mkdtemp(), "w.weights.h5"))
    """
    h5py = _h5py(filepath)
    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as file:
        for path, layer in h5_layout(model).items():
            store: dict = {}
            layer.save_own_variables(store)
            group = file.create_group(_vars_group(path))
            group.attrs["name"] = layer.name
            for key, value in store.items():
                group[key] = _to_numpy(value)
    write_bytes_atomically(filepath, buffer.getvalue())


def _to_numpy(value) -> np.ndarray:
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu()
        if value.dtype == torch.bfloat16:
            value = value.float()
        return value.numpy()
    return np.asarray(value)


def read_weights_h5(filepath: str) -> dict:
    """`{group path: {dataset name: array}}` of every `vars` group in a `.weights.h5`
    file; a file that is not HDF5 raises an `ArchiveError` naming it.

    Example:
    >>> import os, tempfile
    >>> import tritonlayers as keras
    >>> from tritonlayers.saving.weights_h5 import read_weights_h5, save_weights_h5
    >>> model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    >>> path = os.path.join(tempfile.mkdtemp(), "w.weights.h5")
    >>> save_weights_h5(model, path)
    >>> {group: sorted(store) for group, store in read_weights_h5(path).items()}
    {'layers/dense': ['0', '1'], '': []}
    """
    h5py = _h5py(filepath)
    with open(filepath, "rb"):  # a missing file raises FileNotFoundError naming it
        pass
    if not h5py.is_hdf5(filepath):
        raise ArchiveError(f"{filepath}: not an HDF5 file, so not a `.weights.h5` file.")
    groups: dict = {}
    with h5py.File(filepath, "r") as file:

        def visit(name, item):
            if isinstance(item, h5py.Group) and name.split("/")[-1] == _VARS:
                path = name[: -len(_VARS)].rstrip("/")
                groups[path] = {
                    key: np.asarray(value[()])
                    for key, value in item.items()
                    if isinstance(value, h5py.Dataset)
                }

        file.visititems(visit)
    return groups


def load_weights_h5(model, filepath: str, skip_mismatch: bool = False) -> None:
    """Load a `.weights.h5` file (as Keras 3 or `save_weights_h5` writes it) into `model`.

    Every entry is checked first; a mismatch raises one `ArchiveError` naming the file and
    listing each missing, extra or wrongly shaped entry, and nothing changes (with
    `skip_mismatch=True` those entries are skipped with a warning and the rest load).

    Example:
    >>> import os, tempfile
    >>> import tritonlayers as keras
    >>> from tritonlayers.saving.weights_h5 import load_weights_h5, save_weights_h5
    >>> model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    >>> path = os.path.join(tempfile.mkdtemp(), "w.weights.h5")
    >>> save_weights_h5(model, path)
    >>> load_weights_h5(model, path)
    """
    from .weights_io import OWN_VARIABLES, _own_variables, _saves_own_store, assign_weights

    groups = read_weights_h5(filepath)
    optimizer_groups = [p for p in groups if p == _OPTIMIZER or p.startswith(_OPTIMIZER + "/")]
    if any(groups[p] for p in optimizer_groups):
        warnings.warn(
            f"{filepath}: the optimizer state in this `.weights.h5` file is not restored "
            "(save to `.weights.safetensors` to keep it).",
            stacklevel=3,
        )
    for path in optimizer_groups:
        del groups[path]
    keys = {id(variable): key for key, variable in variable_keys(model).items()}
    prefixes = {id(layer): prefix for prefix, layer in layer_prefixes(model).items()}
    tensors: dict = {}
    for path, layer in h5_layout(model).items():
        store = groups.pop(path, {})
        if _saves_own_store(layer):
            for name, value in store.items():
                tensors[f"{prefixes[id(layer)]}{OWN_VARIABLES}/{name}"] = _to_tensor(value)
            continue
        own = _own_variables(layer)
        for index, variable in enumerate(own):
            if str(index) in store and id(variable) in keys:
                tensors[keys[id(variable)]] = _to_tensor(store.pop(str(index)))
        for name, value in store.items():
            tensors[f"{_vars_group(path)}/{name}"] = _to_tensor(value)
    for path, store in groups.items():
        for name, value in store.items():
            tensors[f"{_vars_group(path)}/{name}"] = _to_tensor(value)
    assign_weights(model, tensors, filepath, skip_mismatch=skip_mismatch)


def _to_tensor(value: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(value))
