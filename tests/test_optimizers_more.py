"""Adadelta, Ftrl, Lamb and Adafactor against Keras 3.15's update rules in float64 numpy.

Each numpy reference below was checked against `keras.optimizers.<Name>` (Keras 3.15, torch
backend) on the same variables and gradients: at most 3e-5 relative difference in float32.
"""

import math

import numpy as np
import pytest
import torch

import tritonlayers as keras
from tritonlayers import optimizers
from tritonlayers.layers.variables import Variable
from tritonlayers.optimizers import schedules

RNG = np.random.default_rng(11)
# A matrix, a vector, a rank-3 tensor, a one-row matrix and a scalar: Adafactor factors the
# rank >= 2 ones and keeps a full second moment for the vector and the scalar.
SHAPES = [(3, 4), (5,), (2, 3, 4), (1, 6), ()]
W0 = [RNG.standard_normal(shape) for shape in SHAPES]
GRADS = [
    [RNG.standard_normal(shape) * scale for shape in SHAPES] for scale in (1.0, 0.01, 3.0, 0.5)
]


def _float32(value):
    # The learning rate is a float32 Variable, in Keras as here.
    return float(np.float32(value))


def _numpy_adadelta(lr=0.001, rho=0.95, eps=1e-7):
    lr = _float32(lr)

    def update(w, g, state, t):
        acc_g = state["acc_g"] = rho * state.get("acc_g", 0.0) + (1 - rho) * g * g
        delta = np.sqrt(state.get("acc_d", 0.0) + eps) * g / np.sqrt(acc_g + eps)
        state["acc_d"] = rho * state.get("acc_d", 0.0) + (1 - rho) * delta * delta
        return w - lr * delta

    return update


def _numpy_ftrl(lr=0.001, power=-0.5, initial=0.1, l1=0.0, l2=0.0, shrinkage=0.0, beta=0.0):
    lr = _float32(lr)

    def update(w, g, state, t):
        n = state.get("n", initial)
        n_new = n + g * g
        sigma = (n_new**-power - n**-power) / lr
        z = state["z"] = state.get("z", 0.0) + g + 2 * shrinkage * w - sigma * w
        state["n"] = n_new
        quadratic = n_new**-power / lr + 2 * (l2 + beta / (2 * lr))
        return (np.clip(z, -l1, l1) - z) / quadratic

    return update


def _numpy_lamb(lr=0.001, b1=0.9, b2=0.999, eps=1e-7, wd=None):
    lr = _float32(lr)

    def update(w, g, state, t):
        if wd:
            # The base computes the decay factor `1 - wd * lr` in the rate's float32.
            w = w * float(np.float32(1) - np.float32(wd) * np.float32(lr))
        m = state["m"] = b1 * state.get("m", 0.0) + (1 - b1) * g
        v = state["v"] = b2 * state.get("v", 0.0) + (1 - b2) * g * g
        u = (m / (1 - b1**t)) / (np.sqrt(v / (1 - b2**t)) + eps)
        w_norm, u_norm = np.linalg.norm(w), np.linalg.norm(u)
        ratio = w_norm / u_norm if w_norm > 0 and u_norm > 0 else 1.0
        return w - ratio * lr * u

    return update


def _rms(x):
    return np.sqrt(np.mean(np.square(x)))


def _numpy_adafactor(lr=0.001, decay=-0.8, eps1=1e-30, eps2=1e-3, clip=1.0):
    lr = _float32(lr)

    def update(w, g, state, t):
        rho = min(lr, 1 / math.sqrt(t))
        alpha = max(eps2, _rms(w)) * rho
        b2 = 1 - t**decay
        g2 = g * g + eps1
        if w.ndim >= 2:
            r = state["r"] = b2 * state.get("r", 0.0) + (1 - b2) * g2.mean(axis=-1)
            c = state["c"] = b2 * state.get("c", 0.0) + (1 - b2) * g2.mean(axis=-2)
            v = (r / r.mean(axis=-1, keepdims=True))[..., None] * c[..., None, :]
        else:
            v = state["v"] = b2 * state.get("v", 0.0) + (1 - b2) * g2
        u = g / np.sqrt(v)
        return w - alpha * u / max(1.0, _rms(u) / clip)

    return update


