"""fused_linear: the Triton kernels (interpreted on CPU, compiled on GPU) and the torch path
against a float64 reference, plus autograd, shapes, dispatch and error messages."""

import importlib
import importlib.util
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
import triton
import triton.backends
from hypothesis import given, settings
from hypothesis import strategies as st

from tritonlayers.kernels import fused_linear, set_kernel_mode

fl = importlib.import_module("tritonlayers.kernels.fused_linear")

ACTIVATIONS = [
    None,
    "relu",
    "leaky_relu",
    "gelu",
    "gelu_tanh",
    "silu",
    "sigmoid",
    "tanh",
    "softplus",
]
TOLERANCES = {
    torch.float32: {"atol": 1e-4, "rtol": 1e-4},
    torch.float16: {"atol": 1e-2, "rtol": 1e-2},
}


def _inputs(x_shape, n, dtype, bias=True, device="cpu"):
    """x, weight, bias scaled so that the pre-activation is O(1) whatever K is."""
    k = x_shape[-1]
    x = torch.randn(x_shape, dtype=torch.float64, device=device)
    w = torch.randn(k, n, dtype=torch.float64, device=device) / math.sqrt(max(k, 1))
    b = torch.randn(n, dtype=torch.float64, device=device) if bias else None
    return [t.to(dtype) if t is not None else None for t in (x, w, b)]


def _float64_reference(x, w, b, activation):
    """act(x @ w + b) by the torch reference in float64, and its float64 leaves (whose .grad
    the caller fills with a backward pass)."""
    leaves = [t.detach().double().requires_grad_() if t is not None else None for t in (x, w, b)]
    y = fl._reference_fused_linear(*leaves, activation or "linear")
    return y, leaves


def _assert_close(got, ref, tol, name):
    """Elementwise closeness, with the absolute part scaled by the reference's RMS: weight and
    bias gradients sum M products, so their size (and rounding error) grows like sqrt(M)."""
    rms = ref.square().mean().sqrt().item() if ref.numel() else 1.0
    atol = tol["atol"] * max(1.0, rms)
    torch.testing.assert_close(got.double(), ref, atol=atol, rtol=tol["rtol"], msg=name)


def _assert_matches_reference(x, w, b, activation, tol):
    """Run fused_linear forward + backward and compare all of it with the float64 reference."""
    leaves = [t.detach().requires_grad_() if t is not None else None for t in (x, w, b)]
    y = fused_linear(*leaves, activation=activation)
    y_ref, ref_leaves = _float64_reference(x, w, b, activation)
    assert y.dtype == x.dtype
    assert y.shape == y_ref.shape
    _assert_close(y, y_ref, tol, "output")
    g = torch.randn_like(y_ref)
    y.backward(g.to(y.dtype))
    y_ref.backward(g)
    for name, got, ref in zip(("x", "weight", "bias"), leaves, ref_leaves):
        if got is not None:
            assert got.grad is not None, f"no gradient for {name}"
            _assert_close(got.grad, ref.grad, tol, f"gradient of {name}")


@pytest.fixture
def triton_mode():
    set_kernel_mode("triton")


# ---------------------------------------------------------------------------------------------
# Interpreted Triton kernels vs float64
# ---------------------------------------------------------------------------------------------


@pytest.mark.interpret
@pytest.mark.parametrize("dtype", [torch.float32, torch.float16], ids=["fp32", "fp16"])
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_kernel_forward_and_grads_match_float64_at_odd_shape(triton_mode, activation, dtype):
    x, w, b = _inputs((37, 29), 53, dtype)
    _assert_matches_reference(x, w, b, activation, TOLERANCES[dtype])


@pytest.mark.interpret
def test_kernel_grid_of_many_tiles_matches_float64(triton_mode):
    # 32-wide tiles in the interpreter: 4 x 3 tiles, a partial group of tile rows, 2 K steps.
    x, w, b = _inputs((100, 40), 70, torch.float32)
    _assert_matches_reference(x, w, b, "leaky_relu", TOLERANCES[torch.float32])


