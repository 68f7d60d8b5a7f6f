"""Muon and ScheduleFreeAdamW against Keras 3.15's update rules in float64 numpy.

The Muon reference below was checked against `keras.optimizers.Muon` (Keras 3.15, torch
backend) on the same variables and gradients, six steps, five argument sets: at most 6e-7
absolute difference in float32, with the same AdamW/Muon routing of every variable.

The ScheduleFreeAdamW reference is the update as `schedule_free_adamw.py` writes it, with
`x` recovered from the momentum before the step; it matched Keras 3.15 to 1e-6 in float32
once Keras's `momentum.value` was snapshotted before its in-place update. Unpatched, Keras's
torch backend reads the updated momentum there (its `.value` aliases the slot), which
collapses the step to `y = (1-1/t)*y + z/t`; that differs from these numbers from step 2 on.
"""

import math

import numpy as np
import pytest
import torch

import tritonlayers as keras
from tritonlayers import optimizers
from tritonlayers.layers.variables import Variable
from tritonlayers.optimizers import schedules

RNG = np.random.default_rng(5)
# (name, shape, takes AdamW by default): a wide and a tall matrix and a second (3, 4) matrix
# (Muon, one of them orthogonalised in the same batch), an embedding matrix, a vector, a
# rank-3 tensor and a scalar (AdamW).
VARIABLES = [
    ("dense_kernel", (3, 4), False),
    ("tall_kernel", (6, 2), False),
    ("dense_1_kernel", (3, 4), False),
    ("token_embedding", (5, 3), True),
    ("dense_bias", (4,), True),
    ("conv_kernel", (2, 3, 4), True),
    ("scale", (), True),
]
NAMES = [name for name, _, _ in VARIABLES]
W0 = [RNG.standard_normal(shape) for _, shape, _ in VARIABLES]
GRADS = [
    [RNG.standard_normal(shape) * scale for _, shape, _ in VARIABLES]
    for scale in (1.0, 0.01, 3.0, 0.5)
]
DEFAULT_ROUTES = [adamw for _, _, adamw in VARIABLES]


def _float32(value):
    # The learning rate is a float32 Variable, in Keras as here.
    return float(np.float32(value))


def _base_decay(w, wd, lr):
    # The base class computes the decay factor `1 - wd * lr` in the rate's float32.
    return w * float(np.float32(1) - np.float32(wd) * np.float32(lr))


def _numpy_newton_schulz(x, steps, a=3.4445, b=-4.7750, c=2.0315):
    tall = x.shape[0] > x.shape[1]
    if tall:
        x = x.T
    x = x / (np.linalg.norm(x) + 1e-7)
    for _ in range(steps):
        gram = x @ x.T
        x = a * x + (b * gram + c * gram @ gram) @ x
    return x.T if tall else x


def _numpy_muon(
    routes,
    lr=0.001,
    b1=0.9,
    b2=0.999,
    adam_wd=0.004,
    eps=1e-7,
    wd=0.004,
    adam_lr_ratio=1.0,
    momentum=0.95,
    ns_steps=5,
    nesterov=True,
    rms_rate=0.2,
):
    lr = _float32(lr)

    def update(i, w, g, state, t):
        if routes[i]:
            if adam_wd is not None:
                w = w - w * adam_wd * lr
            m = state["m"] = b1 * state.get("m", 0.0) + (1 - b1) * g
            v = state["v"] = b2 * state.get("v", 0.0) + (1 - b2) * g * g
            alpha = lr * adam_lr_ratio * math.sqrt(1 - b2**t) / (1 - b1**t)
            return w - alpha * m / (np.sqrt(v) + eps)
        if wd:
            w = _base_decay(w, wd, lr)
        m = state["m"] = momentum * state.get("m", 0.0) + g
        u = _numpy_newton_schulz(g + momentum * m if nesterov else m, ns_steps)
        scale = math.sqrt(max(w.shape)) * rms_rate if rms_rate is not None else 1.0
        return w - lr * u * scale

    return update


