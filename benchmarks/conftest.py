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
the bytes a step must move at least, from which ``gb_per_s`` is computed, and ``timing``.

``BENCH_TIMING=graph`` (CUDA only) times the device work alone: the ``CALLS_PER_ROUND`` steps
of a round are captured once in a CUDA graph (after warm-up steps on a side stream, which
also autotune and compile), and each round replays that graph. Host costs (Python, the op
dispatcher, Triton's launcher) drop out, as they do inside ``fit``'s CUDA-graphed training
step. The default, ``wall``, times eager launches end to end, host costs included.
"""

import functools
import math
import os
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
TIMING = os.environ.get("BENCH_TIMING", "wall") if ON_CUDA else "wall"
if TIMING not in ("wall", "graph"):
    raise ValueError(f"BENCH_TIMING must be 'wall' or 'graph'; received {TIMING!r}.")
GRAPH_WARMUP_STEPS = 3


def _input_sets(make, bytes_per_set: int) -> list:
    """Enough input sets from ``make()`` to cover ``ROTATION_BYTES`` (at least one)."""
    count = min(MAX_INPUT_SETS, max(1, math.ceil(ROTATION_BYTES / max(bytes_per_set, 1))))
    return [make() for _ in range(count)]


def _eager_round(step, sets):
    """A round of ``CALLS_PER_ROUND`` eager steps, then one synchronize."""

    def one_round():
        for i in range(CALLS_PER_ROUND):
            step(*sets[i % len(sets)])
        if ON_CUDA:
            torch.cuda.synchronize()

    return one_round


def _graphed_round(step, sets):
    """A round that replays the ``CALLS_PER_ROUND`` steps captured in one CUDA graph
    (PyTorch's whole-network capture recipe: warm-up steps on a side stream first). A step
    that cannot be captured skips its benchmark, with the reason."""
    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side):
        for i in range(GRAPH_WARMUP_STEPS):
            step(*sets[i % len(sets)])
    torch.cuda.current_stream().wait_stream(side)
    torch.cuda.synchronize()
    generator = torch.cuda.default_generators[torch.cuda.current_device()]
    generator_state = generator.clone_state()
    graph = torch.cuda.CUDAGraph()
    try:
        with torch.cuda.graph(graph):
            for i in range(CALLS_PER_ROUND):
                step(*sets[i % len(sets)])
    except Exception as error:  # report it as a skip; the other benchmarks go on
        torch.cuda.synchronize()
        # A failed capture leaves the generator mid-capture; later draws would raise.
        generator.graphsafe_set_state(generator_state)
        pytest.skip(f"cannot capture the step in a CUDA graph: {type(error).__name__}: {error}")

    def one_round():
        graph.replay()
        torch.cuda.synchronize()

    return one_round


def _measure(benchmark, step, sets, info, *, bytes_per_step=None, flops_per_step=None) -> None:
    """Benchmark ``step(*inputs)`` over the rotating ``sets`` and record ``info``."""
    one_round = (_graphed_round if TIMING == "graph" else _eager_round)(step, sets)
    one_round()  # compile, autotune and allocate outside the timing
    benchmark.extra_info.update(info, calls_per_round=CALLS_PER_ROUND, device=str(DEVICE))
    benchmark.extra_info["timing"] = TIMING
    keys = ("op", "pass", "shape", "dtype")
    benchmark.group = " ".join([*(str(info[k]) for k in keys if k in info), TIMING])
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
