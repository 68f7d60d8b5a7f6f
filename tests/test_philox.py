"""The torch twin of Triton's Philox stream against interpreted ``tl.randint4x``/``tl.rand``/
``tl.randn`` (bit for bit, normals to float rounding), a published known-answer vector,
and the seed conventions kernels rely on."""

import pytest
import torch
import triton
import triton.language as tl

from tritonlayers.kernels import _philox

# Counters around the 32-bit boundaries, where the offset's high word starts to count.
OFFSETS = torch.cat(
    [
        torch.arange(40),
        torch.arange(2**31 - 4, 2**31 + 4),
        torch.arange(2**32 - 12, 2**32 + 12),
        torch.tensor([2**40 + 3, 2**62 + 5, 2**63 - 1, -1, -(2**40)]),
    ]
)
INT_SEEDS = [0, 1, 42, 2**31 - 1, 2**31, 2**32 + 5, 2**63 - 1, -1, -12345, 2**64 - 3]


@triton.jit
def _philox_probe_kernel(
    seed_ptr,
    seed_int,
    offsets_ptr,
    words_ptr,
    uniform_ptr,
    normal_ptr,
    n,
    SEED_FROM_PTR: tl.constexpr,
    BLOCK: tl.constexpr,
):
    i = tl.arange(0, BLOCK)
    in_bounds = i < n
    offsets = tl.load(offsets_ptr + i, mask=in_bounds)
    seed = tl.load(seed_ptr) if SEED_FROM_PTR else seed_int
    w0, w1, w2, w3 = tl.randint4x(seed, offsets)
    tl.store(words_ptr + i, w0.to(tl.int64), mask=in_bounds)
    tl.store(words_ptr + n + i, w1.to(tl.int64), mask=in_bounds)
    tl.store(words_ptr + 2 * n + i, w2.to(tl.int64), mask=in_bounds)
    tl.store(words_ptr + 3 * n + i, w3.to(tl.int64), mask=in_bounds)
    tl.store(uniform_ptr + i, tl.rand(seed, offsets), mask=in_bounds)
    tl.store(normal_ptr + i, tl.randn(seed, offsets), mask=in_bounds)


def _triton_stream(seed, offsets):
    """(randint4x words as a (4, n) int64 tensor, rand, randn) drawn by Triton itself."""
    n = offsets.numel()
    words = torch.empty(4, n, dtype=torch.int64, device=offsets.device)
    uniform = torch.empty(n, device=offsets.device)
    normal = torch.empty(n, device=offsets.device)
    from_ptr = isinstance(seed, torch.Tensor)
    _philox_probe_kernel[(1,)](
        seed if from_ptr else offsets,
        0 if from_ptr else seed,
        offsets,
        words,
        uniform,
        normal,
        n,
        SEED_FROM_PTR=from_ptr,
        BLOCK=triton.next_power_of_2(n),
    )
    return words, uniform, normal


def _as_int64(seed: int) -> int:
    seed %= 2**64
    return seed - 2**64 if seed >= 2**63 else seed


@pytest.mark.interpret
@pytest.mark.parametrize("seed", INT_SEEDS)
def test_randint4x_equals_triton_for_int_seeds(seed):
    words, _, _ = _triton_stream(seed, OFFSETS)
    assert torch.equal(torch.stack(_philox.randint4x(seed, OFFSETS)), words)


@pytest.mark.interpret
@pytest.mark.parametrize("seed", INT_SEEDS)
def test_randint4x_equals_triton_for_tensor_seeds(seed):
    seed_tensor = torch.tensor(_as_int64(seed), dtype=torch.int64)
    words, _, _ = _triton_stream(seed_tensor, OFFSETS)
    assert torch.equal(torch.stack(_philox.randint4x(seed_tensor, OFFSETS)), words)


@pytest.mark.interpret
@pytest.mark.parametrize("seed", [0, 7, 2**40 + 7, -3])
def test_randint_and_uniform_equal_triton_bit_for_bit(seed):
    words, uniform, _ = _triton_stream(seed, OFFSETS)
    assert torch.equal(_philox.randint(seed, OFFSETS), words[0])
    assert torch.equal(_philox.uniform(seed, OFFSETS), uniform)


@pytest.mark.interpret
@pytest.mark.parametrize("seed", [0, 7, 2**40 + 7, -3])
def test_normal_equals_triton_randn_to_float_rounding(seed):
    _, _, normal = _triton_stream(seed, OFFSETS)
    torch.testing.assert_close(_philox.normal(seed, OFFSETS), normal, rtol=1e-6, atol=1e-6)


