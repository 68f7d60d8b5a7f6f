"""The random fill kernel: interpreted Triton against the Philox twin (bits and uniforms bit
for bit, normals to float rounding) for int and tensor seeds, odd sizes and offsets past
2**32; the counter layout; errors; CUDA parity and no host sync."""

import pytest
import torch

from tritonlayers.kernels import (
    _philox,
    random_bits,
    random_normal,
    random_uniform,
    set_kernel_mode,
)

FILLS = {"bits": random_bits, "uniform": random_uniform, "normal": random_normal}
TWINS = {"bits": _philox.randint4x, "uniform": _philox.uniform4x, "normal": _philox.normal4x}
SEEDS = [3, -5, 2**40 + 7, "tensor"]


@pytest.fixture
def triton_mode():
    set_kernel_mode("triton")
    yield
    set_kernel_mode("auto")


def _seed(seed):
    return torch.tensor(2**62 + 11) if seed == "tensor" else seed


def _twin(kind, seed, offset, n, device="cpu"):
    """Element i is lane i % 4 of the twin's draw at counter offset + i // 4."""
    lanes = TWINS[kind](seed, offset + torch.arange((n + 3) // 4, device=device))
    return torch.stack(lanes, dim=-1).reshape(-1)[:n]


@pytest.mark.interpret
@pytest.mark.parametrize("kind", ["bits", "uniform"])
@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize(("n", "offset"), [(1, 0), (6, 3), (777, 5), (4099, 2**32 - 100)])
def test_interpreted_fill_equals_the_twin_bit_for_bit(triton_mode, kind, seed, n, offset):
    seed = _seed(seed)
    got = FILLS[kind](n, seed, offset)
    assert got.shape == (n,) and got.dtype == (torch.int64 if kind == "bits" else torch.float32)
    assert torch.equal(got, _twin(kind, seed, offset, n))


@pytest.mark.interpret
@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize(("n", "offset"), [(777, 5), (4099, 2**33 + 3)])
def test_interpreted_normal_fill_equals_the_twin_to_float_rounding(triton_mode, seed, n, offset):
    seed = _seed(seed)
    got = random_normal(n, seed, offset)
    torch.testing.assert_close(got, _twin("normal", seed, offset, n), rtol=1e-6, atol=1e-6)


@pytest.mark.interpret
def test_interpreted_empty_fill_is_empty(triton_mode):
    assert random_normal(0, 1).shape == (0,)


def test_element_i_is_lane_i_mod_4_at_counter_offset_plus_i_div_4():
    offset = 2**32 - 2
    bits = random_bits(10, 9, offset)
    for i in range(10):
        words = _philox.randint4x(9, torch.tensor([offset + i // 4]))
        assert int(bits[i]) == int(words[i % 4][0])
    assert torch.equal(random_bits(5, 9, offset + 1), bits[4:9])


def test_torch_path_equals_the_twin_for_a_tensor_seed():
    seed = torch.tensor([2**50 + 1])
    assert torch.equal(random_uniform(100, seed, 7), _twin("uniform", seed, 7, 100))


def test_compiled_fill_traces_without_graph_breaks():
    compiled = torch.compile(lambda s: random_normal(64, s) * 2, fullgraph=True, backend="eager")
    seed = torch.tensor(4)
    torch.testing.assert_close(compiled(seed), random_normal(64, 4) * 2, rtol=0, atol=0)


def test_bad_count_and_seed_raise_clear_errors():
    with pytest.raises(ValueError, match="count n >= 0"):
        random_normal(-1, 0)
    with pytest.raises(ValueError, match="integer tensor with one element"):
        random_bits(3, torch.tensor(1.5))


@pytest.mark.gpu
@pytest.mark.parametrize("kind", ["bits", "uniform", "normal"])
@pytest.mark.parametrize("seed", SEEDS)
def test_cuda_fill_equals_the_cpu_twin(kind, seed):
    seed = _seed(seed)
    device_seed = seed.cuda() if isinstance(seed, torch.Tensor) else seed
    got = FILLS[kind](10_007, device_seed, 2**32 - 50, device="cuda")
    assert got.is_cuda
    expected = _twin(kind, seed, 2**32 - 50, 10_007)
    if kind == "normal":
        # GPU log/cos differ from the CPU's in the last bits; Box-Muller scales that by r < 6.
        torch.testing.assert_close(got.cpu(), expected, rtol=1e-5, atol=2e-5)
    else:
        assert torch.equal(got.cpu(), expected)


@pytest.mark.gpu
def test_cuda_fill_with_a_device_seed_does_not_sync_the_host():
    seed = torch.tensor(17, device="cuda")
    random_normal(4096, seed, device="cuda")  # compile outside the check
    torch.cuda.synchronize()
    torch.cuda.set_sync_debug_mode("error")
    try:
        for kind in FILLS.values():
            kind(4096, seed, 8, device="cuda")
    finally:
        torch.cuda.set_sync_debug_mode("default")
