"""Optimizers against Keras 3's published update rules, written out in float64 numpy."""

import math

import numpy as np
import pytest
import torch

from tritonlayers import optimizers
from tritonlayers.layers.variables import Variable
from tritonlayers.optimizers import schedules

RNG = np.random.default_rng(7)
W0 = RNG.standard_normal((3, 4))
GRADS = [RNG.standard_normal((3, 4)) * scale for scale in (1.0, 0.01, 3.0, 0.5, 2.0)]


def _numpy_sgd(lr=0.01, momentum=0.0, nesterov=False):
    def update(w, g, state, t):
        if not momentum:
            return w - lr * g
        m = momentum * state.get("m", 0.0) - lr * g
        state["m"] = m
        return w + (momentum * m - lr * g if nesterov else m)

    return update


def _numpy_adam(lr=0.001, b1=0.9, b2=0.999, eps=1e-7, amsgrad=False, wd=None):
    def update(w, g, state, t):
        if wd:
            w = w - w * wd * lr
        m = state["m"] = b1 * state.get("m", 0.0) + (1 - b1) * g
        v = state["v"] = b2 * state.get("v", 0.0) + (1 - b2) * g * g
        if amsgrad:
            v = state["v_hat"] = np.maximum(state.get("v_hat", 0.0), v)
        alpha = lr * math.sqrt(1 - b2**t) / (1 - b1**t)
        return w - alpha * m / (np.sqrt(v) + eps)

    return update


def _numpy_rmsprop(lr=0.001, rho=0.9, momentum=0.0, eps=1e-7, centered=False):
    def update(w, g, state, t):
        v = state["v"] = rho * state.get("v", 0.0) + (1 - rho) * g * g
        denominator = v + eps
        if centered:
            a = state["a"] = rho * state.get("a", 0.0) + (1 - rho) * g
            denominator = v - a * a + eps
        increment = lr * g / np.sqrt(denominator)
        if momentum:
            increment = state["mom"] = momentum * state.get("mom", 0.0) + increment
        return w - increment

    return update


def _numpy_adagrad(lr=0.001, initial=0.1, eps=1e-7):
    def update(w, g, state, t):
        acc = state["acc"] = state.get("acc", initial) + g * g
        return w - lr * g / np.sqrt(acc + eps)

    return update


def _numpy_adamax(lr=0.001, b1=0.9, b2=0.999, eps=1e-7):
    def update(w, g, state, t):
        m = state["m"] = b1 * state.get("m", 0.0) + (1 - b1) * g
        u = state["u"] = np.maximum(b2 * state.get("u", 0.0), np.abs(g))
        return w - lr * m / ((1 - b1**t) * (u + eps))

    return update


def _numpy_nadam(lr=0.001, b1=0.9, b2=0.999, eps=1e-7):
    def update(w, g, state, t):
        u_t = b1 * (1 - 0.5 * 0.96**t)
        u_next = b1 * (1 - 0.5 * 0.96 ** (t + 1))
        product = state["product"] = state.get("product", 1.0) * u_t
        m = state["m"] = b1 * state.get("m", 0.0) + (1 - b1) * g
        v = state["v"] = b2 * state.get("v", 0.0) + (1 - b2) * g * g
        m_hat = u_next * m / (1 - product * u_next) + (1 - u_t) * g / (1 - product)
        v_hat = v / (1 - b2**t)
        return w - lr * m_hat / (np.sqrt(v_hat) + eps)

    return update


def _numpy_lion(lr=0.001, b1=0.9, b2=0.99):
    def update(w, g, state, t):
        m = state.get("m", 0.0)
        w = w - lr * np.sign(b1 * m + (1 - b1) * g)
        state["m"] = b2 * m + (1 - b2) * g
        return w

    return update


def _run_numpy(update, grads=GRADS):
    w, state = W0.copy(), {}
    for t, g in enumerate(grads, start=1):
        w = update(w, g, state, t)
    return w


def _run_optimizer(optimizer, grads=GRADS):
    w = Variable(torch.tensor(W0, dtype=torch.float32), name="w")
    for g in grads:
        optimizer.apply([torch.tensor(g, dtype=torch.float32)], [w])
    return w.detach().cpu().numpy()