def test_zero_key_and_counter_give_the_random123_known_answer():
    # Random123's kat_vectors: philox4x32-10 of counter 0 under key 0.
    words = _philox.randint4x(0, torch.zeros(1, dtype=torch.int64))
    assert [int(w) for w in words] == [0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8]


def test_int_seed_wraps_modulo_two_to_the_64():
    assert torch.equal(_philox.randint(-1, OFFSETS), _philox.randint(2**64 - 1, OFFSETS))


def test_tensor_seed_gives_the_stream_of_its_int_value():
    seed = 2**40 + 17
    expected = _philox.randint(seed, OFFSETS)
    for dtype in (torch.int64, torch.int32):
        value = seed if dtype == torch.int64 else 1234
        tensor_seed = torch.tensor([value], dtype=dtype)
        assert torch.equal(_philox.randint(tensor_seed, OFFSETS), _philox.randint(value, OFFSETS))
    assert torch.equal(_philox.randint(torch.tensor(seed), OFFSETS), expected)


def test_words_are_uint32_and_uniforms_lie_in_unit_interval():
    offsets = torch.arange(100_000)
    words = torch.stack(_philox.randint4x(9, offsets))
    uniform = _philox.uniform(9, offsets)
    assert int(words.min()) >= 0 and int(words.max()) < 2**32
    assert float(uniform.min()) >= 0.0 and float(uniform.max()) < 1.0
    assert uniform.dtype == torch.float32


def test_uniform_moments_match_u01():
    n = 200_000
    uniform = _philox.uniform(11, torch.arange(n)).double()
    # mean 1/2 with sd sqrt(1/12/n); variance 1/12 with sd ~ sqrt(1/180/n); 4 sigma bands.
    assert abs(uniform.mean().item() - 0.5) < 4 * (1 / 12 / n) ** 0.5
    assert abs(uniform.var().item() - 1 / 12) < 4 * (1 / 180 / n) ** 0.5


def test_normal4x_lanes_are_independent_standard_normals():
    n = 100_000
    lanes = torch.stack(_philox.normal4x(21, torch.arange(n))).double()
    assert lanes.dtype == torch.float64 and lanes.shape == (4, n)
    for lane in lanes:
        assert abs(lane.mean().item()) < 4 / n**0.5
        assert abs(lane.var().item() - 1) < 4 * (2 / n) ** 0.5
    correlation = torch.corrcoef(lanes)
    off_diagonal = correlation - torch.eye(4, dtype=torch.float64)
    assert off_diagonal.abs().max().item() < 4 / n**0.5


def test_normal_is_lane_zero_of_normal4x():
    offsets = torch.arange(1000)
    assert torch.equal(_philox.normal(5, offsets), _philox.normal4x(5, offsets)[0])


def test_float_seed_is_rejected_with_a_clear_error():
    with pytest.raises(ValueError, match="integer tensor with one element"):
        _philox.randint(torch.tensor(1.0), OFFSETS)
    with pytest.raises(ValueError, match="integer tensor with one element"):
        _philox.randint(torch.tensor([1, 2]), OFFSETS)
    with pytest.raises(TypeError, match="int or an int64 tensor"):
        _philox.randint(1.5, OFFSETS)


def test_float_offsets_are_rejected():
    with pytest.raises(TypeError, match="integer tensor"):
        _philox.randint(0, torch.zeros(3))


@pytest.mark.gpu
def test_twin_runs_on_cuda_with_a_cuda_seed_and_matches_cpu():
    offsets = OFFSETS.cuda()
    seed = torch.tensor(2**40 + 7, device="cuda")
    words, uniform, normal = _triton_stream(seed, offsets)
    twin_words = torch.stack(_philox.randint4x(seed, offsets))
    assert twin_words.device.type == "cuda"
    assert torch.equal(twin_words.cpu(), torch.stack(_philox.randint4x(2**40 + 7, OFFSETS)))
    assert torch.equal(twin_words, words)
    assert torch.equal(_philox.uniform(seed, offsets), uniform)
    # GPU log/cos differ from the CPU's in the last bits; Box-Muller scales that by r < 6.
    torch.testing.assert_close(_philox.normal(seed, offsets), normal, rtol=1e-5, atol=2e-5)