@pytest.mark.interpret
@pytest.mark.parametrize("activation", [None, "relu", "gelu"])
def test_kernel_without_bias_matches_float64(triton_mode, activation):
    x, w, _ = _inputs((19, 33), 21, torch.float32, bias=False)
    _assert_matches_reference(x, w, None, activation, TOLERANCES[torch.float32])


@pytest.mark.interpret
def test_kernel_leading_batch_dims_match_float64(triton_mode):
    x, w, b = _inputs((2, 3, 7, 29), 17, torch.float32)
    _assert_matches_reference(x, w, b, "silu", TOLERANCES[torch.float32])


@pytest.mark.interpret
def test_kernel_reads_transposed_inputs_without_copies(triton_mode):
    x_t, w_t, b = _inputs((29, 37), 53, torch.float32)
    x = x_t.t()  # (37, 29) with strides (1, 37)
    w = torch.randn(53, 29).t() / math.sqrt(29)  # (29, 53) with strides (1, 29)
    assert not x.is_contiguous() and not w.is_contiguous()
    _assert_matches_reference(x, w, b, "tanh", TOLERANCES[torch.float32])


@pytest.mark.interpret
def test_kernel_reads_strided_slice_and_broadcast_gradient(triton_mode):
    x = torch.randn(37, 58)[:, ::2].requires_grad_()  # every other column: stride 2 along K
    _, w, b = _inputs((37, 29), 20, torch.float32)
    y = fused_linear(x, w, b, activation="sigmoid")
    y.sum().backward()  # the upstream gradient is an expanded (stride 0) tensor of ones
    y_ref, (xr, _, _) = _float64_reference(x, w, b, "sigmoid")
    y_ref.sum().backward()
    torch.testing.assert_close(y.double(), y_ref, **TOLERANCES[torch.float32])
    torch.testing.assert_close(x.grad.double(), xr.grad, **TOLERANCES[torch.float32])


@pytest.mark.interpret
def test_kernel_empty_batch_gives_empty_output_and_zero_weight_grads(triton_mode):
    x, w, b = [t.requires_grad_() for t in _inputs((0, 29), 53, torch.float32)]
    y = fused_linear(x, w, b, activation="gelu")
    assert y.shape == (0, 53)
    y.sum().backward()
    assert x.grad.shape == (0, 29)
    torch.testing.assert_close(w.grad, torch.zeros_like(w))
    torch.testing.assert_close(b.grad, torch.zeros_like(b))


@pytest.mark.interpret
@pytest.mark.parametrize(("k", "n"), [(0, 6), (5, 0)], ids=["no-inputs", "no-outputs"])
def test_kernel_degenerate_in_or_out_features_match_float64(triton_mode, k, n):
    x, w, b = _inputs((7, k), n, torch.float32)
    _assert_matches_reference(x, w, b, "softplus", TOLERANCES[torch.float32])


@pytest.mark.interpret
@pytest.mark.parametrize(
    ("activation", "saves"),
    [
        ("relu", "output"),
        ("tanh", "output"),
        ("gelu", "preactivation"),
        ("softplus", "preactivation"),
    ],
)
def test_kernel_saves_output_or_preactivation_per_activation(triton_mode, activation, saves):
    x, w, b = [t.requires_grad_() for t in _inputs((9, 12), 10, torch.float32)]
    saved = []
    with torch.autograd.graph.saved_tensors_hooks(lambda t: saved.append(t) or t, lambda t: t):
        y = fused_linear(x, w, b, activation=activation)
    outputs_saved = [t for t in saved if t.shape == y.shape]
    assert len(outputs_saved) == 1, "exactly one (M, N) tensor is kept for backward"
    expected = y if saves == "output" else x @ w + b
    torch.testing.assert_close(outputs_saved[0], expected.detach(), atol=1e-5, rtol=1e-5)


