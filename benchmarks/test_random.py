"""``keras.random.normal`` against ``torch.randn`` at the VAE's sampling shape (64, 32) and at
a large draw (8192, 784), seeded by a ``SeedGenerator`` as layers seed it.

On CUDA "tritonlayers" is one ``random_fill`` kernel launch plus the generator's seed update
(a few tiny kernels, no host sync); on the CPU it is the Philox twin (numpy rounds in eager
mode). ``torch.randn`` uses torch's own Philox (CUDA) or Mersenne Twister (CPU) stream, so
it is the speed to aim for, not the same numbers. Timing as in ``conftest.py``: many calls
per round, then one synchronize, on CUDA.

Run: ``pytest benchmarks/test_random.py --benchmark-only``.
"""

import pytest
import torch

import tritonlayers as keras

DEVICE = torch.device("cuda" if torch.cuda.is_available() else "cpu")
SHAPES = [(64, 32), (8192, 784)]


def _step(impl: str, shape: tuple[int, int]):
    if impl == "tritonlayers":
        generator = keras.random.SeedGenerator(1337)
        return lambda: keras.random.normal(shape, seed=generator)
    return lambda: torch.randn(shape, device=DEVICE)


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s)))
@pytest.mark.parametrize("impl", ["tritonlayers", "torch_eager"])
def test_random_normal(measure, impl, shape):
    bytes_per_step = 4 * shape[0] * shape[1]  # the float32 result, written once
    info = {"op": "random.normal", "pass": "fwd", "impl": impl, "shape": "x".join(map(str, shape))}
    measure(_step(impl, shape), [()], {**info, "dtype": "float32"}, bytes_per_step=bytes_per_step)
