"""keras.random: reproducibility, distributions (moments, KS), SeedGenerator state."""

import math

import numpy as np
import pytest
import torch

import tritonlayers as keras
from tritonlayers import kernels, random
from tritonlayers.kernels import _philox

N = 20_000
# Kolmogorov-Smirnov critical value at alpha = 0.001 for N samples.
KS_CRITICAL = 1.95 / math.sqrt(N)


def ks_statistic(samples: torch.Tensor, cdf) -> float:
    x = np.sort(samples.double().cpu().numpy())
    expected = cdf(x)
    n = len(x)
    above = np.arange(1, n + 1) / n - expected
    below = expected - np.arange(0, n) / n
    return float(max(above.max(), below.max()))


def normal_cdf(x):
    return 0.5 * (1 + np.vectorize(math.erf)(x / math.sqrt(2)))


DRAWS = {
    "normal": lambda seed: random.normal((3, 5), seed=seed),
    "uniform": lambda seed: random.uniform((3, 5), seed=seed),
    "truncated_normal": lambda seed: random.truncated_normal((3, 5), seed=seed),
    "randint": lambda seed: random.randint((3, 5), 0, 100, seed=seed),
    "shuffle": lambda seed: random.shuffle(torch.arange(20), seed=seed),
    "categorical": lambda seed: random.categorical(torch.zeros(2, 10), 8, seed=seed),
    "dropout": lambda seed: random.dropout(torch.ones(4, 8), 0.5, seed=seed),
    "dropout_noise_shape": lambda seed: random.dropout(torch.ones(4, 8), 0.5, (4, 1), seed),
    "gamma": lambda seed: random.gamma((3, 5), 0.7, seed=seed),
    "beta": lambda seed: random.beta((3, 5), 2.0, 3.0, seed=seed),
    "binomial": lambda seed: random.binomial((3, 5), 20, 0.4, seed=seed),
}


@pytest.mark.parametrize("name", sorted(DRAWS))
def test_same_int_seed_gives_same_numbers(name):
    assert torch.equal(DRAWS[name](42), DRAWS[name](42))


@pytest.mark.parametrize("name", ["normal", "uniform", "randint", "shuffle"])
def test_different_int_seeds_give_different_numbers(name):
    assert not torch.equal(DRAWS[name](1), DRAWS[name](2))


@pytest.mark.parametrize("name", sorted(DRAWS))
def test_seed_generator_advances_and_replays_from_the_same_seed(name):
    first, second = random.SeedGenerator(7), random.SeedGenerator(7)
    a1, a2 = DRAWS[name](first), DRAWS[name](first)
    assert not torch.equal(a1, a2)
    assert torch.equal(a1, DRAWS[name](second))
    assert torch.equal(a2, DRAWS[name](second))


def test_none_seed_follows_torch_manual_seed():
    torch.manual_seed(3)
    a = random.normal((4,))
    torch.manual_seed(3)
    assert torch.equal(a, random.normal((4,)))


def _four_lanes(lanes, shape):
    return torch.stack(lanes, dim=-1).reshape(-1)[: math.prod(shape)].reshape(shape)


def test_normal_takes_four_lanes_of_each_philox_counter_in_flat_order():
    expected = _four_lanes(_philox.normal4x(11, torch.arange(2)), (2, 3))
    assert torch.equal(random.normal((2, 3), seed=11).cpu(), expected)


def test_uniform_takes_four_lanes_of_each_philox_counter_in_flat_order():
    expected = _four_lanes(_philox.uniform4x(11, torch.arange(2)), (2, 3))
    assert torch.equal(random.uniform((2, 3), seed=11).cpu(), expected)


def test_normal_moments_and_ks_statistic():
    x = random.normal((N,), mean=1.5, stddev=2.0, seed=0)
    assert x.mean().item() == pytest.approx(1.5, abs=4 * 2.0 / math.sqrt(N))
    assert x.std().item() == pytest.approx(2.0, rel=0.03)
    assert ks_statistic((x - 1.5) / 2.0, normal_cdf) < KS_CRITICAL


