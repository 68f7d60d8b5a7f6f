"""`keras.backend` dtype helpers and `get_uid`, `keras.tree`, and the top-level `KerasTensor`,
`Operation`, `Function`, `name_scope`, `device` and `version`.

Tables marked "Keras 3.15" were produced by Keras 3.15 (torch backend) in a scratch script."""

import collections
import subprocess
import sys

import numpy as np
import pytest
import torch

import tritonlayers as keras
from tritonlayers import backend, tree

# ---------------------------------------------------------------- backend dtypes

# Keras 3.15, torch backend: keras.backend.result_type(*args).
RESULT_TYPES = [
    (("int64", "int64"), "int32"),
    (("int64",), "int32"),
    (("float64", "float32"), "float32"),
    (("int32", "float32"), "float32"),
    (("bfloat16", int), "bfloat16"),
    (("bfloat16", "float16"), "float32"),
    (("uint8", "int8"), "int16"),
    ((int,), "int32"),
    ((float,), "float32"),
    ((int, float), "float32"),
    (("complex64", int), "complex64"),
    (("bool", int), "int32"),
    (("bool", "bool"), "bool"),
    (("int8", "uint32"), "int32"),
    (("uint64", "int64"), "float32"),
    ((), "float32"),
    (("float16", float), "float16"),
    (("uint8", int), "uint8"),
    ((None, "int32"), "float32"),
    (("uint16", int, float), "float32"),
    (("int8", bool), "int8"),
]


@pytest.mark.parametrize("dtypes, expected", RESULT_TYPES)
def test_result_type_follows_keras_promotion(dtypes, expected):
    assert backend.result_type(*dtypes) == expected


def test_result_type_refuses_float8_and_strings():
    with pytest.raises(ValueError, match="no implicit conversions from float8"):
        backend.result_type("float8_e4m3fn", "float32")
    with pytest.raises(ValueError, match="not a valid dtype for Keras type promotion"):
        backend.result_type("string", "float32")


@pytest.mark.parametrize(
    "dtype, expected",
    [  # Keras 3.15, torch backend.
        (int, "int32"),
        (float, "float32"),
        (bool, "bool"),
        (str, "string"),
        (complex, "complex64"),
        ("int", "int32"),
        ("float8_e4m3fn", "float8_e4m3fn"),
        (None, "float32"),
        (torch.float16, "float16"),
        (np.float64, "float64"),
        (np.dtype("int8"), "int8"),
        (torch.uint32, "uint32"),
    ],
)
def test_standardize_dtype_names_like_keras(dtype, expected):
    assert backend.standardize_dtype(dtype) == expected


@pytest.mark.parametrize("bad", ["foo", "float128", 3, "float"])
def test_standardize_dtype_rejects_unknown_dtypes(bad):
    with pytest.raises(ValueError, match="Invalid dtype"):
        backend.standardize_dtype(bad)


def test_is_float_and_is_int_dtype():
    assert [backend.is_float_dtype(d) for d in ("bfloat16", float, "float8_e5m2", "int8")] == [
        True,
        True,
        True,
        False,
    ]
    assert [backend.is_int_dtype(d) for d in ("uint8", int, "bool", "float32")] == [
        True,
        True,
        False,
        False,
    ]


def test_get_uid_counts_per_prefix_and_shares_the_layer_name_counter():
    keras.utils.clear_session()
    assert (backend.get_uid("block"), backend.get_uid("block"), backend.get_uid()) == (1, 2, 1)
    keras.layers.Dense(2)
    assert backend.get_uid("dense") == 2  # Keras 3.15: one Dense exists -> 2
    assert keras.layers.Dense(2).name == "dense_2"
    keras.utils.clear_session()
    assert backend.get_uid("block") == 1


# ---------------------------------------------------------------- tree

Point = collections.namedtuple("Point", ["y", "x"])


def test_tree_flatten_orders_dicts_by_key_and_keeps_none_as_a_leaf():
    structure = {"b": 2, "a": [1, None], "c": Point(3, (4,))}
    assert tree.flatten(structure) == [1, None, 2, 3, 4]
    ordered = collections.OrderedDict([("b", 1), ("a", 2)])
    assert tree.flatten(ordered) == [1, 2]
    assert tree.flatten(5) == [5]


