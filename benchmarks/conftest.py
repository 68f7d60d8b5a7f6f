"""Shared set-up for the benchmarks: the device, and the `measure` and `input_sets` fixtures.

How a benchmark is timed. On CUDA, kernels run asynchronously, and one small kernel takes
less time than a ``torch.cuda.synchronize()``. So each pytest-benchmark round launches
``CALLS_PER_ROUND`` steps and then synchronizes once; the round time divided by
``extra_info["calls_per_round"]`` is the time of one step (``summarize.py`` does that
division). Steps rotate over several input sets whose total size is larger than the L2
cache, so no step reads inputs that the previous one left in cache. On the CPU a round is
one step on one input set. The first round (compilation, autotuning) is never timed.

Each benchmark records in ``extra_info``: op, pass ("fwd" or "fwd+bwd"), impl
("tritonlayers", "torch_eager", "torch_compile"), shape, dtype, and for memory-bound ops
the bytes a step must move at least, from which ``gb_per_s`` is computed.
"""

import functools
import math
import platform

import pytest
import torch

ON_CUDA = torch.cuda.is_available()
DEVICE = torch.device("cuda" if ON_CUDA else "cpu")
CALLS_PER_ROUND = 25 if ON_CUDA else 1
ROUNDS = 10 if ON_CUDA else 5
# Rotate over at least this many bytes of inputs (H100's L2 is 50 MB), in at most 8 sets.
ROTATION_BYTES = 256 * 2**20 if ON_CUDA else 0
MAX_INPUT_SETS = 8


def _input_sets(make, bytes_per_set: int) -> list:
    """Enough input sets from ``make()`` to cover ``ROTATION_BYTES`` (at least one)."""
    count = min(MAX_INPUT_SETS, max(1, math.ceil(ROTATION_BYTES / max(bytes_per_set, 1))))
    return [make() for _ in range(count)]


def _measure(benchmark, step, sets, info, *, bytes_per_step=None, flops_per_step=None) -> None:
    """Benchmark ``step(*inputs)`` over the rotating ``sets`` and record ``info``."""

    def one_round():
        for i in range(CALLS_PER_ROUND):
            step(*sets[i % len(sets)])
        if ON_CUDA:
            torch.cuda.synchronize()

    one_round()  # compile, autotune and allocate outside the timing
    benchmark.extra_info.update(info, calls_per_round=CALLS_PER_ROUND, device=str(DEVICE))
    benchmark.group = " ".join(str(info[k]) for k in ("op", "pass", "shape", "dtype") if k in info)
    benchmark.pedantic(one_round, rounds=ROUNDS, iterations=1, warmup_rounds=1)
    if benchmark.stats is None:  # --benchmark-disable: the step ran once, nothing timed
        return
    seconds = benchmark.stats.stats.median / CALLS_PER_ROUND
    if bytes_per_step is not None:
        benchmark.extra_info["bytes_per_step"] = bytes_per_step
        benchmark.extra_info["gb_per_s"] = bytes_per_step / seconds / 1e9
    if flops_per_step is not None:
        benchmark.extra_info["tflop_per_s"] = flops_per_step / seconds / 1e12


@pytest.fixture
def measure(benchmark):
    """``measure(step, sets, info, bytes_per_step=None, flops_per_step=None)``: time
    ``step(*inputs)`` rotating over ``sets`` (see the module docstring)."""
    return functools.partial(_measure, benchmark)


@pytest.fixture
def input_sets():
    """``input_sets(make, bytes_per_set)``: enough sets from ``make()`` to defeat the L2."""
    return _input_sets


@pytest.fixture
def float32_matmul_precision():
    """Run float32 matmuls as TF32 ("high"), the usual training setting, for every impl."""
    previous = torch.get_float32_matmul_precision()
    torch.set_float32_matmul_precision("high")
    yield
    torch.set_float32_matmul_precision(previous)


def pytest_benchmark_update_machine_info(config, machine_info):
    """Put the card and library versions into the JSON, for ``summarize.py``."""
    import triton

    machine_info["torch"] = torch.__version__
    machine_info["triton"] = triton.__version__
    machine_info["python"] = platform.python_version()
    machine_info["cuda"] = torch.version.cuda
    machine_info["device_name"] = torch.cuda.get_device_name() if ON_CUDA else "CPU"