@pytest.mark.parametrize(
    ("optimizer", "reference"),
    [
        (lambda: optimizers.SGD(), _numpy_sgd()),
        (lambda: optimizers.SGD(0.1, momentum=0.9), _numpy_sgd(0.1, 0.9)),
        (lambda: optimizers.SGD(0.1, momentum=0.9, nesterov=True), _numpy_sgd(0.1, 0.9, True)),
        (lambda: optimizers.Adam(), _numpy_adam()),
        (lambda: optimizers.Adam(0.01, amsgrad=True), _numpy_adam(0.01, amsgrad=True)),
        (lambda: optimizers.AdamW(0.01), _numpy_adam(0.01, wd=0.004)),
        (lambda: optimizers.RMSprop(), _numpy_rmsprop()),
        (
            lambda: optimizers.RMSprop(0.01, momentum=0.5, centered=True),
            _numpy_rmsprop(0.01, momentum=0.5, centered=True),
        ),
        (lambda: optimizers.Adagrad(0.1), _numpy_adagrad(0.1)),
        (lambda: optimizers.Adamax(0.1), _numpy_adamax(0.1)),
        (lambda: optimizers.Nadam(0.1), _numpy_nadam(0.1)),
        (lambda: optimizers.Lion(0.1), _numpy_lion(0.1)),
    ],
    ids=[
        "sgd",
        "sgd_momentum",
        "sgd_nesterov",
        "adam",
        "adam_amsgrad",
        "adamw",
        "rmsprop",
        "rmsprop_centered_momentum",
        "adagrad",
        "adamax",
        "nadam",
        "lion",
    ],
)
def test_five_steps_match_keras_update_rule(optimizer, reference):
    # float32 state vs float64 reference: a few ulps of drift over five steps.
    np.testing.assert_allclose(_run_optimizer(optimizer()), _run_numpy(reference), 1e-5, 1e-5)


@pytest.mark.parametrize(
    ("optimizer", "reference"),
    [
        (lambda: optimizers.Adam(), _numpy_adam()),
        (lambda: optimizers.Adam(0.01, amsgrad=True), _numpy_adam(0.01, amsgrad=True)),
        (lambda: optimizers.AdamW(0.01), _numpy_adam(0.01, wd=0.004)),
    ],
    ids=["adam", "adam_amsgrad", "adamw"],
)
def test_fused_kernel_path_matches_keras_update_rule(optimizer, reference):
    # The path CUDA takes: torch's fused Adam with Keras's epsilon moved inside the correction.
    fused = optimizer()
    fused._fused_policy = "always"
    np.testing.assert_allclose(_run_optimizer(fused), _run_numpy(reference), 1e-5, 1e-5)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("adam", {"beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7, "learning_rate": 0.001}),
        ("rmsprop", {"rho": 0.9, "epsilon": 1e-7, "momentum": 0.0, "learning_rate": 0.001}),
        ("adagrad", {"initial_accumulator_value": 0.1, "epsilon": 1e-7}),
        ("sgd", {"learning_rate": 0.01, "momentum": 0.0, "nesterov": False}),
        ("lion", {"beta_1": 0.9, "beta_2": 0.99}),
        ("adamw", {"weight_decay": 0.004}),
    ],
)
def test_keras_default_hyperparameters(name, expected):
    config = optimizers.get(name).get_config()
    for key, value in expected.items():
        assert config[key] == pytest.approx(value, rel=1e-6), key


def test_step_uses_grad_attribute_then_clears_it():
    w = Variable(torch.tensor(W0, dtype=torch.float32), name="w")
    optimizer = optimizers.Adam()
    for g in GRADS:
        w.grad = torch.tensor(g, dtype=torch.float32, device=w.device)
        optimizer.step([w])
    assert w.grad is None
    np.testing.assert_allclose(w.detach().cpu().numpy(), _run_numpy(_numpy_adam()), 1e-5, 1e-6)


def test_step_skips_variables_without_gradient_but_counts_the_iteration():
    a = Variable(torch.ones(2), name="a")
    b = Variable(torch.ones(2), name="b")
    optimizer = optimizers.SGD(0.5)
    a.grad = torch.ones(2, device=a.device)
    optimizer.step([a, b])
    assert (a.detach().tolist(), b.detach().tolist()) == ([0.5, 0.5], [1.0, 1.0])
    assert int(optimizer.iterations) == 1


