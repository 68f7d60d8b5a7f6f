"""Names, constructor checks, and the `__call__` steps (issue 2, items 3, 4, 9, 14)."""

import warnings

import numpy as np
import pytest
import torch
from layer_core_support import layer_core_state  # noqa: F401

import tritonlayers as keras
from tritonlayers.layers.call_context import STATE


class Recorder(keras.Layer):
    """Records what `build` and `call` received."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.build_shapes = []
        self.seen = []

    def build(self, input_shape):
        self.build_shapes.append(input_shape)

    def call(self, inputs):
        self.seen.append(inputs)
        return inputs


class ComputeSum(keras.Layer):
    pass


def test_names_are_unique_snake_case_of_the_class_name():
    names = [ComputeSum().name, ComputeSum().name, keras.Layer().name]
    assert names == ["compute_sum", "compute_sum_1", "layer"]


def test_explicit_name_is_kept():
    assert ComputeSum(name="adder").name == "adder"


def test_name_with_slash_is_rejected():
    with pytest.raises(ValueError, match="cannot contain character `/`"):
        keras.Layer(name="a/b")


def test_unknown_constructor_kwarg_raises_naming_it():
    with pytest.raises(ValueError, match=r"Unrecognized keyword arguments passed to Recorder: "):
        Recorder(unitz=3)


def test_input_shape_hint_is_stored_for_sequential():
    with pytest.warns(UserWarning, match="Do not pass an `input_shape`"):
        layer = keras.Layer(input_shape=(4,), batch_size=8)
    assert layer._input_shape_arg == (4,) and layer._batch_size_arg == 8


def test_numpy_input_becomes_a_float32_tensor():
    layer = Recorder()
    layer(np.ones((2, 3), dtype=np.float64))
    seen = layer.seen[0]
    assert isinstance(seen, torch.Tensor) and seen.dtype == torch.float32


def test_numpy_input_goes_to_config_device():
    keras.config.set_device("meta")
    layer = Recorder()
    layer(np.ones((2, 3)))
    assert layer.seen[0].device.type == "meta"


def test_float64_tensor_input_becomes_float32():
    layer = Recorder()
    layer(torch.ones(2, dtype=torch.float64))
    assert layer.seen[0].dtype == torch.float32


def test_integer_input_keeps_its_dtype():
    layer = Recorder()
    layer(np.array([1, 2]))
    assert layer.seen[0].dtype == torch.int64


def test_non_tensor_positional_argument_is_rejected():
    class TwoArgs(keras.Layer):
        def call(self, x, scale):
            return x * scale

    with pytest.raises(ValueError, match="only input tensors may be passed as positional"):
        TwoArgs()(torch.ones(2), 3.0)
    torch.testing.assert_close(TwoArgs()(torch.ones(2), scale=3.0), torch.full((2,), 3.0))


def test_build_runs_once_with_first_input_shape_and_sets_built():
    layer = Recorder()
    assert not layer.built
    layer(torch.ones(2, 5))
    layer(torch.ones(3, 5))
    assert layer.build_shapes == [(2, 5)] and layer.built


def test_build_receives_shapes_by_argument_name():
    class Attention(keras.Layer):
        def build(self, query_shape, value_shape):
            self.shapes = (query_shape, value_shape)

        def call(self, query, value):
            return query + value.sum()

    layer = Attention()
    layer(torch.ones(2, 3), torch.ones(4, 5))
    assert layer.shapes == ((2, 3), (4, 5))


def test_build_of_nested_list_input_gets_list_of_shapes():
    layer = Recorder()
    layer([torch.ones(2, 3), torch.ones(2, 4)])
    assert layer.build_shapes == [[(2, 3), (2, 4)]]


def test_forgotten_super_init_is_reported():
    class Forgetful(keras.Layer):
        def __init__(self):
            pass

    with pytest.raises(RuntimeError, match="you forgot to call `super\\(\\).__init__\\(\\)`"):
        Forgetful()(torch.ones(1))


class TrainingProbe(keras.Layer):
    def call(self, x, training=None):
        self.training_seen = training
        return x


class DefaultTrue(keras.Layer):
    def call(self, x, training=True):
        self.training_seen = training
        return x


class NoTrainingArg(keras.Layer):
    def __init__(self):
        super().__init__()
        self.inner = TrainingProbe()

    def call(self, x):
        return self.inner(x)


class Outer(keras.Layer):
    def __init__(self, inner):
        super().__init__()
        self.inner = inner

    def call(self, x, training=None):
        return self.inner(x)


def test_explicit_training_argument_wins():
    outer = Outer(TrainingProbe())
    outer.inner.training_seen = "unset"
    outer(torch.ones(1), training=True)
    assert outer.inner.training_seen is True
    outer.inner(torch.ones(1), training=False)
    assert outer.inner.training_seen is False


def test_training_is_inherited_from_the_outer_call():
    outer = Outer(DefaultTrue())
    outer(torch.ones(1), training=False)
    assert outer.inner.training_seen is False


def test_training_defaults_to_the_call_signature_default():
    inner = DefaultTrue()
    inner(torch.ones(1))
    assert inner.training_seen is True
    probe = TrainingProbe()
    probe(torch.ones(1))
    assert probe.training_seen is None


def test_training_passes_through_a_call_without_training_argument():
    outer = NoTrainingArg()
    outer(torch.ones(1), training=True)
    assert outer.inner.training_seen is True


def test_training_context_is_cleared_after_an_exception():
    class Failing(keras.Layer):
        def call(self, x, training=None):
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        Failing()(torch.ones(1), training=True)
    assert STATE.training is None and STATE.entry is None and STATE.path is None


def test_input_spec_ndim_error_names_layer_and_shapes():
    layer = Recorder(name="dense_in")
    layer.input_spec = keras.layers.InputSpec(ndim=2)
    with pytest.raises(ValueError, match=r"layer 'dense_in'.*expected ndim=2, found ndim=3"):
        layer(torch.ones(1, 2, 3))


def test_input_spec_axis_error_names_expected_and_given_shape():
    layer = Recorder(name="proj")
    layer.input_spec = keras.layers.InputSpec(min_ndim=2, axes={-1: 4})
    with pytest.raises(ValueError, match=r"'proj'.*axis -1.*value 4.*shape \(2, 3\)"):
        layer(torch.ones(2, 3))


def test_input_spec_dtype_error_names_both_dtypes():
    layer = Recorder(name="ids")
    layer.input_spec = keras.layers.InputSpec(dtype="int64")
    with pytest.raises(ValueError, match="expected dtype=int64, found dtype=float32"):
        layer(torch.ones(2))


def test_shape_error_inside_call_keeps_torch_message():
    class Matmul(keras.Layer):
        def build(self, input_shape):
            self.w = self.add_weight(shape=(3, 2))

        def call(self, x):
            return x @ self.w

    layer = Matmul()
    layer(torch.ones(1, 3))
    with pytest.raises(RuntimeError, match="cannot be multiplied"):
        layer(torch.ones(1, 4))


def test_layer_call_emits_no_warning_on_plain_inputs():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        Recorder()(torch.ones(2))


def test_inputs_move_to_the_device_of_the_layers_weights():
    class Scale(keras.Layer):
        supports_masking = True

        def build(self, input_shape):
            self.w = self.add_weight(shape=(input_shape[-1],), initializer="ones")

        def call(self, x):
            self.seen = x.device.type
            return x * self.w

    layer = Scale()
    layer(torch.ones(1, 2))
    layer.to("meta")
    out = layer(np.ones((1, 2)))
    assert layer.seen == "meta" and out.device.type == "meta"
    masked = torch.ones(1, 2)
    masked._keras_mask = torch.tensor([True])
    out = layer(masked)
    assert layer.seen == "meta" and out._keras_mask.device.type == "meta"


def test_input_spec_list_checks_each_input_with_its_index():
    class Pair(keras.Layer):
        def call(self, inputs):
            return inputs[0]

    layer = Pair(name="pair")
    layer.input_spec = [keras.layers.InputSpec(ndim=2), keras.layers.InputSpec(ndim=3)]
    layer([torch.ones(1, 2), torch.ones(1, 2, 3)])
    with pytest.raises(
        ValueError, match=r"Input 1 with name 'None' of layer 'pair'.*expected ndim=3, found ndim=2"
    ):
        layer([torch.ones(1, 2), torch.ones(1, 2)])
    with pytest.raises(ValueError, match="expects 2 input"):
        layer([torch.ones(1, 2)])


def test_input_spec_last_axis_squeeze_accepts_a_trailing_unit_axis():
    layer = Recorder()
    layer.input_spec = keras.layers.InputSpec(ndim=2, allow_last_axis_squeeze=True)
    layer(torch.ones(3, 4, 1))
    with pytest.raises(ValueError, match="expected ndim=2, found ndim=3"):
        layer(torch.ones(3, 4, 2))


def test_build_parameter_with_a_default_may_lack_its_call_argument():
    class Attend(keras.Layer):
        def build(self, query_shape, value_shape, key_shape=None):
            self.shapes = (query_shape, value_shape, key_shape)

        def call(self, query, value, key=None):
            return query

    layer = Attend()
    layer(torch.ones(2, 3, 4), torch.ones(2, 5, 4))
    assert layer.shapes == ((2, 3, 4), (2, 5, 4), None)
    keyed = Attend()
    keyed(torch.ones(2, 3, 4), torch.ones(2, 5, 4), key=torch.ones(2, 5, 6))
    assert keyed.shapes[2] == (2, 5, 6)