@pytest.mark.interpret
def test_triton_mode_in_eager_runs_the_kernel_function(triton_mode):
    x, w, b = _inputs((5, 4), 3, torch.float32)
    y = fused_linear(x.requires_grad_(), w, b, activation="relu")
    assert type(y.grad_fn).__name__ == "_FusedLinearFunctionBackward"


@pytest.mark.interpret
@pytest.mark.parametrize("activation", ["tanh", "gelu", "softplus", "sigmoid", "relu", None])
def test_kernel_gradient_penalty_matches_the_torch_path(activation):
    # A gradient penalty differentiates the backward pass. The kernels' gradients carry no
    # graph of their own; without the recompute path, the curvature of the activation and
    # the x -> dW path were silently missing from second derivatives.
    def penalty_grads(mode):
        set_kernel_mode(mode)
        torch.manual_seed(3)
        x, w, b = [t.requires_grad_() for t in _inputs((6, 5), 4, torch.float32)]
        y = fused_linear(x, w, b, activation=activation)
        (dx,) = torch.autograd.grad(y.square().sum(), x, create_graph=True)
        dx.square().sum().backward()
        return x.grad, w.grad, b.grad

    for got, want in zip(penalty_grads("triton"), penalty_grads("torch")):
        torch.testing.assert_close(got, want, **TOLERANCES[torch.float32])


@pytest.mark.interpret
def test_kernel_function_passes_gradgradcheck_in_the_interpreter(triton_mode):
    # gradgradcheck needs float64, which fused_linear sends to torch; the interpreter runs the
    # kernels on float64 when the eager Function is called directly (their elementwise
    # backward computes in float32, hence the tolerance).
    x, w, b = [t.requires_grad_() for t in _inputs((4, 5), 3, torch.float64)]

    def fn(x, w, b):
        return fl._FusedLinearFunction.apply(x, w, b, "gelu")[0]

    assert torch.autograd.gradgradcheck(fn, (x, w, b), atol=1e-4)


@pytest.mark.interpret
def test_kernel_path_works_under_torch_func_grad(triton_mode):
    x, w, _ = _inputs((4, 8), 3, torch.float32)

    def f(t):
        return fused_linear(t, w, activation="gelu").square().sum()

    leaf = x.clone().requires_grad_()
    f(leaf).backward()
    torch.testing.assert_close(torch.func.grad(f)(x), leaf.grad)


def test_float64_takes_the_torch_path_even_in_triton_mode(triton_mode):
    # The kernel's accumulator is float32: it does not compile for float64 operands on a GPU.
    x, w, b = [t.requires_grad_() for t in _inputs((4, 5), 3, torch.float64)]
    y = fused_linear(x, w, b, activation="relu")
    assert type(y.grad_fn).__name__ == "ReluBackward0"


@pytest.mark.interpret
def test_registered_op_matches_float64_with_its_autograd(triton_mode):
    # The op is what torch.compile traces; eager calls skip it, so call it directly here.
    x, w, b = [t.requires_grad_() for t in _inputs((37, 29), 53, torch.float32)]
    y, _ = torch.ops.tritonlayers.fused_linear_fwd(x, w, b, "gelu")
    assert "tritonlayers_fused_linear_fwd" in type(y.grad_fn).__name__
    y_ref, ref_leaves = _float64_reference(x, w, b, "gelu")
    g = torch.randn_like(y_ref)
    y.backward(g.float())
    y_ref.backward(g)
    _assert_close(y, y_ref, TOLERANCES[torch.float32], "output")
    for got, ref, name in zip((x, w, b), ref_leaves, ("x", "weight", "bias")):
        _assert_close(got.grad, ref.grad, TOLERANCES[torch.float32], f"gradient of {name}")