def test_uniform_range_and_ks_statistic():
    x = random.uniform((N,), minval=-2.0, maxval=3.0, seed=1)
    assert x.min().item() >= -2.0 and x.max().item() < 3.0
    assert ks_statistic((x + 2.0) / 5.0, lambda v: v) < KS_CRITICAL


def test_truncated_normal_stays_within_two_stddev_with_truncated_distribution():
    x = random.truncated_normal((N,), mean=1.0, stddev=0.5, seed=2)
    assert (x - 1.0).abs().max().item() <= 1.0 + 1e-6
    assert x.std().item() == pytest.approx(0.5 * 0.87962566, rel=0.03)
    mass = normal_cdf(np.array(2.0)) - normal_cdf(np.array(-2.0))

    def truncated_cdf(v):
        return (normal_cdf(v) - normal_cdf(np.array(-2.0))) / mass

    assert ks_statistic((x - 1.0) / 0.5, truncated_cdf) < KS_CRITICAL


@pytest.mark.parametrize("alpha", [0.5, 1.0, 3.0])
def test_gamma_moments_and_ks_statistic(alpha):
    x = random.gamma((N // 2,), alpha, seed=8)
    assert x.mean().item() == pytest.approx(alpha, rel=0.05)
    assert x.var().item() == pytest.approx(alpha, rel=0.1)

    def gamma_cdf(v):
        return torch.special.gammainc(torch.tensor(alpha, dtype=torch.float64), torch.tensor(v))

    assert ks_statistic(x, lambda v: gamma_cdf(v).numpy()) < KS_CRITICAL * math.sqrt(2)


def test_beta_mean_and_variance():
    a, b = 2.0, 5.0
    x = random.beta((N // 4,), a, b, seed=9).double()
    assert x.min().item() > 0 and x.max().item() < 1
    assert x.mean().item() == pytest.approx(a / (a + b), rel=0.035)  # about 4 standard errors
    variance = a * b / ((a + b) ** 2 * (a + b + 1))
    assert x.var().item() == pytest.approx(variance, rel=0.1)


def test_binomial_counts_follow_the_binomial_pmf():
    n, p, samples = 10, 0.3, 5000
    x = random.binomial((samples,), n, p, seed=10)
    counts = torch.bincount(x.long().cpu(), minlength=n + 1).double()
    pmf = torch.tensor([math.comb(n, k) * p**k * (1 - p) ** (n - k) for k in range(n + 1)])
    expected = samples * pmf
    pooled = expected >= 5  # chi-square needs expected counts of at least 5 per cell
    chi_square = (((counts[pooled] - expected[pooled]) ** 2) / expected[pooled]).sum().item()
    assert chi_square < 29.6  # chi-square, at most 9 degrees of freedom, alpha = 0.001


def test_binomial_broadcasts_counts_and_probabilities_beyond_one_pass():
    x = random.binomial((2, 3), [[0.0], [300.0]], [1.0, 0.0, 1.0], seed=11)
    assert x.tolist() == [[0.0, 0.0, 0.0], [300.0, 0.0, 300.0]]


def test_gamma_rejects_non_positive_alpha():
    with pytest.raises(ValueError, match="must be positive"):
        random.gamma((2,), 0.0, seed=0)


def test_randint_is_uniform_over_range():
    x = random.randint((N,), -3, 5, seed=3)
    assert x.dtype == torch.int32
    counts = torch.bincount((x + 3).long(), minlength=8).double()
    expected = N / 8
    chi_square = (((counts - expected) ** 2) / expected).sum().item()
    assert counts.numel() == 8
    assert chi_square < 24.3  # chi-square, 7 degrees of freedom, alpha = 0.001


def test_categorical_frequencies_follow_softmax_of_logits():
    logits = torch.log(torch.tensor([[0.1, 0.2, 0.7], [0.5, 0.25, 0.25]]))
    samples = random.categorical(logits, 10_000, seed=4)
    assert samples.shape == (2, 10_000)
    for row, probabilities in enumerate(([0.1, 0.2, 0.7], [0.5, 0.25, 0.25])):
        frequencies = torch.bincount(samples[row].long(), minlength=3).double() / 10_000
        np.testing.assert_allclose(frequencies.numpy(), probabilities, atol=0.02)


def test_categorical_rejects_non_2d_logits():
    with pytest.raises(ValueError, match="2-D tensor"):
        random.categorical(torch.zeros(3), 2, seed=0)


def test_shuffle_is_a_permutation_along_axis():
    x = torch.arange(30).reshape(10, 3)
    shuffled = random.shuffle(x, axis=0, seed=5)
    assert sorted(shuffled[:, 0].tolist()) == list(range(0, 30, 3))
    assert torch.equal(shuffled[:, 1] - shuffled[:, 0], torch.ones(10, dtype=torch.long))


def test_dropout_keeps_expected_fraction_and_rescales():
    y = random.dropout(torch.ones(N), rate=0.3, seed=6)
    kept = (y != 0).double().mean().item()
    assert kept == pytest.approx(0.7, abs=4 * math.sqrt(0.21 / N))
    values = torch.unique(y).tolist()
    assert values == [0.0, pytest.approx(1 / 0.7)]


def test_dropout_equals_the_seeded_dropout_kernel():
    x = torch.randn(5, 7)
    assert torch.equal(random.dropout(x, 0.4, seed=9), kernels.dropout(x, 0.4, 9))


def test_dropout_noise_shape_broadcasts_one_mask_per_row():
    y = random.dropout(torch.ones(64, 8), 0.5, noise_shape=(None, 1), seed=7)
    assert all(len(set(row)) == 1 for row in y.tolist())
    assert 0.3 < (y[:, 0] != 0).double().mean().item() < 0.7


def test_dropout_rejects_noise_shape_that_does_not_broadcast():
    with pytest.raises(ValueError, match="does not broadcast"):
        random.dropout(torch.ones(4, 8), 0.5, noise_shape=(4, 3), seed=0)


def test_uniform_with_int_dtype_raises_keras_error():
    with pytest.raises(ValueError, match="requires a floating point `dtype`"):
        random.uniform((2,), dtype="int32", seed=0)


def test_invalid_seed_raises():
    with pytest.raises(ValueError, match="Argument `seed` must be"):
        random.normal((2,), seed="abc")
    with pytest.raises(ValueError, match="must be an integer"):
        random.SeedGenerator(seed=1.5)


def test_seed_generator_state_is_int64_variable_and_next_advances_counter():
    generator = random.SeedGenerator(1337)
    assert generator.variables == [generator.state]
    assert generator.state.dtype == torch.int64 and not generator.state.trainable
    seed = generator.next()
    assert seed.shape == () and seed.dtype == torch.int64
    assert seed.device == generator.state.device
    assert generator.state.numpy().tolist() == [1337, 1]
    assert generator.next().item() != seed.item()


def test_seed_generator_state_name_is_stable_and_follows_the_name():
    assert random.SeedGenerator(1).state.name == random.SeedGenerator(2).state.name
    assert random.SeedGenerator(1, name="noise").state.name == "noise_state"


def test_seed_generator_round_trips_through_serialization():
    generator = random.SeedGenerator(5)
    restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(generator))
    assert isinstance(restored, random.SeedGenerator)
    assert torch.equal(random.normal((4,), seed=restored), random.normal((4,), seed=generator))


def test_seed_generator_state_is_in_layer_variables_not_weights():
    class NoisyLayer(keras.layers.Layer):
        def __init__(self):
            super().__init__()
            self.seed_generator = random.SeedGenerator(1)

        def call(self, x):
            return random.dropout(x, 0.5, seed=self.seed_generator)

    layer = NoisyLayer()
    layer(torch.ones(2, 3))
    assert any(v is layer.seed_generator.state for v in layer.variables)
    assert not any(v is layer.seed_generator.state for v in layer.weights)


@pytest.mark.gpu
def test_same_seed_gives_same_numbers_on_cpu_and_gpu():
    with_cpu = keras.config.device()
    try:
        keras.config.set_device("cpu")
        cpu = random.normal((1000,), seed=3), random.uniform((1000,), seed=3)
        keras.config.set_device("cuda")
        gpu = random.normal((1000,), seed=3), random.uniform((1000,), seed=3)
    finally:
        keras.config.set_device(with_cpu)
    torch.testing.assert_close(gpu[0].cpu(), cpu[0], atol=1e-5, rtol=1e-5)
    assert torch.equal(gpu[1].cpu(), cpu[1])


def _next_by_the_torch_formula(seed: int, counter: int) -> int:
    state = torch.tensor([seed, counter], dtype=torch.int64)
    folded = (state[0] ^ (state[0] >> 32)) & 0x7FFFFFFF
    return int(folded * 2**32 + (state[1] & 0xFFFFFFFF))


def test_seed_generator_host_path_equals_the_torch_formula():
    for seed in (2**62 + 99, 2**63 - 1, 7):
        generator = random.SeedGenerator(seed)
        for counter in range(5):
            assert int(generator.next()) == _next_by_the_torch_formula(seed, counter)
        assert generator.state.tolist() == [seed, 5]


def test_seed_generators_of_different_seeds_give_different_kernel_keys():
    seeds = {int(random.SeedGenerator(s).next()) for s in (0, 1, 2, 1337, 2**62 + 99)}
    assert len(seeds) == 5


def test_seed_generator_compiled_next_draws_the_eager_seeds():
    eager, compiled_generator = random.SeedGenerator(11), random.SeedGenerator(11)
    compiled = torch.compile(compiled_generator.next, fullgraph=True, backend="eager")
    for _ in range(3):
        assert int(compiled()) == int(eager.next())
    assert compiled_generator.state.tolist() == eager.state.tolist()


def _draws_by_next(seed: int, count: int, shape: tuple, fill=kernels.random_normal) -> list:
    """Each draw computed alone from `next()`'s seed (the path with no draw-ahead)."""
    generator = random.SeedGenerator(seed)
    return [fill(math.prod(shape), generator.next()).reshape(shape) for _ in range(count)]


@pytest.mark.parametrize("shape", [(2, 2), (64, 32), (1,), (3000, 3)])
def test_cpu_generator_draws_made_ahead_equal_draws_made_one_at_a_time(shape):
    generator = random.SeedGenerator(1337)
    got = [random.normal(shape, seed=generator) for _ in range(19)]
    for draw, want in zip(got, _draws_by_next(1337, 19, shape), strict=True):
        assert torch.equal(draw, want)
    assert generator.state.tolist() == [1337, 19]


def test_cpu_generator_alternating_sizes_and_kinds_draw_the_state_they_are_taken_at():
    generator = random.SeedGenerator(5)
    got = []
    for _ in range(6):
        got += [random.normal((4, 3), seed=generator), random.uniform((4, 3), seed=generator)]
    generator_by_next = random.SeedGenerator(5)
    for index, draw in enumerate(got):
        fill = kernels.random_normal if index % 2 == 0 else kernels.random_uniform
        assert torch.equal(draw, fill(12, generator_by_next.next()).reshape(4, 3))


def test_cpu_generator_rewound_or_reseeded_draws_again_from_its_state():
    generator = random.SeedGenerator(21)
    first = [random.normal((8,), seed=generator) for _ in range(4)]
    first[1].mul_(0)  # a caller's in-place change must not reach later draws
    generator.state.assign(torch.tensor([21, 1]))
    assert torch.equal(random.normal((8,), seed=generator), _draws_by_next(21, 2, (8,))[1])
    generator.state.assign(torch.tensor([22, 2]))
    assert torch.equal(random.normal((8,), seed=generator), _draws_by_next(22, 3, (8,))[2])
