"""`keras.utils` (to_categorical, pad_sequences, normalize, seeding, clear_session, aliases),
`keras.backend`, `keras.mixed_precision` and the top-level base classes."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import tritonlayers as keras


def test_to_categorical_one_hot_encodes_numpy_labels_as_float64():
    # Keras 3.15 returns float64 for NumPy labels (checked against it).
    out = keras.utils.to_categorical(np.array([2, 0, 1]), num_classes=4)
    np.testing.assert_array_equal(out, np.eye(4)[[2, 0, 1]])
    assert out.dtype == np.float64


def test_to_categorical_drops_a_trailing_unit_axis_and_infers_classes():
    assert keras.utils.to_categorical([[1], [2]]).shape == (2, 3)


def test_to_categorical_keeps_torch_tensors_as_tensors():
    out = keras.utils.to_categorical(torch.tensor([1, 0]), num_classes=2)
    torch.testing.assert_close(out, torch.tensor([[0.0, 1.0], [1.0, 0.0]]))


def test_to_categorical_rejects_labels_outside_num_classes():
    with pytest.raises(ValueError, match=r"labels in \[0, 2\)"):
        keras.utils.to_categorical([0, 3], num_classes=2)


@pytest.mark.parametrize(
    "padding, truncating, expected",
    [
        ("pre", "pre", [[2, 3, 4], [0, 0, 5]]),
        ("post", "post", [[1, 2, 3], [5, 0, 0]]),
    ],
)
def test_pad_sequences_pads_and_truncates_at_the_chosen_end(padding, truncating, expected):
    out = keras.utils.pad_sequences(
        [[1, 2, 3, 4], [5]], maxlen=3, padding=padding, truncating=truncating
    )
    assert out.tolist() == expected and out.dtype == np.int32


def test_pad_sequences_defaults_to_the_longest_sequence():
    assert keras.utils.pad_sequences([[1], [2, 3]], value=9).tolist() == [[9, 1], [2, 3]]


def test_pad_sequences_rejects_an_unknown_side():
    with pytest.raises(ValueError, match='Padding type "middle" not understood'):
        keras.utils.pad_sequences([[1]], padding="middle")


def test_set_random_seed_makes_weight_initialization_repeatable():
    keras.utils.set_random_seed(123)
    first = keras.layers.Dense(3)
    first.build((None, 4))
    keras.utils.set_random_seed(123)
    second = keras.layers.Dense(3)
    second.build((None, 4))
    np.testing.assert_array_equal(first.kernel.numpy(), second.kernel.numpy())


def test_set_random_seed_rejects_non_integers():
    with pytest.raises(ValueError, match="Expected `seed` argument to be an integer"):
        keras.utils.set_random_seed(1.5)


def test_clear_session_restarts_automatic_names():
    keras.layers.Dense(1)
    keras.utils.clear_session(free_memory=False)
    assert keras.layers.Dense(1).name == "dense"


def test_normalize_divides_by_the_l2_norm_and_keeps_zero_rows():
    out = keras.utils.normalize(np.array([[3, 4], [0, 0]]))
    np.testing.assert_allclose(out, [[0.6, 0.8], [0.0, 0.0]])


def test_normalize_of_a_tensor_matches_torch_normalize():
    x = torch.randn(3, 4)
    torch.testing.assert_close(keras.utils.normalize(x, axis=0), F.normalize(x, dim=0))


def test_utils_re_exports_the_saving_registry_and_progbar():
    assert keras.utils.register_keras_serializable is keras.saving.register_keras_serializable
    assert keras.utils.custom_object_scope is keras.saving.custom_object_scope
    assert keras.utils.Progbar is keras.callbacks.Progbar


def test_backend_namespace_answers_as_keras_backend_does():
    assert keras.backend.backend() == "torch"
    assert keras.backend.floatx() == keras.config.floatx()
    keras.layers.Dense(1)
    keras.backend.clear_session()
    assert keras.layers.Dense(1).name == "dense"


def test_base_classes_are_reachable_from_the_top_level_as_in_keras():
    assert keras.Loss is keras.losses.Loss and keras.Metric is keras.metrics.Metric
    assert keras.Optimizer is keras.optimizers.Optimizer
    assert keras.InputSpec is keras.layers.InputSpec


def test_mixed_precision_global_policy_sets_layer_compute_dtype():
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    try:
        layer = keras.layers.Dense(2)
        out = layer(torch.ones(1, 3))
        assert keras.mixed_precision.global_policy().name == "mixed_bfloat16"
        assert (out.dtype, layer.kernel.dtype) == (torch.bfloat16, torch.float32)
    finally:
        keras.mixed_precision.set_global_policy("float32")


def test_get_source_inputs_walks_back_to_the_functional_inputs():
    a, b = keras.Input((2,)), keras.Input((3,))
    merged = keras.layers.Concatenate()([keras.layers.Dense(2)(b), a])
    assert keras.utils.get_source_inputs(keras.layers.Dense(1)(merged)) == [b, a]
    assert keras.utils.get_source_inputs(a) == [a]
    with pytest.raises(ValueError, match="expects a KerasTensor"):
        keras.utils.get_source_inputs(np.zeros(2))


def test_utils_keeps_keras_helpers_for_custom_train_steps():
    utils = keras.utils
    assert utils.unpack_x_y_sample_weight((1, 2)) == (1, 2, None)
    assert utils.pack_x_y_sample_weight([1, 2]) == ([1, 2],)
    assert utils.is_keras_tensor(keras.Input((2,))) and not utils.is_keras_tensor(np.zeros(2))
    assert utils.standardize_dtype(np.float32) == "float32"