@pytest.mark.interpret
def test_registered_ops_fake_functions_match_real_outputs(triton_mode):
    x, w, b = _inputs((6, 5), 4, torch.float32)
    for activation in ("relu", "gelu"):
        real = torch.ops.tritonlayers.fused_linear_fwd(x, w, b, activation)
        fake = fl._forward_outputs(x, w, b, activation)
        assert [t.shape for t in real] == [t.shape for t in fake]
        args = (torch.ones(6, 4), real[1] if activation == "gelu" else real[0], x, w, activation)
        real = torch.ops.tritonlayers.fused_linear_bwd(*args, True, True, False)
        fake = fl._backward_outputs(*args, True, True, False)
        assert [t.shape for t in real] == [t.shape for t in fake]


@pytest.mark.interpret
def test_kernel_fp32_honours_highest_matmul_precision(triton_mode):
    previous = torch.get_float32_matmul_precision()
    try:
        torch.set_float32_matmul_precision("highest")
        assert fl._input_precision(torch.float32) == "ieee"
        torch.set_float32_matmul_precision("high")
        assert fl._input_precision(torch.float32) == "tf32"
    finally:
        torch.set_float32_matmul_precision(previous)


@pytest.mark.interpret
def test_kernel_only_requested_grads_are_returned(triton_mode):
    x, w, b = _inputs((11, 13), 7, torch.float32)
    w.requires_grad_()
    fused_linear(x, w, b, activation="relu").sum().backward()
    assert x.grad is None and b.grad is None
    assert w.grad is not None and w.grad.shape == w.shape


@pytest.mark.interpret
@settings(max_examples=25, deadline=None, derandomize=True)
@given(
    m=st.integers(0, 70),
    k=st.integers(1, 70),
    n=st.integers(1, 70),
    activation=st.sampled_from(ACTIVATIONS),
    bias=st.booleans(),
)
def test_kernel_matches_float64_for_fuzzed_shapes(m, k, n, activation, bias):
    set_kernel_mode("triton")
    x, w, b = _inputs((m, k), n, torch.float32, bias=bias)
    _assert_matches_reference(x, w, b, activation, TOLERANCES[torch.float32])