def _split_multiply_randint4x(seed: int, offsets: torch.Tensor) -> torch.Tensor:
    """The original formulation: torch int64 ops, each 32x32 product split in 16-bit halves."""

    def mul_hi_lo(constant, value):
        x, y = value * (constant & 0xFFFF), value * (constant >> 16)
        return (y + (x >> 16)) >> 16, (((y & 0xFFFF) << 16) + x) & 0xFFFFFFFF

    seed %= 2**64
    k0, k1 = seed & 0xFFFFFFFF, seed >> 32
    c0, c1 = offsets & 0xFFFFFFFF, (offsets >> 32) & 0xFFFFFFFF
    c2, c3 = torch.zeros_like(c0), torch.zeros_like(c0)
    for _ in range(10):
        hi_b, lo_b = mul_hi_lo(0xCD9E8D57, c2)
        hi_a, lo_a = mul_hi_lo(0xD2511F53, c0)
        c0, c1, c2, c3 = hi_b ^ c1 ^ k0, lo_b, hi_a ^ c3 ^ k1, lo_a
        k0, k1 = (k0 + 0x9E3779B9) & 0xFFFFFFFF, (k1 + 0xBB67AE85) & 0xFFFFFFFF
    return torch.stack([c0, c1, c2, c3])


# Counters whose low word spans the whole uint32 range (all-ones included), so every product
# of a round reaches the top of the 64-bit range.
WIDE_OFFSETS = torch.cat([OFFSETS, torch.randint(-(2**63), 2**63 - 1, (3000,)), OFFSETS * 977])


@pytest.mark.parametrize("seed", INT_SEEDS)
def test_numpy_cpu_path_equals_the_split_multiply_formulation(seed):
    assert torch.equal(
        torch.stack(_philox.randint4x(seed, WIDE_OFFSETS)),
        _split_multiply_randint4x(seed, WIDE_OFFSETS),
    )


@pytest.mark.parametrize("offset", [0, 2**32 - 1, 2**32 + 5, -1, 2**63 - 1])
def test_single_offset_path_equals_the_split_multiply_formulation(offset):
    offsets = torch.tensor([offset])
    for seed in (0, -1, 2**40 + 7, torch.tensor(2**62 + 3)):
        expected = _split_multiply_randint4x(int(seed), offsets)
        assert torch.equal(torch.stack(_philox.randint4x(seed, offsets)), expected)


def test_torch_path_equals_the_numpy_path():
    k0, k1 = 0x12345678, 0x9ABCDEF0
    seed = (k1 << 32) | k0
    twin = torch.stack(_philox._torch_randint4x(k0, k1, WIDE_OFFSETS))
    assert torch.equal(twin, torch.stack(_philox.randint4x(seed, WIDE_OFFSETS)))


def test_numpy_uniform_and_normal_equal_the_torch_formulas():
    words = _split_multiply_randint4x(77, WIDE_OFFSETS)
    uniform = [_philox.uint32_to_uniform(w) for w in words]
    assert torch.equal(_philox.uniform(77, WIDE_OFFSETS), uniform[0])
    expected = (*_philox.box_muller(uniform[0], uniform[1]), *_philox.box_muller(*uniform[2:]))
    for got, want in zip(_philox.normal4x(77, WIDE_OFFSETS), expected, strict=True):
        torch.testing.assert_close(got, want, rtol=1e-6, atol=1e-6)
    torch.testing.assert_close(_philox.normal(77, WIDE_OFFSETS), expected[0], rtol=1e-6, atol=1e-6)


def test_compiled_draw_traces_the_torch_path_without_graph_breaks():
    seed = torch.tensor(5)
    compiled = torch.compile(lambda s, o: _philox.normal(s, o) + 1, fullgraph=True, backend="eager")
    offsets = torch.arange(64)
    torch.testing.assert_close(
        compiled(seed, offsets), _philox.normal(5, offsets) + 1, rtol=1e-6, atol=1e-6
    )


def test_draws_longer_than_a_numpy_pass_are_stitched_in_counter_order():
    offsets = 2**32 - 9000 + torch.arange(2 * _philox._NUMPY_CHUNK + 7)
    words = torch.stack(_philox.randint4x(3, offsets))
    assert torch.equal(words, _split_multiply_randint4x(3, offsets))
    tail = offsets[-100:]
    assert torch.equal(_philox.uniform(3, offsets)[-100:], _philox.uniform(3, tail))
    assert torch.equal(_philox.normal(3, offsets)[-100:], _philox.normal(3, tail))
    assert torch.equal(_philox.randint(3, offsets), words[0])