def _run_numpy(update):
    finals = []
    for i, w in enumerate(W0):
        state = {}
        for t, grads in enumerate(GRADS, start=1):
            w = update(w, grads[i], state, t)
        finals.append(w)
    return finals


def _run_optimizer(optimizer, dtype):
    variables = [
        Variable(torch.tensor(w, dtype=dtype), dtype=dtype, name=f"v{i}") for i, w in enumerate(W0)
    ]
    for grads in GRADS:
        optimizer.apply([torch.tensor(g, dtype=dtype) for g in grads], variables)
    return [v.detach().cpu().numpy() for v in variables]


CASES = [
    ("adadelta", lambda: optimizers.Adadelta(), _numpy_adadelta()),
    ("adadelta_paper", lambda: optimizers.Adadelta(1.0, rho=0.9), _numpy_adadelta(1.0, 0.9)),
    ("ftrl", lambda: optimizers.Ftrl(), _numpy_ftrl()),
    (
        "ftrl_regularized",
        lambda: optimizers.Ftrl(
            0.1,
            l1_regularization_strength=0.05,
            l2_regularization_strength=0.1,
            l2_shrinkage_regularization_strength=0.02,
            beta=0.3,
        ),
        _numpy_ftrl(0.1, l1=0.05, l2=0.1, shrinkage=0.02, beta=0.3),
    ),
    (
        "ftrl_fixed_rate",
        lambda: optimizers.Ftrl(0.1, learning_rate_power=0.0, initial_accumulator_value=0.0),
        _numpy_ftrl(0.1, power=0.0, initial=0.0),
    ),
    ("lamb", lambda: optimizers.Lamb(), _numpy_lamb()),
    ("lamb_decay", lambda: optimizers.Lamb(0.1, weight_decay=0.01), _numpy_lamb(0.1, wd=0.01)),
    ("adafactor", lambda: optimizers.Adafactor(), _numpy_adafactor()),
    (
        "adafactor_clipped",
        lambda: optimizers.Adafactor(0.1, relative_step=False, clip_threshold=0.5),
        _numpy_adafactor(0.1, clip=0.5),
    ),
    (
        "adafactor_large_eps2",
        lambda: optimizers.Adafactor(0.5, epsilon_2=1.0, beta_2_decay=-0.5),
        _numpy_adafactor(0.5, decay=-0.5, eps2=1.0),
    ),
]


