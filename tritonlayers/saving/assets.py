"""Layer assets in `.keras` archives: the files a layer's `save_assets` writes.

A layer (or model) that defines `save_assets(dir_path)` writes files into a folder of its
own when its model is saved; they are stored in the archive under
`assets/<layer path>/<file>`, the layer path named as `variable_keys` names it ("model" for
the saved model itself, then "model/dense", ...). On load, every layer that defines
`load_assets(dir_path)` gets a fresh folder holding what its twin wrote, after the weights
are assigned, as Keras does.

Example:
>>> import os, tempfile
>>> import tritonlayers as keras
>>> class Vocab(keras.layers.Layer):
...     def __init__(self, words="", **kwargs):
...         super().__init__(**kwargs)
...         self.words = words
...     def save_assets(self, dir_path):
...         with open(os.path.join(dir_path, "vocab.txt"), "w") as f:
...             f.write(self.words)
...     def load_assets(self, dir_path):
...         with open(os.path.join(dir_path, "vocab.txt")) as f:
...             self.words = f.read()
>>> model = keras.Sequential([keras.Input((2,)), Vocab("a b c")])
>>> sorted(collect_assets(model))
['assets/model/vocab/vocab.txt']
>>> twin = keras.Sequential([keras.Input((2,)), Vocab()])
>>> restore_assets(twin, collect_assets(model))
>>> twin.layers[0].words
'a b c'
"""

import os
import tempfile

from .errors import ArchiveError
from .variable_keys import _Numbering, snake_case

__all__ = ["ASSETS_PREFIX", "collect_assets", "restore_assets"]

ASSETS_PREFIX = "assets/"
_ROOT = "model"


def collect_assets(model) -> dict[str, bytes]:
    """`{archive entry name: bytes}` for the files every layer's `save_assets` writes."""
    entries: dict[str, bytes] = {}
    for path, layer, _ in _layer_paths(model):
        save_assets = getattr(layer, "save_assets", None)
        if not callable(save_assets):
            continue
        with tempfile.TemporaryDirectory() as folder:
            save_assets(folder)
            for root, _, files in os.walk(folder):
                for name in sorted(files):
                    full = os.path.join(root, name)
                    relative = os.path.relpath(full, folder).replace(os.sep, "/")
                    with open(full, "rb") as file:
                        entries[f"{ASSETS_PREFIX}{path}/{relative}"] = file.read()
    return entries


def restore_assets(model, entries: dict[str, bytes]) -> None:
    """Call each layer's `load_assets` on a folder holding its files from `entries`."""
    for path, layer, child_names in _layer_paths(model):
        load_assets = getattr(layer, "load_assets", None)
        if not callable(load_assets):
            continue
        prefix = f"{ASSETS_PREFIX}{path}/"
        with tempfile.TemporaryDirectory() as folder:
            for name, data in entries.items():
                if not name.startswith(prefix):
                    continue
                relative = name[len(prefix) :]
                if "/" in relative and relative.split("/", 1)[0] in child_names:
                    continue  # a sublayer's file: that sublayer loads it
                target = os.path.join(folder, *relative.split("/"))
                try:
                    os.makedirs(os.path.dirname(target), exist_ok=True)
                    with open(target, "wb") as file:
                        file.write(data)
                except OSError as exc:  # e.g. both "a" and "a/b" in the archive
                    raise ArchiveError(f"asset entry {name!r} cannot be unpacked: {exc}") from exc
            load_assets(folder)


def _layer_paths(model) -> list:
    """`(path, layer, names of its sublayers' folders)` for `model` and its sublayers, depth
    first, each layer once."""
    found: list = []
    seen: set = set()

    def visit(layer, path: str) -> None:
        names = _Numbering()
        children = []
        for child in layer._flatten_layers(include_self=False, recursive=False):
            name = names.unique(snake_case(type(child).__name__))
            if id(child) not in seen:
                seen.add(id(child))
                children.append((child, f"{path}/{name}"))
        found.append((path, layer, {p.rsplit("/", 1)[1] for _, p in children}))
        for child, child_path in children:
            visit(child, child_path)

    seen.add(id(model))
    visit(model, _ROOT)
    return found