# The interpreter accepts code that the GPU compiler rejects (a global that is not a
# tl.constexpr, for one; a float32 accumulator for float64 operands, for another), so the
# kernels are also compiled for Hopper here: Triton's bundled ptxas needs no GPU. It runs in
# a subprocess because under TRITON_INTERPRET=1 triton.jit builds interpreter functions,
# which cannot be compiled.
_COMPILE_FOR_HOPPER = """
import importlib, triton
from triton.backends.compiler import GPUTarget
from triton.compiler import ASTSource
fl = importlib.import_module("tritonlayers.kernels.fused_linear")

def compile_kernel(kernel, signature, constexprs):
    signature = {**signature, **{name: "constexpr" for name in constexprs}}
    source = ASTSource(fn=kernel, signature=signature, constexprs=constexprs)
    triton.compile(source, target=GPUTarget("cuda", 90, 32), options={"num_warps": 4})

ints = ["M", "N", "K", "stride_xm", "stride_xk", "stride_wk", "stride_wn"]
ints += ["M_BUCKET", "N_BUCKET", "K_BUCKET"]
fwd = dict.fromkeys(["x_ptr", "w_ptr", "b_ptr", "y_ptr", "z_ptr"], "*fp16")
fwd.update(dict.fromkeys(ints, "i32"))
bwd = {"dy_ptr": "*fp16", "s_ptr": "*fp16", "dz_ptr": "*fp16", "db_partial_ptr": "*fp32"}
bwd.update(dict.fromkeys(["M", "N", "stride_dym", "stride_dyn"], "i32"))
for act in ["linear", *fl._GRAD_FROM_OUTPUT, *fl._GRAD_FROM_PREACT]:
    flags = {"HAS_BIAS": True, "ACTIVATION": act}
    compile_kernel(fl._fused_linear_fwd_kernel, fwd, {**flags, "SAVE_PREACT": True,
        "INPUT_PRECISION": "tf32", "BLOCK_M": 32, "BLOCK_N": 32, "BLOCK_K": 32, "GROUP_M": 2})
    if act != "linear":
        compile_kernel(fl._fused_linear_bwd_dz_kernel, bwd, {**flags, "BLOCK_M": 32, "BLOCK_N": 32})

# The elementwise kernels, in every dtype they take; the seed as a pointer, and as an int once.
dropout = importlib.import_module("tritonlayers.kernels.dropout")
sampling = importlib.import_module("tritonlayers.kernels.sampling")
fill = importlib.import_module("tritonlayers.kernels.random_fill")
philox = {"n_elements": "i64", "seed_ptr": "*i64", "seed_int": "i64", "offset": "i64"}
for t, from_ptr in [("fp32", True), ("fp16", True), ("bf16", True), ("fp64", True),
                    ("fp32", False)]:
    meta = {"SEED_FROM_PTR": from_ptr, "BLOCK_SIZE": 1024}
    compile_kernel(dropout._dropout_kernel, {"x_ptr": f"*{t}", "out_ptr": f"*{t}", **philox,
        "threshold": "i64", "scale": "fp32"}, meta)
    for with_kl in (True, False):
        partial = "*fp64" if t == "fp64" else "*fp32"
        compile_kernel(sampling._reparameterize_fwd_kernel, {"mean_ptr": f"*{t}",
            "log_var_ptr": f"*{t}", "z_ptr": f"*{t}", "kl_partial_ptr": partial, **philox},
            {**meta, "WITH_KL": with_kl})
        bwd_ptrs = ["grad_z_ptr", "mean_ptr", "log_var_ptr", "grad_kl_ptr", "grad_mean_ptr"]
        compile_kernel(sampling._reparameterize_bwd_kernel, {
            **dict.fromkeys([*bwd_ptrs, "grad_log_var_ptr"], f"*{t}"), **philox},
            {**meta, "WITH_KL": with_kl})
for distribution, out in [("bits", "*i64"), ("uniform", "*fp32"), ("normal", "*fp32")]:
    compile_kernel(fill._random_fill_kernel, {"out_ptr": out, **philox}, {"SEED_FROM_PTR": True,
        "DISTRIBUTION": fill.DISTRIBUTIONS[distribution], "BLOCK_SIZE": 1024})
print("compiled")
"""


@pytest.mark.skipif(
    not hasattr(triton.backends, "backends") or "nvidia" not in triton.backends.backends,
    reason="Triton's NVIDIA backend is not installed",
)
def test_kernels_compile_for_hopper_without_a_gpu():
    env = {k: v for k, v in os.environ.items() if k != "TRITON_INTERPRET"}
    env["PYTHONPATH"] = os.pathsep.join([str(Path(__file__).parents[1]), env.get("PYTHONPATH", "")])
    result = subprocess.run(
        [sys.executable, "-c", _COMPILE_FOR_HOPPER], env=env, capture_output=True, text=True
    )
    assert result.returncode == 0 and "compiled" in result.stdout, result.stderr[-3000:]


# ---------------------------------------------------------------------------------------------
# Torch path (the CPU fallback)
# ---------------------------------------------------------------------------------------------