@pytest.mark.parametrize(
    ("optimizer", "reference"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_four_steps_match_keras_update_rule(optimizer, reference):
    # float64 variables: each variable's total displacement agrees with the reference to
    # rounding, however small it is (default Adadelta moves ~1e-5).
    expected = _run_numpy(reference)
    for got, want, w0 in zip(_run_optimizer(optimizer(), torch.float64), expected, W0):
        assert np.max(np.abs(want - w0)) > 1e-7
        np.testing.assert_allclose(got - w0, want - w0, rtol=1e-9, atol=1e-13)


@pytest.mark.parametrize(
    ("optimizer", "reference"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_float32_variables_follow_the_float64_rule(optimizer, reference):
    # float32 state drifts a few ulps per step; Adafactor's divisions by small second moments
    # amplify it most (Keras's own float32 run differs from this reference by up to 3e-5).
    expected = _run_numpy(reference)
    for got, want in zip(_run_optimizer(optimizer(), torch.float32), expected):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)


def test_adafactor_keeps_row_and_column_factors_for_rank_two_and_up():
    optimizer = optimizers.Adafactor()
    variables = [Variable(torch.zeros(shape), name=f"v{i}") for i, shape in enumerate(SHAPES)]
    optimizer.build(variables)
    slot_shapes = [tuple(v.shape) for v in optimizer.variables[2:]]
    factors = [(3,), (4,), (), (), (2, 3), (2, 4), (1,), (6,), (), ()]
    assert slot_shapes == factors + [tuple(s) for s in SHAPES]


def test_adafactor_factored_velocity_is_outer_product_of_normalized_rows_and_columns():
    optimizer = optimizers.Adafactor()
    w = Variable(torch.ones(2, 3), dtype="float64", name="w")
    g = torch.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], dtype=torch.float64)
    optimizer.apply([g], [w])
    # Step 1: beta_2 = 1 - 1^-0.8 = 0, so r and c are the plain means of g^2.
    squares = g.numpy() ** 2
    rows, columns = squares.mean(axis=1), squares.mean(axis=0)
    expected = np.outer(rows / rows.mean(), columns)
    velocity = optimizer.variables[-1].detach().numpy()
    np.testing.assert_allclose(velocity, expected, rtol=1e-12)


def test_adafactor_relative_step_caps_rate_at_inverse_sqrt_step():
    # lr=10 > 1/sqrt(t): the cap decides the step, with or without `relative_step` (Keras 3.15).
    results = []
    for relative_step in (True, False):
        optimizer = optimizers.Adafactor(10.0, relative_step=relative_step)
        results.append(_run_optimizer(optimizer, torch.float64))
    expected = _run_numpy(_numpy_adafactor(1.0))
    for got_relative, got_absolute, want in zip(*results, expected):
        np.testing.assert_allclose(got_relative, want, rtol=1e-10, atol=1e-10)
        np.testing.assert_allclose(got_absolute, want, rtol=1e-10, atol=1e-10)


def test_lamb_trust_ratio_is_one_for_a_zero_variable():
    # ||var|| = 0: Keras falls back to ratio 1, a plain bias-corrected Adam step g/(|g|+eps).
    g = np.array([1.0, -2.0, 0.5])
    w = Variable(torch.zeros(3), dtype="float64", name="w")
    optimizers.Lamb(0.1).apply([torch.tensor(g)], [w])
    expected = -_float32(0.1) * g / (np.abs(g) + 1e-7)
    np.testing.assert_allclose(w.detach().numpy(), expected, rtol=1e-12)


def test_ftrl_l1_zeroes_weights_whose_linear_term_is_within_l1():
    # From var = 0 the linear term is the gradient: |0.5| <= l1 gives exactly 0, |3| does not.
    w = Variable(torch.zeros(2), dtype="float64", name="w")
    optimizers.Ftrl(0.1, l1_regularization_strength=1.0).apply(
        [torch.tensor([0.5, 3.0], dtype=torch.float64)], [w]
    )
    quadratic = math.sqrt(0.1 + 9.0) / _float32(0.1)
    np.testing.assert_allclose(w.detach().numpy(), [0.0, (1.0 - 3.0) / quadratic], rtol=1e-7)


@pytest.mark.parametrize(
    ("name", "cls", "expected"),
    [
        ("adadelta", optimizers.Adadelta, {"learning_rate": 0.001, "rho": 0.95, "epsilon": 1e-7}),
        (
            "ftrl",
            optimizers.Ftrl,
            {
                "learning_rate": 0.001,
                "learning_rate_power": -0.5,
                "initial_accumulator_value": 0.1,
                "l1_regularization_strength": 0.0,
                "l2_regularization_strength": 0.0,
                "l2_shrinkage_regularization_strength": 0.0,
                "beta": 0.0,
            },
        ),
        (
            "lamb",
            optimizers.Lamb,
            {"learning_rate": 0.001, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7},
        ),
        (
            "adafactor",
            optimizers.Adafactor,
            {
                "learning_rate": 0.001,
                "beta_2_decay": -0.8,
                "epsilon_1": 1e-30,
                "epsilon_2": 1e-3,
                "clip_threshold": 1.0,
                "relative_step": True,
            },
        ),
    ],
)
def test_string_identifier_gives_keras_defaults(name, cls, expected):
    for identifier in (name, cls.__name__):
        optimizer = optimizers.get(identifier)
        # Keras 3.15 numbers repeated automatic names: "lamb", then "lamb_1", ...
        assert type(optimizer) is cls and optimizer.name.rstrip("_0123456789") == name
        config = optimizer.get_config()
        assert {key: config[key] for key in expected} == pytest.approx(expected, rel=1e-6)


@pytest.mark.parametrize(
    "optimizer",
    [
        optimizers.Adadelta(0.5, rho=0.8, epsilon=1e-6, clipnorm=1.0),
        optimizers.Ftrl(
            0.2,
            learning_rate_power=-0.3,
            initial_accumulator_value=0.0,
            l1_regularization_strength=0.1,
            l2_regularization_strength=0.2,
            l2_shrinkage_regularization_strength=0.3,
            beta=0.4,
        ),
        optimizers.Lamb(schedules.ExponentialDecay(0.1, 10, 0.5), beta_1=0.8, weight_decay=0.01),
        optimizers.Adafactor(0.01, beta_2_decay=-0.6, epsilon_2=1e-2, relative_step=False),
    ],
    ids=["adadelta", "ftrl", "lamb", "adafactor"],
)
def test_config_round_trip(optimizer):
    clone = type(optimizer).from_config(optimizer.get_config())
    assert clone.get_config() == optimizer.get_config()
    rebuilt = optimizers.deserialize(optimizers.serialize(optimizer))
    assert type(rebuilt) is type(optimizer)
    assert rebuilt.get_config() == optimizer.get_config()


@pytest.mark.parametrize(
    ("argument", "value", "message"),
    [
        ("initial_accumulator_value", -0.1, "`initial_accumulator_value` needs to be positive"),
        ("learning_rate_power", 0.5, "`learning_rate_power` needs to be negative or zero"),
        ("l1_regularization_strength", -1.0, "`l1_regularization_strength` needs to be positive"),
        ("l2_regularization_strength", -1.0, "`l2_regularization_strength` needs to be positive"),
        (
            "l2_shrinkage_regularization_strength",
            -1.0,
            "`l2_shrinkage_regularization_strength` needs to be positive",
        ),
    ],
)
def test_ftrl_rejects_out_of_range_arguments(argument, value, message):
    with pytest.raises(ValueError, match=f"Ftrl: {message}.*Received: {argument}={value}"):
        optimizers.Ftrl(**{argument: value})


@pytest.mark.parametrize("name", ["adadelta", "ftrl", "lamb", "adafactor"])
def test_unknown_argument_is_rejected(name):
    with pytest.raises(ValueError, match="Argument\\(s\\) not recognized"):
        optimizers.ALL_OBJECTS_DICT[name](beta_3=0.5)


@pytest.mark.parametrize("name", ["adadelta", "ftrl", "lamb", "adafactor"])
def test_state_dict_round_trip_resumes_identically(name):
    def make_variables():
        return [
            Variable(torch.tensor(w, dtype=torch.float32), name=f"v{i}") for i, w in enumerate(W0)
        ]

    def apply(optimizer, variables, grads):
        optimizer.apply([torch.tensor(g, dtype=torch.float32) for g in grads], variables)

    first, variables = optimizers.ALL_OBJECTS_DICT[name](0.05), make_variables()
    for grads in GRADS[:2]:
        apply(first, variables, grads)
    second = optimizers.ALL_OBJECTS_DICT[name](0.05)
    clones = [Variable(v.detach().clone(), name=v.name) for v in variables]
    second.build(clones)
    second.load_state_dict(first.state_dict())
    for grads in GRADS[2:]:
        apply(first, variables, grads)
        apply(second, clones, grads)
    for clone, variable in zip(clones, variables):
        np.testing.assert_array_equal(clone.detach().numpy(), variable.detach().numpy())


@pytest.mark.parametrize("name", ["lamb", "adafactor"])
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


def test_compile_with_lamb_string_trains_a_sequential_model():
    torch.manual_seed(0)
    x = np.random.default_rng(0).standard_normal((64, 3)).astype("float32")
    y = x @ np.array([[1.0], [-2.0], [0.5]], dtype="float32") + 0.3
    model = keras.Sequential(
        [keras.Input((3,)), keras.layers.Dense(8, activation="relu"), keras.layers.Dense(1)]
    )
    model.compile(optimizer="lamb", loss="mse")
    assert isinstance(model.optimizer, optimizers.Lamb)
    model.optimizer.learning_rate = 0.05
    history = model.fit(x, y, batch_size=16, epochs=8, verbose=0)
    losses = history.history["loss"]
    assert losses[-1] < 0.5 * losses[0]