def test_tree_pack_sequence_as_inverts_flatten():
    structure = {"key3": {"c": ("alpha", "beta"), "a": "gamma"}, "key1": {"e": 1, "d": 2}}
    packed = tree.pack_sequence_as(structure, ["val2", "val1", 3.0, 1.0, 2.0])
    # Keras 3.15's documented result for this example.
    assert packed == {"key3": {"c": (1.0, 2.0), "a": 3.0}, "key1": {"e": "val1", "d": "val2"}}
    with pytest.raises(ValueError, match="flat sequence of 1 elements into a structure with 2"):
        tree.pack_sequence_as([0, 0], [1])


def test_tree_map_structure_over_several_structures_and_namedtuples():
    assert tree.map_structure(lambda a, b: a * b, [1, (2, 3)], [4, (5, 6)]) == [4, (10, 18)]
    assert tree.map_structure(lambda v: v + 1, Point(1, 2)) == Point(2, 3)
    assert tree.map_structure(lambda v: v + 1, [1, None], none_is_leaf=False) == [2, None]
    with pytest.raises(ValueError, match="don't have the same nested structure"):
        tree.map_structure(lambda a, b: a, [1, (2, 3)], [1, [2, 3]])


def test_tree_assert_same_structure_and_paths():
    tree.assert_same_structure({"a": [1]}, collections.OrderedDict(a=[2]))
    with pytest.raises(ValueError):
        tree.assert_same_structure(Point(0, 1), (0, 1))
    tree.assert_same_paths(Point(0, 1), [2, 3])
    with pytest.raises(ValueError, match="Paths in `a` missing in `b`"):
        tree.assert_same_paths({"a": 0}, {"b": 0})


def test_tree_flatten_with_path_and_map_structure_up_to():
    assert tree.flatten_with_path({"b": [7], "a": 1}) == [(("a",), 1), (("b", 0), 7)]
    assert tree.map_structure_up_to([None, [None, None]], str, [[1, 1], [2, 2]]) == [
        "[1, 1]",
        ["2", "2"],
    ]


def test_tree_traverse_top_down_and_bottom_up():
    seen = []
    assert tree.traverse(seen.append, [(1, 2), [3], {"a": 4}]) == [(1, 2), [3], {"a": 4}]
    # Keras 3.15 docstring order.
    assert seen == [[(1, 2), [3], {"a": 4}], (1, 2), 1, 2, [3], 3, {"a": 4}, 4]
    replaced = tree.traverse(lambda x: tree.MAP_TO_NONE if x == 2 else None, [1, 2, (2, 3)])
    assert replaced == [1, None, (None, 3)]
    scaled = tree.traverse(lambda x: x * 10 if isinstance(x, int) else None, [1, (2,)], False)
    assert scaled == [10, (20,)]


def test_tree_lists_to_tuples_and_map_shape_structure():
    assert tree.lists_to_tuples([1, {"a": [2, [3]]}]) == (1, {"a": (2, (3,))})
    shapes = {"x": (None, 3), "y": [(2, 4), (5,)]}
    assert tree.map_shape_structure(lambda s: s[-1], shapes) == {"x": 3, "y": [4, 5]}


# ---------------------------------------------------------------- Operation, Function


def test_keras_tensor_is_the_functional_symbolic_tensor():
    assert keras.KerasTensor is type(keras.Input((2,)))
    assert keras.KerasTensor((None, 4), dtype="float16").dtype == "float16"


def test_function_replays_ops_on_keras_tensors_with_new_values():
    a, b = keras.KerasTensor((None, 3)), keras.KerasTensor((None, 3))
    fn = keras.Function([a, b], keras.ops.sigmoid(a * 2.0 + b))
    x = np.linspace(-1, 1, 6, dtype="float32").reshape(2, 3)
    out = fn([x, np.ones((2, 3), "float32")])
    expected = 1 / (1 + np.exp(-(2.0 * x.astype("float64") + 1.0)))
    np.testing.assert_allclose(out.cpu().numpy(), expected, rtol=1e-6, atol=1e-6)
    assert [op.name.split("_")[0] for op in fn.operations] == ["multiply", "add", "sigmoid"]