def _numpy_schedule_free(lr=0.0025, b1=0.9, b2=0.999, eps=1e-8, warmup=0, wd=None):
    lr = _float32(lr)

    def update(i, w, g, state, t):
        z = state.get("z", w)  # the momentum slot starts at the variable's value
        if wd:
            w = _base_decay(w, wd, lr)
        rate = lr * min(t / warmup, 1.0) if warmup > 0 else lr
        x = (w - (1 - b1) * z) / b1
        v = state["v"] = b2 * state.get("v", 0.0) + (1 - b2) * g * g
        z = state["z"] = z - rate * g / (np.sqrt(v / (1 - b2**t)) + eps)
        x = (1 - 1 / t) * x + z / t
        return (1 - b1) * z + b1 * x

    return update


def _run_numpy(update):
    finals = []
    for i, w in enumerate(W0):
        state = {}
        for t, grads in enumerate(GRADS, start=1):
            w = update(i, w, grads[i], state, t)
        finals.append(w)
    return finals


def _make_variables(dtype):
    return [
        Variable(torch.tensor(w, dtype=dtype), dtype=dtype, name=name) for name, w in zip(NAMES, W0)
    ]


def _run_optimizer(optimizer, dtype):
    variables = _make_variables(dtype)
    for grads in GRADS:
        optimizer.apply([torch.tensor(g, dtype=dtype) for g in grads], variables)
    return [v.detach().cpu().numpy() for v in variables]


EXCLUDED_ROUTES = [True, False, False, False, True, True, True]

CASES = [
    ("muon", lambda: optimizers.Muon(), _numpy_muon(DEFAULT_ROUTES)),
    (
        "muon_plain_momentum",
        lambda: optimizers.Muon(
            0.05,
            nesterov=False,
            rms_rate=None,
            weight_decay=None,
            adam_weight_decay=0.1,
            adam_lr_ratio=0.5,
            momentum=0.9,
            ns_steps=3,
        ),
        _numpy_muon(
            DEFAULT_ROUTES,
            0.05,
            nesterov=False,
            rms_rate=None,
            wd=None,
            adam_wd=0.1,
            adam_lr_ratio=0.5,
            momentum=0.9,
            ns_steps=3,
        ),
    ),
    (
        "muon_excluded_layers",
        lambda: optimizers.Muon(
            0.02,
            exclude_layers=["^dense_k"],
            exclude_embeddings=False,
            weight_decay=0.05,
            adam_beta_1=0.8,
            epsilon=1e-5,
        ),
        _numpy_muon(EXCLUDED_ROUTES, 0.02, wd=0.05, b1=0.8, eps=1e-5),
    ),
    ("schedule_free", lambda: optimizers.ScheduleFreeAdamW(), _numpy_schedule_free()),
    (
        "schedule_free_warmup_decay",
        lambda: optimizers.ScheduleFreeAdamW(0.05, warmup_steps=3, weight_decay=0.01),
        _numpy_schedule_free(0.05, warmup=3, wd=0.01),
    ),
    (
        "schedule_free_half_beta",
        lambda: optimizers.ScheduleFreeAdamW(0.1, beta_1=0.5, beta_2=0.99, epsilon=1e-6),
        _numpy_schedule_free(0.1, b1=0.5, b2=0.99, eps=1e-6),
    ),
]