def test_iterations_is_a_device_int32_variable():
    # Keras 3.15's torch backend makes `iterations` int32 (dtype "int"); checked there.
    optimizer = optimizers.SGD()
    _run_optimizer(optimizer, GRADS[:3])
    assert optimizer.iterations.dtype == torch.int32
    assert int(optimizer.iterations) == 3


def test_exponential_decay_schedule_drives_sgd_rate():
    schedule = schedules.ExponentialDecay(0.1, decay_steps=2, decay_rate=0.5)
    w = W0.copy()
    for step, g in enumerate(GRADS):
        w = w - 0.1 * 0.5 ** (step / 2) * g
    np.testing.assert_allclose(_run_optimizer(optimizers.SGD(schedule)), w, 1e-5, 1e-6)


@pytest.mark.parametrize(
    ("schedule", "formula"),
    [
        (
            schedules.ExponentialDecay(0.1, 3, 0.5, staircase=True),
            lambda s: 0.1 * 0.5 ** math.floor(s / 3),
        ),
        (schedules.InverseTimeDecay(0.1, 2, 0.5), lambda s: 0.1 / (1 + 0.5 * s / 2)),
        (
            schedules.PiecewiseConstantDecay([2, 5], [1.0, 0.5, 0.1]),
            lambda s: 1.0 if s <= 2 else 0.5 if s <= 5 else 0.1,
        ),
        (
            schedules.PolynomialDecay(1.0, 4, end_learning_rate=0.1, power=2.0),
            lambda s: 0.9 * (1 - min(s, 4) / 4) ** 2 + 0.1,
        ),
        (
            schedules.CosineDecay(1.0, 4, alpha=0.1),
            lambda s: 0.9 * 0.5 * (1 + math.cos(math.pi * min(s, 4) / 4)) + 0.1,
        ),
        (
            schedules.CosineDecay(0.0, 4, warmup_target=1.0, warmup_steps=2),
            lambda s: s / 2 if s < 2 else 0.5 * (1 + math.cos(math.pi * min(s - 2, 4) / 4)),
        ),
        (
            schedules.CosineDecayRestarts(1.0, 2, t_mul=1.0),
            lambda s: 0.5 * (1 + math.cos(math.pi * (s / 2 - math.floor(s / 2)))),
        ),
    ],
    ids=["exponential", "inverse_time", "piecewise", "polynomial", "cosine", "warmup", "sgdr"],
)
def test_schedule_matches_keras_formula(schedule, formula):
    steps = torch.arange(8)
    got = [float(schedule(step)) for step in steps]
    np.testing.assert_allclose(got, [formula(s) for s in range(8)], 1e-6, 1e-7)


def test_clipnorm_scales_each_gradient_to_the_norm():
    g = np.array([3.0, 4.0])
    w = Variable(torch.zeros(2), name="w")
    optimizers.SGD(1.0, clipnorm=1.0).apply([torch.tensor(g)], [w])
    np.testing.assert_allclose(w.detach().cpu().numpy(), -g / 5.0, 1e-6)


def test_global_clipnorm_scales_all_gradients_together():
    a, b = Variable(torch.zeros(1), name="a"), Variable(torch.zeros(1), name="b")
    optimizers.SGD(1.0, global_clipnorm=1.0).apply(
        [torch.tensor([3.0]), torch.tensor([4.0])], [a, b]
    )
    np.testing.assert_allclose([float(a.detach()), float(b.detach())], [-0.6, -0.8], 1e-6)


def test_clipvalue_clamps_elements():
    w = Variable(torch.zeros(3), name="w")
    optimizers.SGD(1.0, clipvalue=0.5).apply([torch.tensor([-2.0, 0.1, 3.0])], [w])
    np.testing.assert_allclose(w.detach().cpu().numpy(), [0.5, -0.1, -0.5], 1e-6)


def test_clipnorm_and_global_clipnorm_are_exclusive():
    with pytest.raises(
        ValueError, match="Only one of `clipnorm`, `clipvalue` and `global_clipnorm`"
    ):
        optimizers.SGD(clipnorm=1.0, global_clipnorm=1.0)


