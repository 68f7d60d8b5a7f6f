"""keras.initializers: statistics of each, Keras's fan rules, seeding, get/serialize."""

import math

import numpy as np
import pytest
import torch

from tritonlayers import initializers, random

SHAPE = (120, 160)
FAN_IN, FAN_OUT = 120, 160
TRUNCATED_STD = 0.87962566103423978


def test_compute_fans_follow_keras_for_dense_and_conv_kernels():
    assert initializers.compute_fans(()) == (1, 1)
    assert initializers.compute_fans((7,)) == (7, 7)
    assert initializers.compute_fans((3, 5)) == (3, 5)
    assert initializers.compute_fans((3, 3, 16, 32)) == (144, 288)
    assert initializers.compute_fans((2, 3, 4, 5, 6)) == (5 * 24, 6 * 24)


VARIANCE_SCALING = {
    "glorot_uniform": ("uniform", 2.0 / (FAN_IN + FAN_OUT)),
    "glorot_normal": ("normal", 2.0 / (FAN_IN + FAN_OUT)),
    "he_uniform": ("uniform", 2.0 / FAN_IN),
    "he_normal": ("normal", 2.0 / FAN_IN),
    "lecun_uniform": ("uniform", 1.0 / FAN_IN),
    "lecun_normal": ("normal", 1.0 / FAN_IN),
}


@pytest.mark.parametrize("name", sorted(VARIANCE_SCALING))
def test_variance_scaling_family_has_keras_variance_and_bounds(name):
    distribution, variance = VARIANCE_SCALING[name]
    values = initializers.get(name)(SHAPE).double()
    assert tuple(values.shape) == SHAPE
    assert abs(values.mean().item()) < 4 * math.sqrt(variance / values.numel())
    assert values.var().item() == pytest.approx(variance, rel=0.05)
    if distribution == "uniform":
        assert values.abs().max().item() <= math.sqrt(3 * variance) + 1e-6
    else:
        # truncated at two (pre-correction) standard deviations
        assert values.abs().max().item() <= 2 * math.sqrt(variance) / TRUNCATED_STD + 1e-6


def test_variance_scaling_untruncated_normal_and_fan_out():
    init = initializers.VarianceScaling(3.0, "fan_out", "untruncated_normal", seed=1)
    assert init(SHAPE).var().item() == pytest.approx(3.0 / FAN_OUT, rel=0.05)


def test_conv_kernel_uses_receptive_field_in_fans():
    values = initializers.HeNormal(seed=0)((3, 3, 32, 64))
    assert values.var().item() == pytest.approx(2.0 / (9 * 32), rel=0.05)


@pytest.mark.parametrize(
    "init,mean,std,low,high",
    [
        (initializers.RandomNormal(mean=1.0, stddev=0.5, seed=1), 1.0, 0.5, None, None),
        (initializers.RandomUniform(-0.2, 0.6, seed=2), 0.2, 0.8 / math.sqrt(12), -0.2, 0.6),
        (initializers.TruncatedNormal(0.0, 1.0, seed=3), 0.0, TRUNCATED_STD, -2.0, 2.0),
    ],
    ids=["random_normal", "random_uniform", "truncated_normal"],
)
def test_random_initializer_statistics(init, mean, std, low, high):
    values = init(SHAPE)
    assert values.mean().item() == pytest.approx(mean, abs=0.01)
    assert values.std().item() == pytest.approx(std, rel=0.02)
    if low is not None:
        assert low <= values.min().item() and values.max().item() <= high


def test_uniform_alias_is_keras_embedding_default():
    init = initializers.get("uniform")
    assert isinstance(init, initializers.RandomUniform)
    assert (init.minval, init.maxval) == (-0.05, 0.05)
    assert isinstance(initializers.get("normal"), initializers.RandomNormal)


def test_constant_zeros_ones_and_dtype():
    assert initializers.Zeros()((2, 3)).abs().sum().item() == 0.0
    assert initializers.get("ones")((4,), dtype="int32").tolist() == [1, 1, 1, 1]
    assert initializers.Constant(2.5)((2,), dtype="float16").dtype == torch.float16
    assert initializers.Constant(2.5)((2,)).tolist() == [2.5, 2.5]


@pytest.mark.parametrize("shape", [(6, 6), (4, 9), (9, 4), (3, 3, 2, 8)])
def test_orthogonal_gives_orthonormal_rows_or_columns_times_gain(shape):
    q = initializers.Orthogonal(gain=2.0, seed=4)(shape).reshape(-1, shape[-1]).double()
    rows, cols = q.shape
    gram = q.T @ q if rows >= cols else q @ q.T
    np.testing.assert_allclose(gram.cpu().numpy(), 4.0 * np.eye(min(rows, cols)), atol=1e-5)


def test_orthogonal_rejects_vectors():
    with pytest.raises(ValueError, match="at least two-dimensional"):
        initializers.Orthogonal()((5,))


def test_identity_initializer_is_gain_times_eye_and_rejects_3d():
    assert initializers.Identity(3.0)((2, 3)).tolist() == [[3.0, 0, 0], [0, 3.0, 0]]
    with pytest.raises(ValueError, match="only be used for 2D matrices"):
        initializers.Identity()((2, 2, 2))


def test_int_seed_gives_same_values_on_every_call_and_instance():
    a = initializers.GlorotUniform(seed=7)
    assert torch.equal(a((5, 5)), a((5, 5)))
    assert torch.equal(a((5, 5)), initializers.GlorotUniform(seed=7)((5, 5)))
    assert not torch.equal(a((5, 5)), initializers.GlorotUniform(seed=8)((5, 5)))


def test_unseeded_instances_differ_but_each_repeats():
    a, b = initializers.RandomNormal(), initializers.RandomNormal()
    assert not torch.equal(a((5,)), b((5,)))
    assert torch.equal(a((5,)), a((5,)))


def test_seed_generator_seed_gives_new_values_per_call():
    init = initializers.RandomNormal(seed=random.SeedGenerator(1))
    assert not torch.equal(init((5,)), init((5,)))


def test_random_initializer_rejects_non_integer_seed():
    with pytest.raises(ValueError, match="`seed` argument should be"):
        initializers.RandomNormal(seed=0.5)


ALL_NAMES = [
    "zeros", "ones", "constant", "random_normal", "random_uniform", "truncated_normal",
    "glorot_uniform", "glorot_normal", "he_uniform", "he_normal", "lecun_uniform",
    "lecun_normal", "orthogonal", "identity", "variance_scaling", "uniform", "normal",
]  # fmt: skip


@pytest.mark.parametrize("name", ALL_NAMES)
def test_get_serialize_deserialize_round_trip(name):
    init = initializers.get(name)
    config = initializers.serialize(init)
    assert config["module"] == "tritonlayers.initializers"
    restored = initializers.deserialize(config)
    assert type(restored) is type(init)
    assert restored.get_config() == init.get_config()


def test_seeded_initializer_round_trip_reproduces_values():
    init = initializers.HeUniform(seed=11)
    restored = initializers.get(initializers.serialize(init))
    assert torch.equal(init((4, 4)), restored((4, 4)))


def test_get_accepts_class_instance_and_callable():
    assert isinstance(initializers.get(initializers.Ones), initializers.Ones)
    instance = initializers.Zeros()
    assert initializers.get(instance) is instance
    assert initializers.get(None) is None

    def fives(shape, dtype=None):
        return torch.full(shape, 5.0)

    assert initializers.get(fives) is fives


def test_unknown_initializer_name_raises():
    with pytest.raises(ValueError, match="Could not interpret initializer identifier"):
        initializers.get("glorot_uniformm")