@pytest.mark.parametrize(
    ("optimizer", "reference"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_four_steps_match_keras_update_rule(optimizer, reference):
    # float64 variables: each variable's displacement agrees with the reference to rounding.
    expected = _run_numpy(reference)
    for got, want, w0 in zip(_run_optimizer(optimizer(), torch.float64), expected, W0):
        assert np.max(np.abs(want - w0)) > 1e-6
        np.testing.assert_allclose(got - w0, want - w0, rtol=1e-9, atol=1e-13)


@pytest.mark.parametrize(
    ("optimizer", "reference"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_float32_variables_follow_the_float64_rule(optimizer, reference):
    expected = _run_numpy(reference)
    for got, want in zip(_run_optimizer(optimizer(), torch.float32), expected):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_muon_routes_variables_to_adamw_as_keras_does():
    # Keras 3.15 routes these same names and shapes identically (checked on the torch backend).
    optimizer = optimizers.Muon(exclude_layers=["^dense_k"], exclude_embeddings=False)
    optimizer.build(_make_variables(torch.float32))
    assert optimizer._uses_adamw == EXCLUDED_ROUTES
    optimizer = optimizers.Muon()
    optimizer.build(_make_variables(torch.float32))
    assert optimizer._uses_adamw == DEFAULT_ROUTES


def test_muon_embedding_match_ignores_case():
    optimizer = optimizers.Muon()
    assert optimizer._should_use_adamw(Variable(torch.zeros(4, 2), name="Word_Embedding"))
    assert not optimizer._should_use_adamw(Variable(torch.zeros(4, 2), name="word_table"))


def test_muon_keeps_a_velocity_only_for_adamw_variables():
    optimizer = optimizers.Muon()
    optimizer.build(_make_variables(torch.float32))
    slot_names = [v.name for v in optimizer.variables[2:]]
    momenta = [f"{name}_momentum" for name in NAMES]
    velocities = [f"{name}_velocity" for name, _, adamw in VARIABLES if adamw]
    assert slot_names == momenta + velocities


def test_muon_decays_adamw_variables_by_adam_weight_decay():
    # Zero gradients move no variable, so only the decoupled decay is left: the matrix decays
    # by weight_decay, the vector by adam_weight_decay, both at the unscaled rate.
    matrix = Variable(torch.ones(2, 3, dtype=torch.float64), dtype="float64", name="kernel")
    vector = Variable(torch.ones(3, dtype=torch.float64), dtype="float64", name="bias")
    optimizer = optimizers.Muon(0.5, weight_decay=0.1, adam_weight_decay=0.3, adam_lr_ratio=0.1)
    optimizer.apply([torch.zeros(2, 3), torch.zeros(3)], [matrix, vector])
    np.testing.assert_allclose(matrix.detach().numpy(), np.full((2, 3), 0.95), rtol=1e-7)
    np.testing.assert_allclose(vector.detach().numpy(), np.full(3, 0.85), rtol=1e-12)


def test_muon_exclude_from_weight_decay_covers_adamw_variables():
    vector = Variable(torch.ones(3, dtype=torch.float64), dtype="float64", name="bias")
    optimizer = optimizers.Muon(0.5, adam_weight_decay=0.3)
    optimizer.exclude_from_weight_decay(var_names=["bias"])
    optimizer.apply([torch.zeros(3)], [vector])
    np.testing.assert_array_equal(vector.detach().numpy(), np.ones(3))


def test_newton_schulz_matches_reference_for_wide_tall_and_batched_inputs():
    optimizer = optimizers.Muon()
    for shape in ((3, 5), (7, 2), (4, 4)):
        x = RNG.standard_normal(shape)
        got = optimizer.zeropower_via_newtonschulz5(torch.tensor(x), 5).numpy()
        np.testing.assert_allclose(got, _numpy_newton_schulz(x, 5), rtol=1e-10, atol=1e-12)
    batch = RNG.standard_normal((3, 6, 4))
    got = optimizer.zeropower_via_newtonschulz5(torch.tensor(batch), 4).numpy()
    for matrix, result in zip(batch, got):
        np.testing.assert_allclose(result, _numpy_newton_schulz(matrix, 4), rtol=1e-10, atol=1e-12)


def test_newton_schulz_singular_values_land_near_one():
    # With singular values spread over a factor of 100, five steps of the quintic bring every
    # one into about [0.68, 1.15]: the step direction is close to U V^T.
    x = torch.tensor(RNG.standard_normal((16, 8)) @ np.diag(np.logspace(-1, 1, 8)))
    singular_values = torch.linalg.svdvals(optimizers.Muon().zeropower_via_newtonschulz5(x, 5))
    assert float(singular_values.min()) > 0.65 and float(singular_values.max()) < 1.2


def test_newton_schulz_rejects_vectors():
    with pytest.raises(ValueError, match=r"Muon: expected .* at least 2 dimensions.*\(3,\)"):
        optimizers.Muon().zeropower_via_newtonschulz5(torch.ones(3), 5)


def test_lr_adjust_scales_by_root_of_larger_side_times_rms_rate():
    np.testing.assert_allclose(
        optimizers.Muon(rms_rate=0.5).lr_adjust(torch.ones(2, 9, dtype=torch.float64)).numpy(),
        np.full((2, 9), 1.5),
    )
    assert optimizers.Muon(rms_rate=None).lr_adjust(torch.ones(2, 9)).eq(1).all()


def test_schedule_free_momentum_starts_at_the_variable_value():
    variables = _make_variables(torch.float32)
    optimizer = optimizers.ScheduleFreeAdamW()
    optimizer.build(variables)
    momenta = optimizer._slots["momentum"]
    for momentum, variable in zip(momenta, variables):
        np.testing.assert_array_equal(momentum.detach().numpy(), variable.detach().numpy())


def test_schedule_free_first_step_is_a_normalised_gradient_step():
    # t = 1: x = y = z before the step and the average weight is 1, so y = z = w - lr*g/(|g|+e).
    w = Variable(torch.zeros(3, dtype=torch.float64), dtype="float64", name="w")
    g = np.array([2.0, -0.5, 0.0])
    optimizers.ScheduleFreeAdamW(0.1, warmup_steps=4).apply([torch.tensor(g)], [w])
    expected = -_float32(0.1) / 4 * g / (np.abs(g) + 1e-8)
    np.testing.assert_allclose(w.detach().numpy(), expected, rtol=1e-12)


@pytest.mark.parametrize(
    ("name", "cls", "expected"),
    [
        (
            "muon",
            optimizers.Muon,
            {
                "learning_rate": 0.001,
                "adam_beta_1": 0.9,
                "adam_beta_2": 0.999,
                "adam_weight_decay": 0.004,
                "epsilon": 1e-7,
                "weight_decay": 0.004,
                "exclude_layers": [],
                "exclude_embeddings": True,
                "muon_a": 3.4445,
                "muon_b": -4.7750,
                "muon_c": 2.0315,
                "adam_lr_ratio": 1,
                "momentum": 0.95,
                "ns_steps": 5,
                "nesterov": True,
                "rms_rate": 0.2,
            },
        ),
        (
            "schedule_free_adam_w",
            optimizers.ScheduleFreeAdamW,
            {
                "learning_rate": 0.0025,
                "beta_1": 0.9,
                "beta_2": 0.999,
                "epsilon": 1e-8,
                "warmup_steps": 0,
                "weight_decay": None,
            },
        ),
    ],
)
def test_string_identifier_gives_keras_defaults(name, cls, expected):
    # Keras 3.15 accepts the lower-cased class name and names the optimizer `name`.
    for identifier in (cls.__name__.lower(), cls.__name__):
        optimizer = optimizers.get(identifier)
        # Keras 3.15 numbers repeated automatic names: "lamb", then "lamb_1", ...
        assert type(optimizer) is cls and optimizer.name.rstrip("_0123456789") == name
        config = optimizer.get_config()
        for key, value in expected.items():
            # The learning rate reads back from its float32 Variable.
            assert config[key] == (
                pytest.approx(value, rel=1e-6) if key == "learning_rate" else value
            )


@pytest.mark.parametrize(
    "optimizer",
    [
        optimizers.Muon(
            schedules.ExponentialDecay(0.1, 10, 0.5),
            exclude_layers=["head"],
            nesterov=False,
            rms_rate=None,
            adam_weight_decay=None,
            clipnorm=1.0,
        ),
        optimizers.ScheduleFreeAdamW(0.01, beta_1=0.8, warmup_steps=5, weight_decay=0.1),
    ],
    ids=["muon", "schedule_free"],
)
def test_config_round_trip(optimizer):
    clone = type(optimizer).from_config(optimizer.get_config())
    assert clone.get_config() == optimizer.get_config()
    rebuilt = optimizers.deserialize(optimizers.serialize(optimizer))
    assert type(rebuilt) is type(optimizer)
    assert rebuilt.get_config() == optimizer.get_config()


@pytest.mark.parametrize(
    ("cls", "arguments", "message"),
    [
        (optimizers.Muon, {"ns_steps": -1}, r"Muon: `ns_steps` must be an integer >= 0"),
        (optimizers.Muon, {"ns_steps": 2.5}, r"Muon: `ns_steps` must be an integer >= 0"),
        (optimizers.Muon, {"exclude_layers": [3]}, r"Muon: `exclude_layers` must be a list"),
        (optimizers.Muon, {"adam_weight_decay": -0.1}, r"Muon: `adam_weight_decay` must be"),
        (
            optimizers.ScheduleFreeAdamW,
            {"warmup_steps": -2},
            r"ScheduleFreeAdamW: `warmup_steps` must be an integer >= 0",
        ),
        (
            optimizers.ScheduleFreeAdamW,
            {"beta_1": 0.0},
            r"ScheduleFreeAdamW: `beta_1` must be a float in \(0, 1\]",
        ),
        (optimizers.Muon, {"beta_3": 0.5}, r"Argument\(s\) not recognized"),
        (optimizers.ScheduleFreeAdamW, {"beta_3": 0.5}, r"Argument\(s\) not recognized"),
    ],
)
def test_bad_arguments_are_rejected(cls, arguments, message):
    with pytest.raises(ValueError, match=message):
        cls(**arguments)


@pytest.mark.parametrize("name", ["muon", "schedulefreeadamw"])
def test_state_dict_round_trip_resumes_identically(name):
    def apply(optimizer, variables, grads):
        optimizer.apply([torch.tensor(g, dtype=torch.float32) for g in grads], variables)

    first, variables = optimizers.get(name), _make_variables(torch.float32)
    for grads in GRADS[:2]:
        apply(first, variables, grads)
    second = optimizers.get(name)
    clones = [Variable(v.detach().clone(), name=v.name) for v in variables]
    second.build(clones)
    second.load_state_dict(first.state_dict())
    for grads in GRADS[2:]:
        apply(first, variables, grads)
        apply(second, clones, grads)
    for clone, variable in zip(clones, variables):
        np.testing.assert_array_equal(clone.detach().numpy(), variable.detach().numpy())


@pytest.mark.parametrize("name", ["muon", "schedulefreeadamw"])
def test_step_traces_into_one_torch_compile_graph(name):
    import torch._dynamo

    params = [
        Variable(torch.randn(4, 3), name="a"),
        Variable(torch.randn(4, 3), name="b"),
        Variable(torch.randn(3), name="c"),
    ]
    optimizer = optimizers.get(name)
    optimizer.learning_rate = schedules.ExponentialDecay(0.01, 10, 0.9)

    def step():
        for p in params:
            p.grad = torch.ones_like(p)
        optimizer.step(params)

    step()
    explanation = torch._dynamo.explain(step)()
    assert (explanation.graph_count, explanation.graph_break_count) == (1, 0)


@pytest.mark.parametrize("name", ["muon", "schedulefreeadamw"])
def test_compile_with_string_trains_a_sequential_model(name):
    torch.manual_seed(0)
    x = np.random.default_rng(0).standard_normal((64, 3)).astype("float32")
    y = x @ np.array([[1.0], [-2.0], [0.5]], dtype="float32") + 0.3
    model = keras.Sequential(
        [keras.Input((3,)), keras.layers.Dense(8, activation="relu"), keras.layers.Dense(1)]
    )
    model.compile(optimizer=name, loss="mse")
    model.optimizer.learning_rate = 0.05
    history = model.fit(x, y, batch_size=16, epochs=8, verbose=0)
    losses = history.history["loss"]
    assert losses[-1] < 0.5 * losses[0]


@pytest.mark.gpu
@pytest.mark.parametrize("name", ["muon", "schedulefreeadamw"])
def test_cuda_step_never_syncs_and_matches_cpu(name):
    def make():
        optimizer = optimizers.get(name)
        optimizer.learning_rate = schedules.ExponentialDecay(0.01, decay_steps=2, decay_rate=0.5)
        return optimizer

    cpu_variables = _make_variables(torch.float32)
    cuda_variables = [Variable(v.detach(), name=v.name, device="cuda") for v in cpu_variables]
    cpu_opt, cuda_opt = make(), make()
    grads = [[torch.tensor(g, dtype=torch.float32) for g in step] for step in GRADS]
    cpu_opt.apply(grads[0], cpu_variables)
    cuda_opt.apply([g.cuda() for g in grads[0]], cuda_variables)  # builds the state
    cuda_grads = [[g.cuda() for g in step] for step in grads[1:]]
    torch.cuda.synchronize()
    torch.cuda.set_sync_debug_mode("error")
    try:
        for step in cuda_grads:
            for variable, g in zip(cuda_variables, step):
                variable.grad = g
            cuda_opt.step(cuda_variables)
    finally:
        torch.cuda.set_sync_debug_mode("default")
    for step in grads[1:]:
        cpu_opt.apply(step, cpu_variables)
    for cuda_variable, cpu_variable in zip(cuda_variables, cpu_variables):
        np.testing.assert_allclose(
            cuda_variable.detach().cpu().numpy(), cpu_variable.detach().numpy(), 1e-4, 1e-5
        )