def test_weight_decay_skips_excluded_variable_names():
    kernel = Variable(torch.ones(1), name="kernel")
    bias = Variable(torch.ones(1), name="bias")
    optimizer = optimizers.SGD(0.1, weight_decay=0.5)
    optimizer.exclude_from_weight_decay(var_names=["bias"])
    optimizer.apply([torch.zeros(1), torch.zeros(1)], [kernel, bias])
    assert (float(kernel.detach()), float(bias.detach())) == pytest.approx((0.95, 1.0))


def test_constraint_is_applied_after_the_update():
    w = Variable(torch.zeros(2), name="w")
    w.constraint = lambda value: torch.clamp(value, min=0.0)
    optimizers.SGD(1.0).apply([torch.tensor([1.0, -1.0])], [w])
    assert w.detach().tolist() == [0.0, 1.0]


def test_learning_rate_setter_changes_the_next_update():
    optimizer = optimizers.SGD(0.1)
    optimizer.learning_rate = 0.5
    assert float(optimizer.learning_rate) == 0.5
    w = Variable(torch.zeros(1), name="w")
    optimizer.apply([torch.ones(1)], [w])
    assert float(w.detach()) == pytest.approx(-0.5)


def test_learning_rate_of_a_schedule_is_not_settable():
    optimizer = optimizers.SGD(schedules.InverseTimeDecay(0.1, 1, 1.0))
    with pytest.raises(TypeError, match="learning rate is not settable"):
        optimizer.learning_rate = 0.5


def test_apply_rejects_variables_it_was_not_built_with():
    optimizer = optimizers.SGD()
    optimizer.apply([torch.ones(1)], [Variable(torch.zeros(1), name="a")])
    with pytest.raises(ValueError, match="Unknown variable"):
        optimizer.apply([torch.ones(1)], [Variable(torch.zeros(1), name="b")])


def test_state_dict_round_trip_resumes_identically():
    first = optimizers.Adam(0.01)
    w = Variable(torch.tensor(W0, dtype=torch.float32), name="w")
    for g in GRADS[:3]:
        first.apply([torch.tensor(g, dtype=torch.float32)], [w])
    clone_w = Variable(w.detach().clone(), name="w")
    second = optimizers.Adam(0.01)
    second.build([clone_w])
    second.load_state_dict(first.state_dict())
    for g in GRADS[3:]:
        first.apply([torch.tensor(g, dtype=torch.float32)], [w])
        second.apply([torch.tensor(g, dtype=torch.float32)], [clone_w])
    np.testing.assert_array_equal(clone_w.detach().cpu().numpy(), w.detach().cpu().numpy())
    assert int(second.iterations) == 5


def test_load_state_dict_rejects_wrong_variable_count():
    optimizer = optimizers.Adam()
    optimizer.build([Variable(torch.zeros(2), name="w")])
    with pytest.raises(ValueError, match="has 4 variables but the state holds 2"):
        optimizer.load_state_dict({"0": torch.tensor(0), "1": torch.tensor(0.1)})


def test_variables_list_iterations_rate_then_slots():
    optimizer = optimizers.Adam()
    optimizer.build([Variable(torch.zeros(2), name="w")])
    shapes = [tuple(v.shape) for v in optimizer.variables]
    assert shapes == [(), (), (2,), (2,)]


def test_config_round_trip_with_schedule():
    schedule = schedules.CosineDecay(0.1, 100, alpha=0.2)
    optimizer = optimizers.AdamW(schedule, weight_decay=0.01, clipnorm=2.0)
    clone = optimizers.AdamW.from_config(optimizer.get_config())
    assert clone.get_config() == optimizer.get_config()
    assert float(clone.learning_rate) == pytest.approx(0.1)


def test_get_resolves_names_case_insensitively():
    assert isinstance(optimizers.get("Adam"), optimizers.Adam)
    assert isinstance(optimizers.get("sgd"), optimizers.SGD)
    with pytest.raises(ValueError, match="Could not interpret optimizer identifier"):
        optimizers.get("adamm")


