"""Stable names for a model's variables in weights files.

A variable's key is its path inside the model, built from the structure rather than from
names that global counters made: each sublayer is named after its class in snake case,
numbered among its parent's sublayers in tracking order ("dense", "dense_1",
"my_block/dense"), and each variable by its name without a trailing counter ("kernel";
"variable_12" -> "variable"), numbered within its layer when the layer repeats one
("variable", "variable_1"). Two instances of one architecture so get the same keys, even
when the second was built in the same process and its auto-generated names moved on
("dense_7/variable_31" instead of "dense/variable"). Keras 3 names saved state by
structure for the same reason.

Example:
>>> import tritonlayers as keras
>>> from tritonlayers.saving.variable_keys import variable_keys
>>> model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
>>> list(variable_keys(model))
['dense/kernel', 'dense/bias']
"""

import re

import torch

__all__ = ["layer_prefixes", "metric_state_keys", "snake_case", "variable_keys"]

_COUNTER = re.compile(r"_\d+$")


def snake_case(name: str) -> str:
    """`"MyDenseBlock"` -> `"my_dense_block"` (Keras's rule for default names).

    Example:
    >>> from tritonlayers.saving.variable_keys import snake_case
    >>> snake_case("BatchNormalization")
    'batch_normalization'
    """
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name).lower()


def variable_keys(layer) -> dict[str, torch.Tensor]:
    """`{key: variable}` for every variable of `layer` (each shared variable once).

    Example:
    >>> import tritonlayers as keras
    >>> from tritonlayers.saving.variable_keys import variable_keys
    >>> layer = keras.layers.Dense(4)
    >>> layer.build((None, 2))
    >>> {key: tuple(v.shape) for key, v in variable_keys(layer).items()}
    {'kernel': (2, 4), 'bias': (4,)}
    """
    keys: dict[str, torch.Tensor] = {}
    _visit(layer, "", keys, seen_layers=set(), seen_variables=set())
    return keys


def layer_prefixes(layer) -> dict:
    """`{prefix: layer}` for `layer` ("") and each of its sublayers ("dense/", ...): the
    prefix that the keys of the variables it owns start with.

    Example:
    >>> import tritonlayers as keras
    >>> from tritonlayers.saving.variable_keys import layer_prefixes
    >>> model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    >>> {prefix: type(layer).__name__ for prefix, layer in layer_prefixes(model).items()}
    {'': 'Sequential', 'input_layer/': 'InputLayer', 'dense/': 'Dense'}
    """
    prefixes: dict = {}
    _visit(layer, "", {}, set(), set(), prefixes=prefixes)
    return prefixes


def metric_state_keys(layer) -> set[str]:
    """The keys of the state of metrics held by `layer` and its sublayers ("total",
    "count_1", ...) in weights files written while that state was saved with the weights
    (tritonlayers before 2026-11-26; Keras never saves it). Loading skips those entries, so
    such files still load.

    Example:
    >>> import tritonlayers as keras
    >>> from tritonlayers.saving.variable_keys import metric_state_keys
    >>> class Tracked(keras.Model):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.dense = keras.layers.Dense(2)
    ...         self.loss_tracker = keras.metrics.Mean(name="loss")
    >>> sorted(metric_state_keys(Tracked()))
    ['count', 'total']
    """
    keys: dict[str, torch.Tensor] = {}
    _visit(layer, "", keys, set(), set(), variables_of=_with_metric_state)
    metric_state = {
        id(variable)
        for owner in layer._flatten_layers(include_self=True, recursive=True)
        for metric in owner._own_metrics()
        for variable in metric.variables
    }
    return {key for key, variable in keys.items() if id(variable) in metric_state}


def _with_metric_state(layer) -> list:
    """`layer.variables` as it was listed with the state of held metrics: own variables,
    every state owner's, then the sublayers'."""
    listed = [*layer._trainable_variables, *layer._non_trainable_variables]
    listed += [v for owner in layer._state_owners for v in owner.variables]
    listed += [v for child in layer._layers for v in _with_metric_state(child)]
    return list({id(v): v for v in listed}.values())


def _visit(
    layer,
    prefix: str,
    keys: dict,
    seen_layers: set,
    seen_variables: set,
    variables_of=lambda layer: layer.variables,
    prefixes: "dict | None" = None,
) -> None:
    seen_layers.add(id(layer))
    if prefixes is not None:
        prefixes[prefix] = layer
    children = list(layer._flatten_layers(include_self=False, recursive=False))
    in_children = {id(v) for child in children for v in variables_of(child)}
    variable_names = _Numbering()
    for variable in variables_of(layer):
        if id(variable) in in_children or id(variable) in seen_variables:
            continue
        seen_variables.add(id(variable))
        name = str(getattr(variable, "name", "") or "variable").split("/")[-1]
        base = _COUNTER.sub("", name) or name
        keys[prefix + variable_names.unique(base)] = variable
    layer_names = _Numbering()
    for child in children:
        if id(child) not in seen_layers:
            child_prefix = f"{prefix}{layer_names.unique(snake_case(type(child).__name__))}/"
            _visit(child, child_prefix, keys, seen_layers, seen_variables, variables_of, prefixes)


class _Numbering:
    """Hands out "name", "name_1", "name_2", ... for repeated names."""

    def __init__(self):
        self._taken: set[str] = set()

    def unique(self, base: str) -> str:
        name, count = base, 0
        while name in self._taken:
            count += 1
            name = f"{base}_{count}"
        self._taken.add(name)
        return name