FORMULAS = {
    None: lambda z: z,
    "relu": lambda z: z.clamp_min(0),
    "leaky_relu": lambda z: torch.where(z > 0, z, 0.2 * z),
    "gelu": lambda z: 0.5 * z * (1 + torch.erf(z / math.sqrt(2))),
    "gelu_tanh": lambda z: (
        0.5 * z * (1 + torch.tanh(math.sqrt(2 / math.pi) * (z + 0.044715 * z**3)))
    ),
    "silu": lambda z: z / (1 + torch.exp(-z)),
    "sigmoid": lambda z: 1 / (1 + torch.exp(-z)),
    "tanh": torch.tanh,
    "softplus": lambda z: torch.log1p(torch.exp(z)),
}


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_torch_path_matches_activation_formula(activation):
    set_kernel_mode("torch")
    x, w, b = _inputs((5, 2, 6), 4, torch.float64)
    expected = FORMULAS[activation](x @ w + b)
    torch.testing.assert_close(fused_linear(x, w, b, activation=activation), expected)


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_torch_path_passes_gradcheck_in_float64(activation):
    set_kernel_mode("torch")
    x, w, b = [t.requires_grad_() for t in _inputs((3, 5), 4, torch.float64)]
    assert torch.autograd.gradcheck(lambda *a: fused_linear(*a, activation=activation), (x, w, b))


def test_auto_mode_on_cpu_uses_torch_addmm():
    x, w, b = _inputs((4, 3), 2, torch.float32)
    x.requires_grad_()
    y = fused_linear(x, w, b, activation="relu")
    assert type(y.grad_fn).__name__ == "ReluBackward0"
    assert type(y.grad_fn.next_functions[0][0]).__name__ == "AddmmBackward0"


def _config_shapes(configs):
    return [(c.kwargs["BLOCK_M"], c.kwargs["BLOCK_N"]) for c in configs]


def test_autotune_pruning_drops_configs_over_shared_memory(monkeypatch):
    monkeypatch.setattr(fl, "_shared_memory_limit", lambda device: 227 * 1024)  # H100
    fp32 = {"x_ptr": torch.empty(1, dtype=torch.float32), "M_BUCKET": 8192}
    bf16 = {"x_ptr": torch.empty(1, dtype=torch.bfloat16), "M_BUCKET": 8192}
    assert (128, 256) not in _config_shapes(fl._prune_configs(fl._FWD_CONFIGS, fp32))
    assert _config_shapes(fl._prune_configs(fl._FWD_CONFIGS, bf16)) == _config_shapes(
        fl._FWD_CONFIGS
    )


def test_autotune_pruning_drops_tiles_taller_than_the_batch():
    args = {"x_ptr": torch.empty(1), "M_BUCKET": 64}
    assert {m for m, _ in _config_shapes(fl._prune_configs(fl._FWD_CONFIGS, args))} == {32, 64}
    args["M_BUCKET"] = 16  # no config is that short: keep them all
    assert fl._prune_configs(fl._FWD_CONFIGS, args) == fl._FWD_CONFIGS


# ---------------------------------------------------------------------------------------------
# Measured dispatch table
# ---------------------------------------------------------------------------------------------


def test_dispatch_table_absent_means_no_entries(tmp_path):
    assert fl._read_dispatch_table(tmp_path / "missing.json") == frozenset()


def test_dispatch_table_entries_are_read_as_bucket_keys(tmp_path):
    path = tmp_path / "table.json"
    entry = {"device": "GPU X", "dtype": "float16", "m": 8192, "n": 1024, "k": 1024}
    path.write_text(json.dumps({"entries": [entry]}))
    assert fl._read_dispatch_table(path) == {("GPU X", "float16", 8192, 1024, 1024)}


def test_dispatch_table_malformed_raises_naming_file(tmp_path):
    path = tmp_path / "table.json"
    path.write_text(json.dumps({"entries": [{"device": "GPU X"}]}))
    with pytest.raises(ValueError, match="dispatch table .*table.json is malformed"):
        fl._read_dispatch_table(path)