def test_deserialize_keras_config_dict():
    optimizer = optimizers.deserialize(
        {"module": "keras.optimizers", "class_name": "RMSprop", "config": {"rho": 0.8}}
    )
    assert (type(optimizer), optimizer.rho) == (optimizers.RMSprop, 0.8)


@pytest.mark.gpu
@pytest.mark.parametrize("name", ["sgd", "adam", "adamw", "rmsprop", "adagrad", "nadam", "lion"])
def test_cuda_step_never_syncs_and_matches_cpu(name):
    def make():
        schedule = schedules.ExponentialDecay(0.01, decay_steps=2, decay_rate=0.5)
        return optimizers.ALL_OBJECTS_DICT[name](learning_rate=schedule, global_clipnorm=1.0)

    cpu_w = Variable(torch.tensor(W0, dtype=torch.float32), name="w", device="cpu")
    cuda_w = Variable(torch.tensor(W0, dtype=torch.float32), name="w", device="cuda")
    cpu_opt, cuda_opt = make(), make()
    grads = [torch.tensor(g, dtype=torch.float32) for g in GRADS]
    cpu_opt.apply([grads[0]], [cpu_w])
    cuda_opt.apply([grads[0].cuda()], [cuda_w])  # builds the state (allowed to copy)
    cuda_grads = [g.cuda() for g in grads[1:]]
    torch.cuda.synchronize()
    torch.cuda.set_sync_debug_mode("error")
    try:
        for g in cuda_grads:
            cuda_w.grad = g
            cuda_opt.step([cuda_w])
    finally:
        torch.cuda.set_sync_debug_mode("default")
    for g in grads[1:]:
        cpu_opt.apply([g], [cpu_w])
    np.testing.assert_allclose(
        cuda_w.detach().cpu().cpu().numpy(), cpu_w.detach().cpu().numpy(), 1e-5, 1e-6
    )


def test_serialize_round_trip_keeps_the_schedule():
    optimizer = optimizers.Adam(schedules.PiecewiseConstantDecay([2], [0.1, 0.01]), amsgrad=True)
    config = optimizers.serialize(optimizer)
    assert config["config"]["learning_rate"]["class_name"] == "PiecewiseConstantDecay"
    clone = optimizers.deserialize(config)
    assert clone.get_config() == optimizer.get_config()


@pytest.mark.parametrize("name", ["adam", "nadam", "rmsprop"])
def test_step_traces_into_one_torch_compile_graph(name):
    import torch._dynamo

    params = [Variable(torch.randn(4, 3), name="a"), Variable(torch.randn(3), name="b")]
    optimizer = optimizers.ALL_OBJECTS_DICT[name](
        schedules.ExponentialDecay(0.01, 10, 0.9), global_clipnorm=1.0, weight_decay=0.01
    )

    def step():
        for p in params:
            p.grad = torch.ones_like(p)
        optimizer.step(params)

    step()
    explanation = torch._dynamo.explain(step)()
    assert (explanation.graph_count, explanation.graph_break_count) == (1, 0)


def test_ema_keeps_moving_average_and_finalize_copies_it():
    optimizer = optimizers.SGD(0.1, use_ema=True, ema_momentum=0.9)
    final = _run_optimizer(optimizer)
    w, average = W0.copy(), None
    for g in GRADS:
        w = w - 0.1 * g
        average = w if average is None else 0.9 * average + 0.1 * w
    np.testing.assert_allclose(final, w, 1e-5, 1e-6)
    variable = optimizer._trainable_variables[0]
    optimizer.finalize_variable_values([variable])
    np.testing.assert_allclose(variable.detach().cpu().numpy(), average, 1e-5, 1e-6)


def test_ema_overwrite_frequency_copies_average_into_variables():
    optimizer = optimizers.SGD(1.0, use_ema=True, ema_momentum=0.5, ema_overwrite_frequency=2)
    w = Variable(torch.zeros(1), name="w")
    for _ in range(2):
        optimizer.apply([torch.ones(1)], [w])
    # w: -1 then -2; average: -1 then 0.5 * -1 + 0.5 * -2, copied into w at the 2nd step.
    assert float(w.detach()) == pytest.approx(-1.5)


