"""add_weight, state locking, attribute tracking, trainable cascade (issue 2, items 2, 5-7)."""

import copy
import pickle

import numpy as np
import pytest
import torch
from layer_core_support import Linear, layer_core_state  # noqa: F401

import tritonlayers as keras


def test_add_weight_defaults_to_glorot_uniform_for_floats():
    layer = keras.Layer()
    w = layer.add_weight(shape=(200, 300))
    limit = np.sqrt(6.0 / (200 + 300))
    values = w.numpy()
    assert values.dtype == np.float32 and np.abs(values).max() <= limit
    # Uniform on [-limit, limit]: variance limit**2 / 3.
    np.testing.assert_allclose(values.var(), limit**2 / 3, rtol=0.02)


def test_add_weight_defaults_to_zeros_for_int_and_bool():
    layer = keras.Layer()
    counts = layer.add_weight(shape=(3,), dtype="int32", trainable=False)
    flags = layer.add_weight(shape=(2,), dtype="bool", trainable=False)
    assert counts.dtype == torch.int32 and counts.numpy().tolist() == [0, 0, 0]
    assert flags.numpy().tolist() == [False, False]


def test_add_weight_arguments_reach_the_variable():
    layer = keras.Layer(name="owner")
    w = layer.add_weight(
        shape=(2,), initializer="ones", dtype="float64", trainable=False, autocast=False, name="k"
    )
    assert (w.name, w.path, w.dtype, w.trainable, w.autocast) == (
        "k",
        "owner/k",
        torch.float64,
        False,
        False,
    )


def test_add_weight_keeps_regularizer_and_constraint_on_the_variable():
    layer = keras.Layer()
    w = layer.add_weight(shape=(2,), regularizer="l2", constraint="non_neg")
    assert isinstance(w.regularizer, keras.regularizers.L2)
    assert isinstance(w.constraint, keras.constraints.NonNeg)


def test_add_weight_after_build_raises_keras_error():
    layer = Linear()
    layer(torch.ones(1, 2))
    with pytest.raises(ValueError, match="cannot add new elements of state"):
        layer.add_weight(shape=(1,))


def test_new_sublayer_after_build_raises_keras_error():
    layer = Linear()
    layer(torch.ones(1, 2))
    with pytest.raises(ValueError, match="cannot add new elements of state"):
        layer.extra = keras.Layer()


def test_weights_in_creation_order_trainable_first():
    layer = keras.Layer()
    a = layer.add_weight(shape=(1,), trainable=False, name="a")
    b = layer.add_weight(shape=(1,), name="b")
    c = layer.add_weight(shape=(1,), name="c")
    assert [w.name for w in layer.weights] == [b.name, c.name, a.name]
    assert layer.trainable_weights == [b, c] and layer.non_trainable_weights == [a]


def test_sublayers_in_lists_dicts_and_tuples_are_tracked():
    class Outer(keras.Layer):
        def __init__(self):
            super().__init__()
            self.blocks = [Linear(2), Linear(2)]
            self.heads = {"a": Linear(1)}
            self.pair = (Linear(1), keras.Variable([1.0]))

    outer = Outer()
    assert len(outer._layers) == 4 and len(outer._flatten_layers()) == 5
    outer.blocks[1](torch.ones(1, 4))
    assert len(outer.weights) == 3


def test_appending_to_a_tracked_list_tracks_the_layer():
    class Stack(keras.Layer):
        def __init__(self):
            super().__init__()
            self.blocks = []
            for _ in range(3):
                self.blocks.append(Linear(2))

        def call(self, x):
            for block in self.blocks:
                x = block(x)
            return x

    stack = Stack()
    stack(torch.ones(1, 2))
    assert len(stack.weights) == 6 and len(list(stack.parameters())) == 6


def test_removed_sublayer_is_untracked():
    outer = keras.Layer()
    outer.blocks = [Linear(2), Linear(2)]
    outer.blocks.pop()
    assert len(outer._layers) == 1 and len(list(outer.children())) == 1


def test_tracking_works_before_super_init():
    class Early(keras.Layer):
        def __init__(self):
            self.inner = Linear(2)
            self.v = keras.Variable([1.0])
            super().__init__()

    early = Early()
    assert early._layers == [early.inner] and early.weights == [early.v]


def test_weights_created_in_build_are_tracked_recursively():
    class MLP(keras.Layer):
        def __init__(self):
            super().__init__()
            self.first = Linear(4)
            self.second = Linear(1)

        def call(self, x):
            return self.second(self.first(x))

    mlp = MLP()
    mlp(torch.ones(2, 3))
    assert [w.path for w in mlp.weights] == [
        "mlp/linear/variable",
        "mlp/linear/variable_1",
        "mlp/linear_1/variable_2",
        "mlp/linear_1/variable_3",
    ]
    assert mlp.count_params() == 3 * 4 + 4 + 4 * 1 + 1