def test_function_keeps_dict_structures_and_owns_no_weights():
    x = keras.Input((4,), name="x")
    dense = keras.layers.Dense(2)
    fn = keras.Function({"x": x}, {"out": dense(x), "raw": [x]})
    ones = torch.ones(1, 4)
    out = fn({"x": ones})
    torch.testing.assert_close(out["out"], dense(ones))
    assert out["raw"][0] is ones or torch.equal(out["raw"][0], ones)
    assert fn.weights == [] and len(dense.weights) == 2


def test_function_called_on_keras_tensors_infers_output_shapes():
    x = keras.KerasTensor((None, 5))
    fn = keras.Function(x, keras.ops.sum(x, axis=-1))
    assert fn(keras.KerasTensor((7, 5))).shape == (7,)


def test_function_rejects_empty_or_unconnected_arguments():
    x = keras.KerasTensor((None, 2))
    with pytest.raises(ValueError, match="`inputs` argument cannot be empty"):
        keras.Function([], x)
    with pytest.raises(ValueError, match="must be KerasTensors"):
        keras.Function(x, np.zeros(2))
    with pytest.raises(ValueError, match="Graph disconnected"):
        keras.Function(keras.KerasTensor((None, 2)), keras.ops.relu(keras.Input((2,))))
    with pytest.raises(TypeError, match="cannot be serialized"):
        keras.Function(x, keras.ops.relu(x)).get_config()


class Scale(keras.Operation):
    def __init__(self, factor=2.0, **kwargs):
        super().__init__(**kwargs)
        self.factor = factor

    def call(self, x):
        return x * self.factor

    def get_config(self):
        return {**super().get_config(), "factor": self.factor}


def test_operation_subclass_runs_eagerly_and_symbolically():
    op = Scale(3.0)
    torch.testing.assert_close(op(torch.tensor([1.0, 2.0])), torch.tensor([3.0, 6.0]))
    assert op(keras.KerasTensor((None, 4))).shape == (None, 4)
    assert op.weights == []


def test_operation_config_round_trip():
    op = Scale(0.5, name="half")
    clone = Scale.from_config(op.get_config())
    assert (clone.name, clone.factor) == ("half", 0.5)


def test_every_layer_counts_as_an_operation():
    assert isinstance(keras.layers.Dense(2), keras.Operation)
    assert issubclass(keras.layers.Dense, keras.Operation)
    assert not isinstance(np.zeros(1), keras.Operation)
    assert not isinstance(keras.layers.Dense(2), keras.Function)


# ---------------------------------------------------------------- scopes, version, laziness


def test_name_scopes_nest_into_variable_and_layer_paths():
    with keras.name_scope("outer"), keras.name_scope("inner"):
        variable = keras.Variable(0.0, name="bias")
        layer = keras.layers.Dense(2, name="proj")
        layer.build((None, 3))
    assert variable.path == "outer/inner/bias"
    assert layer.kernel.path == "outer/inner/proj/kernel"
    assert keras.Variable(0.0, name="free").path == "free"


def test_name_scope_deduplicates_the_same_caller_and_can_override_the_parent():
    owner = object()
    with keras.name_scope("block", caller=owner), keras.name_scope("block", caller=owner):
        assert keras.Variable(0.0, name="w").path == "block/w"
    with keras.name_scope("a"), keras.name_scope("b", override_parent="root"):
        assert keras.Variable(0.0, name="w").path == "root/b/w"


def test_name_scope_rejects_names_with_a_slash():
    with pytest.raises(ValueError, match="cannot contain character `/`"):
        keras.name_scope("a/b")


def test_device_scope_places_new_tensors_and_restores_the_default():
    before = keras.config.device()
    # "meta" differs from the default on every machine, so the placement is observable.
    with keras.device("META") as where:
        assert where == torch.device("meta")
        assert keras.ops.ones((2,)).device.type == "meta"
        assert keras.Variable(1.0).device.type == "meta"
    assert keras.config.device() == before
    with keras.device("gpu:1") as where:
        assert where == torch.device("cuda", 1)
    with pytest.raises(ValueError, match="Expected a string like 'gpu:0' or 'cpu'"):
        keras.device(0)


def test_version_is_the_package_version():
    assert keras.version() == keras.__version__


def test_new_top_level_names_load_lazily():
    code = (
        "import sys, tritonlayers as k; names = ['tree', 'version', 'name_scope']; "
        "assert all(n in dir(k) for n in names); assert 'torch' not in sys.modules; "
        "k.tree.flatten([1]); assert 'torch' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