def test_gradient_accumulation_updates_with_mean_gradient_every_n_calls():
    final = _run_optimizer(optimizers.Adam(0.01, gradient_accumulation_steps=2), GRADS[:4])
    means = [(GRADS[0] + GRADS[1]) / 2, (GRADS[2] + GRADS[3]) / 2]
    np.testing.assert_allclose(final, _run_numpy(_numpy_adam(0.01), means), 1e-5, 1e-5)


def test_gradient_accumulation_steps_must_be_at_least_two():
    with pytest.raises(ValueError, match="must be an integer >= 2"):
        optimizers.SGD(gradient_accumulation_steps=1)


def test_compiled_step_is_traced_once_for_many_steps():
    import torch._dynamo
    from torch._dynamo.utils import counters

    params = [Variable(torch.randn(4, 3), name="a")]
    optimizer = optimizers.Adam(schedules.ExponentialDecay(0.01, 10, 0.9), clipnorm=1.0)

    def step():
        params[0].grad = torch.ones_like(params[0])
        optimizer.step(params)

    step()
    torch._dynamo.reset()
    counters.clear()
    compiled = torch.compile(step, backend="eager")
    for _ in range(4):
        compiled()
    assert counters["stats"]["unique_graphs"] == 1
    assert int(optimizer.iterations) == 5


def test_build_twice_keeps_one_set_of_state():
    optimizer = optimizers.Adam()
    variables = [Variable(torch.zeros(2), name="w")]
    optimizer.build(variables)
    optimizer.build(variables)
    assert len(optimizer.variables) == 4


def test_get_finds_registered_custom_optimizers_by_name():
    from tritonlayers import saving

    @saving.register_keras_serializable(package="TrainTest")
    class HalfSGD(optimizers.SGD):
        pass

    assert type(optimizers.get("TrainTest>HalfSGD")) is HalfSGD


def test_cpu_state_never_decays_into_subnormals_and_updates_are_unchanged(monkeypatch):
    from tritonlayers.optimizers import base

    def train(flush_every):
        monkeypatch.setattr(base, "_FLUSH_EVERY", flush_every)
        w = Variable(torch.ones(3), name="w")
        optimizer = optimizers.Adam(0.01)
        optimizer.apply([torch.tensor([1.0, 1e-3, 0.0])], [w])
        for _ in range(1000):  # a dead unit: zero gradients, so the moments only decay
            optimizer.apply([torch.zeros(3)], [w])
        return w.detach().clone(), torch.cat([v.detach().flatten() for v in optimizer.variables])

    flushed, flushed_state = train(128)
    plain, plain_state = train(10**9)
    subnormal = lambda t: ((t != 0) & (t.abs() < torch.finfo(torch.float32).tiny)).sum()
    assert subnormal(plain_state) > 0 and subnormal(flushed_state) == 0
    assert torch.equal(flushed, plain)


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda: optimizers.Adam(), False),
        (lambda: optimizers.Adam(use_ema=True), False),
        (lambda: optimizers.Adam(use_ema=True, ema_overwrite_frequency=3), True),
        (lambda: optimizers.SGD(gradient_accumulation_steps=2), True),
        (lambda: optimizers.LossScaleOptimizer(optimizers.SGD()), True),
    ],
)
def test_updates_that_count_steps_on_the_host_keep_fit_out_of_cuda_graphs(make, expected):
    # A CUDA-graph replay repeats the captured step: accumulate-or-apply and EMA overwrites
    # decided from the host counter would be frozen at the captured step.
    assert make().reads_host_each_step is expected


def test_adam_leaves_its_fused_kernel_while_a_cuda_graph_is_captured(monkeypatch):
    # The fused kernel takes epsilon / sqrt(1 - beta_2**t) as a host number: a replay would
    # keep t of the captured step. The foreach path reads t from the device.
    import types

    adam = optimizers.Adam()
    cuda_tensor = types.SimpleNamespace(is_cuda=True, device=torch.device("cuda"))
    monkeypatch.setattr(torch.cuda, "is_current_stream_capturing", lambda: False)
    assert adam._use_fused(cuda_tensor)
    monkeypatch.setattr(torch.cuda, "is_current_stream_capturing", lambda: True)
    assert not adam._use_fused(cuda_tensor)
    assert adam._use_fused(torch.zeros(1))