def test_variable_owner_state_is_a_variable_but_not_a_weight():
    layer = keras.Layer()
    layer.seed_generator = keras.random.SeedGenerator(1337)
    assert layer.weights == []
    assert layer.variables == [layer.seed_generator.state]
    assert layer.non_trainable_variables == [layer.seed_generator.state]


def test_optimizer_attribute_is_not_tracked_even_after_build():
    layer = Linear(2)
    layer(torch.ones(1, 3))
    layer.optimizer_for_gan = keras.optimizers.Adam(1e-3)
    assert [v.path for v in layer.variables] == [v.path for v in layer.weights]


def test_count_params_requires_build():
    with pytest.raises(ValueError, match="isn't built"):
        Linear().count_params()


def test_trainable_false_cascades_and_can_be_turned_back_on():
    outer = keras.Layer()
    outer.inner = Linear(2)
    outer.inner(torch.ones(1, 2))
    outer.trainable = False
    assert outer.trainable_weights == [] and not outer.inner.trainable
    assert not any(w.requires_grad for w in outer.weights)
    outer.trainable = True
    assert len(outer.trainable_weights) == 2 and all(w.requires_grad for w in outer.weights)


def test_non_trainable_weight_stays_non_trainable_after_unfreezing():
    layer = keras.Layer()
    frozen = layer.add_weight(shape=(1,), trainable=False)
    layer.trainable = False
    layer.trainable = True
    assert not frozen.trainable


def test_variables_are_torch_parameters_of_the_module():
    layer = Linear(2)
    layer(torch.ones(1, 3))
    assert [name for name, _ in layer.named_parameters()] == ["w", "b"]
    assert list(layer.state_dict()) == ["w", "b"]


def test_module_to_keeps_variables_as_variables():
    layer = Linear(2)
    layer(torch.ones(1, 3))
    w = layer.w
    layer.to(torch.float64)
    assert layer.w is w and isinstance(layer.w, keras.Variable) and w.dtype == torch.float64
    layer.half()
    assert isinstance(layer.weights[0], keras.Variable) and layer.weights[0].dtype == torch.float16


def test_load_state_dict_copies_into_the_variables():
    source, target = Linear(2), Linear(2)
    source(torch.ones(1, 3))
    target(torch.ones(1, 3))
    w = target.w
    target.load_state_dict(source.state_dict())
    assert target.w is w
    torch.testing.assert_close(target.w.detach(), source.w.detach(), rtol=0, atol=0)


def test_deepcopy_of_layer_copies_variables_and_tracking():
    layer = Linear(2)
    layer(torch.ones(1, 3))
    clone = copy.deepcopy(layer)
    assert isinstance(clone.w, keras.Variable) and clone.w is not layer.w
    assert clone.weights == [clone.w, clone.b]
    torch.testing.assert_close(clone(torch.ones(1, 3)), layer(torch.ones(1, 3)), rtol=0, atol=0)


def test_attribute_taking_an_auto_key_name_keeps_the_other_variable_registered():
    layer = keras.Layer()
    listed = layer.add_weight(shape=(1,), name="kernel")
    layer.kept = [listed]
    layer.kernel = keras.Variable([2.0], name="other")
    registered = list(layer.parameters())
    assert any(p is listed for p in registered) and any(p is layer.kernel for p in registered)
    assert len(layer.state_dict()) == 2


def test_lazily_built_weights_are_created_on_the_input_device():
    layer = Linear(2)
    out = layer(torch.empty(4, 3, device="meta"))
    assert out.device.type == "meta" and all(w.device.type == "meta" for w in layer.weights)


def test_module_to_meta_keeps_variables_as_variables():
    layer = Linear(2)
    layer(torch.ones(1, 3))
    layer.to("meta")
    assert all(isinstance(w, keras.Variable) and w.device.type == "meta" for w in layer.weights)
    assert layer.weights == [layer.w, layer.b] and layer.w.path == "linear/variable"


def test_pickled_layer_round_trips_with_its_variables():
    layer = Linear(2)
    x = torch.ones(1, 3)
    expected = layer(x)
    restored = pickle.loads(pickle.dumps(layer))
    assert isinstance(restored.w, keras.Variable) and restored.weights == [restored.w, restored.b]
    torch.testing.assert_close(restored(x), expected, rtol=0, atol=0)


def test_add_weight_error_names_the_layer_and_the_bad_shape():
    layer = keras.Layer(name="proj")
    with pytest.raises(ValueError, match=r"Layer 'proj', add_weight\(name='k'\).*shape=\(-1, 3\)"):
        layer.add_weight(shape=(-1, 3), name="k")


def test_add_weight_error_names_the_layer_and_the_bad_dtype():
    layer = keras.Layer(name="proj")
    with pytest.raises(ValueError, match=r"Layer 'proj'.*Invalid dtype: 'float17'"):
        layer.add_weight(shape=(1,), dtype="float17")


def test_cpu_input_builds_weights_on_config_device_and_follows_them():
    keras.config.set_device("meta")
    layer = Linear(2)
    out = layer(torch.ones(4, 3))
    assert out.device.type == "meta" and all(w.device.type == "meta" for w in layer.weights)