def test_dispatch_table_sends_listed_bucket_to_torch(monkeypatch):
    monkeypatch.setattr(fl, "_DISPATCH_TABLE", frozenset({("GPU X", "float32", 8192, 1024, 1024)}))
    monkeypatch.setattr(fl, "_device_name", lambda device: "GPU X")
    w = torch.empty(784, 1000)
    assert fl._torch_is_faster(torch.empty(5000, 784), w)
    assert not fl._torch_is_faster(torch.empty(64, 784), w)
    set_kernel_mode("triton")  # forcing Triton ignores the table
    assert not fl._torch_is_faster(torch.empty(5000, 784), w)


@pytest.fixture(scope="module")
def summarize():
    """``benchmarks/summarize.py`` as a module (the script runs without the package)."""
    spec = importlib.util.spec_from_file_location(
        "summarize", Path(__file__).parents[1] / "benchmarks" / "summarize.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_benchmark_summary_proposes_table_entries_fused_linear_reads(summarize, tmp_path):

    def bench(impl, seconds):
        info = {"op": "fused_linear", "pass": "fwd+bwd", "impl": impl, "shape": "8192x784x64"}
        info.update(dtype="bfloat16", calls_per_round=10)
        return {"extra_info": info, "stats": {"median": 10 * seconds}}

    data = {
        "machine_info": {"device_name": "GPU X"},
        "benchmarks": [bench("tritonlayers", 2e-5), bench("torch_eager", 1e-5)],
    }
    markdown, proposal = summarize.report(data)
    assert "| fused_linear | fwd+bwd | 8192x784x64 | bfloat16 | 20.0 | 10.0 |  | 0.50 |" in markdown
    path = tmp_path / "table.json"
    path.write_text(json.dumps(proposal))
    assert fl._read_dispatch_table(path) == {("GPU X", "bfloat16", 8192, 64, 1024)}


def test_benchmark_summary_reports_device_time_apart_and_keeps_it_out_of_dispatch(summarize):

    def bench(impl, seconds, timing):
        info = {"op": "fused_linear", "pass": "fwd+bwd", "impl": impl, "shape": "64x784x512"}
        info.update(dtype="float32", calls_per_round=1, timing=timing)
        return {"extra_info": info, "stats": {"median": seconds}}

    data = {
        "machine_info": {"device_name": "GPU X"},
        "benchmarks": [
            bench("tritonlayers", 4e-5, "wall"),
            bench("torch_eager", 2e-5, "wall"),
            bench("tritonlayers", 1e-5, "graph"),
            bench("torch_eager", 2e-5, "graph"),
        ],
    }
    markdown, proposal = summarize.report(data)
    wall, graph = markdown.split("## Wall-clock time")[1].split("## Device time")
    assert "| 64x784x512 | float32 | 40.0 | 20.0 |  | 0.50 |" in wall
    assert "| 64x784x512 | float32 | 10.0 | 20.0 |  | 2.00 |" in graph.split("## Targets")[0]
    assert "0.50× (target ≥ 1.2×): **FAIL**" in markdown
    assert "2.00× (target ≥ 1.2×): **PASS**" in markdown
    assert [e["m"] for e in proposal["entries"]] == [64]


def test_committed_dispatch_table_is_well_formed():
    assert isinstance(fl._read_dispatch_table(fl._DEFAULT_DISPATCH_TABLE), frozenset)


# ---------------------------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------------------------


def test_shape_mismatch_names_both_shapes():
    with pytest.raises(ValueError, match=r"x \(4, 3\) and weight \(5, 2\)"):
        fused_linear(torch.ones(4, 3), torch.ones(5, 2))


def test_bias_of_wrong_shape_is_rejected():
    with pytest.raises(ValueError, match=r"bias of shape \(out,\) = \(2,\).*received bias \(3,\)"):
        fused_linear(torch.ones(4, 3), torch.ones(3, 2), torch.ones(3))


def test_integer_inputs_are_rejected():
    with pytest.raises(TypeError, match="floating-point tensors; received x of dtype torch.int64"):
        fused_linear(torch.ones(4, 3, dtype=torch.int64), torch.ones(3, 2))


def test_mixed_dtypes_are_rejected():
    with pytest.raises(TypeError, match="x torch.float32, weight torch.float16"):
        fused_linear(torch.ones(4, 3), torch.ones(3, 2, dtype=torch.float16))


def test_inputs_on_different_devices_are_rejected():
    with pytest.raises(ValueError, match="x on cpu, weight on meta"):
        fused_linear(torch.ones(4, 3), torch.ones(3, 2, device="meta"))


def test_unknown_activation_lists_valid_ones():
    with pytest.raises(ValueError, match="unknown activation 'swish'.*None, 'linear', 'relu'"):
        fused_linear(torch.ones(4, 3), torch.ones(3, 2), activation="swish")


# ---------------------------------------------------------------------------------------------
# GPU parity (compiled Triton, autotuned)
# ---------------------------------------------------------------------------------------------

GPU_CASES = [
    pytest.param(torch.float32, "highest", "gelu", 1e-4, id="fp32-highest"),
    pytest.param(torch.float32, "high", "relu", 2e-2, id="fp32-tf32"),
    pytest.param(torch.float16, "highest", "gelu_tanh", 2e-2, id="fp16"),
    pytest.param(torch.bfloat16, "highest", "silu", 6e-2, id="bf16"),
]


@pytest.mark.gpu
@pytest.mark.parametrize(("dtype", "precision", "activation", "tol"), GPU_CASES)
def test_gpu_kernel_matches_float64(triton_mode, dtype, precision, activation, tol):
    previous = torch.get_float32_matmul_precision()
    torch.set_float32_matmul_precision(precision)
    try:
        x, w, b = _inputs((3, 171, 784), 300, dtype, device="cuda")
        _assert_matches_reference(x, w, b, activation, {"atol": tol, "rtol": tol})
    finally:
        torch.set_float32_matmul_precision(previous)


@pytest.mark.gpu
def test_gpu_empty_batch_gives_empty_output(triton_mode):
    _, w, b = _inputs((1, 784), 64, torch.float16, device="cuda")
    y = fused_linear(torch.empty(0, 784, device="cuda", dtype=torch.float16), w, b, "relu")
    assert y.shape == (0, 64)


@pytest.mark.gpu
def test_gpu_auto_mode_uses_triton_kernel():
    # The fp32-highest gelu case's shapes and flags, so it reuses that compiled kernel.
    previous = torch.get_float32_matmul_precision()
    torch.set_float32_matmul_precision("highest")
    try:
        x, w, b = _inputs((171, 784), 300, torch.float32, device="cuda")
        y = fused_linear(x.requires_grad_(), w, b, activation="gelu")
        assert type(y.grad_fn).__name__ == "_FusedLinearFunctionBackward"
        torch.testing.assert_close(y, F.gelu(x @ w + b), atol=1e-4, rtol=1e-4)
    finally:
        torch.set_float32_matmul_precision(previous)


@pytest.mark.gpu
def test_gpu_torch_compile_traces_into_the_kernels_and_matches_eager(triton_mode):
    # Inductor sees the triton_op's kernels through wrap_triton, the path a compiled training
    # step takes; forward and gradients must equal the eager kernels'.
    x, w, b = [t.requires_grad_() for t in _inputs((171, 784), 300, torch.float16, device="cuda")]
    compiled = torch.compile(lambda *a: fused_linear(*a, activation="gelu_tanh"), fullgraph=True)
    y = compiled(x, w, b)
    grads = torch.autograd.grad(y.float().square().sum(), (x, w, b))
    y_eager = fused_linear(x, w, b, activation="gelu_tanh")
    eager_grads = torch.autograd.grad(y_eager.float().square().sum(), (x, w, b))
    torch.testing.assert_close(y, y_eager, **TOLERANCES[torch.float16])
    for got, want in zip(grads, eager_grads):
        _assert_close(got, want.double(), TOLERANCES[torch.float16], "gradient")
