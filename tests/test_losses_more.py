"""CategoricalFocalCrossentropy, Dice, Tversky, Circle, CategoricalGeneralizedCrossEntropy.

Each is checked against a float64 numpy formula; the formulas were checked against Keras 3.15
(torch backend) in a scratch script over these shapes, options, sample weights and
reductions. The constants in the `*_keras_reference_numbers` tests were printed by Keras 3.15.
"""

import numpy as np
import pytest
import torch

import tritonlayers as keras
from tritonlayers import losses

EPS = 1e-7
RNG = np.random.default_rng(2026)
REDUCTIONS = ["sum_over_batch_size", "mean", "sum", "mean_with_sample_weight", "none", None]


def _reduce(values, weights, reduction):
    weighted = values * weights
    if reduction in ("sum_over_batch_size", "mean"):
        return weighted.sum() / weighted.size
    if reduction == "sum":
        return weighted.sum()
    if reduction == "mean_with_sample_weight":
        return weighted.sum() / weights.sum()
    return weighted


def _probs(shape):
    return (RNG.random(shape) + 0.01).astype("float32")


def _one_hot(shape):
    return np.eye(shape[-1], dtype="float32")[RNG.integers(0, shape[-1], size=shape[:-1])]


def _unit_rows(n, dim):
    x = RNG.normal(size=(n, dim))
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype("float32")


def _np_softmax(x, axis):
    e = np.exp(x - x.max(axis, keepdims=True))
    return e / e.sum(axis, keepdims=True)


def _np_categorical_focal(t, p, alpha=0.25, gamma=2.0, from_logits=False, ls=0.0, axis=-1):
    t, p = np.float64(t), np.float64(p)
    if ls:
        t = t * (1 - ls) + ls / t.shape[-1]
    if from_logits:
        p = _np_softmax(p, axis)
    p = np.clip(p / p.sum(axis, keepdims=True), EPS, 1 - EPS)
    return (np.asarray(alpha) * (1 - p) ** gamma * -t * np.log(p)).sum(axis)


def _np_dice(t, p, axis=None):
    t, p = np.float64(t), np.float64(p)
    return 1 - 2 * (t * p).sum(axis) / (t.sum(axis) + p.sum(axis) + EPS)


def _np_tversky(t, p, alpha=0.5, beta=0.5, axis=None):
    t, p = np.float64(t), np.float64(p)
    hit = (t * p).sum(axis)
    missed, spurious = (t * (1 - p)).sum(axis), ((1 - t) * p).sum(axis)
    return 1 - hit / (hit + alpha * missed + beta * spurious + EPS)


def _np_logsumexp_rows(s):
    top = s.max(1)
    finite_top = np.where(np.isinf(top), 0.0, top)
    with np.errstate(divide="ignore"):  # a row of -inf only: log(0) = -inf, as wanted
        return np.log(np.exp(s - finite_top[:, None]).sum(1)) + finite_top


def _np_circle(labels, x, ref_labels=None, ref=None, remove_diagonal=True, gamma=80.0, margin=0.4):
    x = np.float64(x)
    ref = x if ref is None else np.float64(ref)
    ref_labels = labels if ref_labels is None else ref_labels
    d = np.maximum(1 - x @ ref.T, 0)
    same = labels[:, None] == ref_labels[None, :]
    different = ~same
    if remove_diagonal:
        same &= ~np.eye(*same.shape, dtype=bool)
    pos = np.where(same, -gamma * np.maximum(margin + d, 0) * (margin - d), -np.inf)
    neg = np.where(different, gamma * np.maximum(1 + margin - d, 0) * (1 - margin - d), -np.inf)
    return np.logaddexp(0.0, _np_logsumexp_rows(pos) + _np_logsumexp_rows(neg))


def _np_generalized_ce(labels, p, q):
    picked = np.take_along_axis(np.float64(p), labels[..., None], axis=-1)[..., 0]
    return (1 - picked**q) / q


def _numpy(x):
    return x.detach().cpu().numpy()


# --- CategoricalFocalCrossentropy -------------------------------------------------------


@pytest.mark.parametrize("shape", [(4, 5), (2, 3, 4), (6, 2)])
@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"from_logits": True},
        {"label_smoothing": 0.1},
        {"from_logits": True, "label_smoothing": 0.3, "gamma": 1.5, "alpha": 0.6},
        {"gamma": 0.0, "alpha": 1.0},
        {"axis": 0},
    ],
)
def test_categorical_focal_crossentropy_matches_numpy_formula(shape, kwargs):
    t, p = _one_hot(shape), _probs(shape)
    want = _np_categorical_focal(
        t,
        p,
        alpha=kwargs.get("alpha", 0.25),
        gamma=kwargs.get("gamma", 2.0),
        from_logits=kwargs.get("from_logits", False),
        ls=kwargs.get("label_smoothing", 0.0),
        axis=kwargs.get("axis", -1),
    )
    got = losses.categorical_focal_crossentropy(t, p, **kwargs)
    np.testing.assert_allclose(_numpy(got), want, rtol=1e-5, atol=1e-7)


def test_categorical_focal_crossentropy_weights_each_class_by_its_alpha():
    t, p = _one_hot((5, 3)), _probs((5, 3))
    alpha = [0.2, 0.3, 0.5]
    want = _np_categorical_focal(t, p, alpha=alpha)
    got = losses.CategoricalFocalCrossentropy(alpha=alpha, reduction=None)(t, p)
    np.testing.assert_allclose(_numpy(got), want, rtol=1e-5, atol=1e-7)


def test_categorical_focal_crossentropy_keras_reference_numbers():
    y_true = [[0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]
    y_pred = [[0.05, 0.95, 0.0], [0.1, 0.8, 0.1]]
    loss = losses.CategoricalFocalCrossentropy
    assert float(loss()(y_true, y_pred)) == pytest.approx(0.23315276, rel=1e-5)
    weighted = loss()(y_true, y_pred, sample_weight=np.array([0.3, 0.7]))
    assert float(weighted) == pytest.approx(0.16320053, rel=1e-5)
    assert float(loss(reduction="sum")(y_true, y_pred)) == pytest.approx(0.46630552, rel=1e-5)
    np.testing.assert_allclose(
        _numpy(loss(reduction=None)(y_true, y_pred)), [3.2058331e-05, 0.46627346], rtol=1e-5
    )
    logits = np.array(y_pred, dtype="float32") * 4
    smoothed = loss(alpha=[0.2, 0.3, 0.5], from_logits=True, label_smoothing=0.1, reduction=None)
    np.testing.assert_allclose(
        _numpy(smoothed(y_true, logits)), [0.084540814, 1.2341286], rtol=1e-5
    )


def test_categorical_focal_crossentropy_warns_about_a_single_class():
    with pytest.warns(SyntaxWarning, match="num_classes > 1"):
        losses.categorical_focal_crossentropy([[1.0], [1.0]], [[0.3], [0.9]])


def test_categorical_focal_crossentropy_rejects_mismatched_shapes():
    with pytest.raises(
        ValueError, match=r"Arguments `target` and `output` must have the same shape"
    ):
        losses.CategoricalFocalCrossentropy()(_one_hot((4, 3)), _probs((4, 5)))


# --- Dice and Tversky -------------------------------------------------------------------

SEGMENTATION = [
    ((2, 2, 2, 1), (1, 2, 3)),
    ((4, 6), 1),
    ((3, 4, 5), (1, 2)),
    ((3, 4, 5), -1),
    ((3, 4, 5), None),
]


@pytest.mark.parametrize(("shape", "axis"), SEGMENTATION)
def test_dice_matches_numpy_formula(shape, axis):
    t, p = (RNG.random(shape) > 0.5).astype("float32"), RNG.random(shape).astype("float32")
    got = losses.Dice(axis=axis, reduction=None)(t, p)
    np.testing.assert_allclose(_numpy(got), _np_dice(t, p, axis), rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize(("shape", "axis"), SEGMENTATION)
def test_tversky_matches_numpy_formula(shape, axis):
    t, p = (RNG.random(shape) > 0.5).astype("float32"), RNG.random(shape).astype("float32")
    got = losses.tversky(t, p, alpha=0.3, beta=0.7, axis=axis)
    want = _np_tversky(t, p, 0.3, 0.7, axis)
    np.testing.assert_allclose(_numpy(got), want, rtol=1e-5, atol=1e-7)


KERAS_SEGMENTATION_TRUE = [[[[1.0], [1.0]], [[0.0], [0.0]]], [[[1.0], [1.0]], [[0.0], [0.0]]]]
KERAS_SEGMENTATION_PRED = [[[[0.0], [1.0]], [[0.0], [1.0]]], [[[0.4], [0.0]], [[0.0], [0.9]]]]


def test_dice_keras_reference_numbers():
    t, p = KERAS_SEGMENTATION_TRUE, KERAS_SEGMENTATION_PRED
    per_image = losses.Dice(axis=(1, 2, 3), reduction=None)(t, p)
    np.testing.assert_allclose(_numpy(per_image), [0.5, 0.75757575], rtol=1e-6)
    whole = losses.Dice()(t, p)
    assert whole.shape == () and float(whole) == pytest.approx(0.6164384, rel=1e-6)


def test_tversky_keras_reference_numbers():
    t, p = KERAS_SEGMENTATION_TRUE, KERAS_SEGMENTATION_PRED
    per_image = losses.Tversky(alpha=0.3, beta=0.7, axis=(1, 2, 3), reduction=None)(t, p)
    np.testing.assert_allclose(_numpy(per_image), [0.5, 0.73509932], rtol=1e-6)
    assert float(losses.Tversky(0.3, 0.7)(t, p)) == pytest.approx(0.6011396, rel=1e-6)


def test_tversky_with_default_weights_is_dice():
    t, p = (RNG.random((3, 8)) > 0.5).astype("float32"), RNG.random((3, 8)).astype("float32")
    np.testing.assert_allclose(
        _numpy(losses.tversky(t, p, axis=1)), _numpy(losses.dice(t, p, axis=1)), rtol=1e-6
    )


def test_dice_over_every_axis_scales_by_the_sample_weights():
    # Keras: a scalar loss times the weights, then the reduction (0.6164 * (0.3 + 0.7) / 2).
    t, p = KERAS_SEGMENTATION_TRUE, KERAS_SEGMENTATION_PRED
    got = losses.Dice()(t, p, sample_weight=np.array([0.3, 0.7]))
    assert float(got) == pytest.approx(0.30821919, rel=1e-6)


@pytest.mark.parametrize("loss_class", [losses.Dice, losses.Tversky])
def test_overlap_losses_reject_a_bad_axis(loss_class):
    with pytest.raises(ValueError, match=r"`axis` must be None, an int or a tuple of ints"):
        loss_class(axis="channels")([[1.0, 0.0]], [[0.5, 0.5]])


@pytest.mark.parametrize("loss_function", [losses.dice, losses.tversky])
def test_overlap_losses_reject_mismatched_shapes(loss_function):
    with pytest.raises(ValueError, match=r"must have the same shape"):
        loss_function(np.ones((2, 3)), np.ones((2, 4)))


# --- Circle -----------------------------------------------------------------------------


@pytest.mark.parametrize(("batch", "dim", "classes"), [(8, 4, 3), (16, 6, 5), (5, 3, 5)])
@pytest.mark.parametrize(
    "kwargs", [{}, {"gamma": 10.0, "margin": 0.25}, {"remove_diagonal": False}]
)
def test_circle_matches_numpy_formula(batch, dim, classes, kwargs):
    x, labels = _unit_rows(batch, dim), RNG.integers(0, classes, size=(batch,))
    got = losses.Circle(reduction=None, **kwargs)(labels, x)
    np.testing.assert_allclose(_numpy(got), _np_circle(labels, x, **kwargs), rtol=1e-4, atol=1e-5)


def test_circle_against_reference_embeddings():
    x, labels = _unit_rows(6, 4), RNG.integers(0, 3, size=(6,))
    ref, ref_labels = _unit_rows(9, 4), RNG.integers(0, 3, size=(9, 1))
    got = losses.circle(
        labels, x, ref_labels=ref_labels, ref_embeddings=ref, remove_diagonal=False, gamma=5.0
    )
    want = _np_circle(labels, x, ref_labels[:, 0], ref, remove_diagonal=False, gamma=5.0)
    np.testing.assert_allclose(_numpy(got), want, rtol=1e-4, atol=1e-5)


def test_circle_keras_reference_numbers():
    x = [[1.0, 0.0], [0.6, 0.8], [0.0, 1.0]]
    np.testing.assert_allclose(
        _numpy(losses.circle([0, 0, 1], x, gamma=2.0)), [0.54589295, 1.2841775, 0.0], rtol=1e-5
    )
    assert float(losses.Circle(gamma=2.0)([0, 0, 1], x)) == pytest.approx(0.91503525, rel=1e-5)
    assert float(losses.Circle()([0, 0, 1], x)) == pytest.approx(19.200003, rel=1e-5)
    x4 = [[1.0, 0.0], [0.6, 0.8], [0.0, 1.0], [-0.8, 0.6]]
    keep = losses.Circle(gamma=4.0, margin=0.25, remove_diagonal=False, reduction=None)
    np.testing.assert_allclose(
        _numpy(keep([0, 0, 1, 1], x4)), [1.6119518, 3.2379923, 3.2379923, 1.6119518], rtol=1e-5
    )


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_circle_reduction_leaves_out_rows_with_zero_loss(reduction):
    # Label 4 occurs once: that row has no positive pair, a zero loss and is masked out.
    labels = np.array([0, 0, 1, 1, 2, 2, 4])
    x, weights = _unit_rows(7, 3), RNG.random(7).astype("float32")
    values = _np_circle(labels, x)
    assert values[-1] == 0.0
    got = losses.Circle(reduction=reduction)(labels, x, sample_weight=weights)
    valid = (values > 0).astype("float64")
    if reduction in ("sum_over_batch_size", "mean"):
        want = (values * weights * valid).sum() / valid.sum()
    elif reduction == "mean_with_sample_weight":
        want = (values * weights * valid).sum() / (weights * valid).sum()
    else:
        want = _reduce(values, weights * valid, reduction)
    np.testing.assert_allclose(_numpy(got), want, rtol=1e-4, atol=1e-5)


def test_circle_rejects_embeddings_that_are_not_a_matrix():
    with pytest.raises(ValueError, match=r"circle: `y_pred` must be a rank 2 tensor"):
        losses.Circle()([0, 1, 0], [0.5, 0.5, 0.7])


def test_circle_rejects_one_label_count_per_other_embedding_count():
    with pytest.raises(ValueError, match=r"one integer label per embedding, shape \(3,\)"):
        losses.circle([0, 1], _unit_rows(3, 2))


# --- CategoricalGeneralizedCrossEntropy -------------------------------------------------


@pytest.mark.parametrize("shape", [(4, 2), (6, 5), (3, 4, 5)])
@pytest.mark.parametrize("q", [0.1, 0.5, 0.9])
def test_generalized_cross_entropy_matches_numpy_formula(shape, q):
    p = _probs(shape)
    p /= p.sum(-1, keepdims=True)
    labels = RNG.integers(0, shape[-1], size=shape[:-1])
    got = losses.CategoricalGeneralizedCrossEntropy(q=q, reduction=None)(labels, p)
    np.testing.assert_allclose(_numpy(got), _np_generalized_ce(labels, p, q), rtol=1e-5)


def test_generalized_cross_entropy_takes_a_column_of_labels():
    p, labels = _probs((6, 4)), RNG.integers(0, 4, size=(6,))
    column = losses.CategoricalGeneralizedCrossEntropy(reduction=None)(labels[:, None], p)
    np.testing.assert_allclose(_numpy(column), _np_generalized_ce(labels, p, 0.5), rtol=1e-5)


def test_generalized_cross_entropy_keras_reference_numbers():
    p = [[0.7, 0.3], [0.2, 0.8], [0.6, 0.4], [0.4, 0.6]]
    labels = np.array([0, 1, 0, 1])
    got = losses.CategoricalGeneralizedCrossEntropy()(labels, p)
    assert float(got) == pytest.approx(0.3598597, rel=1e-6)
    per_sample = losses.CategoricalGeneralizedCrossEntropy(q=0.2, reduction=None)(labels, p)
    np.testing.assert_allclose(
        _numpy(per_sample), [0.3442505, 0.21823764, 0.48559785, 0.48559785], rtol=1e-5
    )


def test_generalized_cross_entropy_of_a_negative_label_selects_no_class():
    # As Keras's one_hot: a negative label is an all-zero row, so p = 0 and the loss is 1/q.
    got = losses.categorical_generalized_cross_entropy([-1, 0], [[0.5, 0.5], [0.5, 0.5]], q=0.25)
    np.testing.assert_allclose(_numpy(got), [4.0, (1 - 0.5**0.25) / 0.25], rtol=1e-6)


@pytest.mark.parametrize("q", [0.0, 1.0, -0.5, 2.0])
def test_generalized_cross_entropy_rejects_q_outside_the_open_unit_interval(q):
    with pytest.raises(ValueError, match=r"CategoricalGeneralizedCrossEntropy: q must be in"):
        losses.CategoricalGeneralizedCrossEntropy(q=q)


def test_generalized_cross_entropy_rejects_labels_shaped_like_probabilities():
    with pytest.raises(ValueError, match=r"y_true.shape=\(4, 3\), y_pred.shape=\(4, 3\)"):
        losses.categorical_generalized_cross_entropy(_one_hot((4, 3)), _probs((4, 3)), q=0.5)


# --- Shared behaviour: reductions, gradients, configs, identifiers ----------------------


def _per_sample_cases():
    t, p = _one_hot((6, 4)), _probs((6, 4))
    p /= p.sum(-1, keepdims=True)
    mask = (RNG.random((6, 3, 3)) > 0.5).astype("float32")
    soft = RNG.random((6, 3, 3)).astype("float32")
    labels = RNG.integers(0, 4, size=(6,))
    return [
        (
            losses.CategoricalFocalCrossentropy,
            {"gamma": 1.0},
            t,
            p,
            _np_categorical_focal(t, p, gamma=1.0),
        ),
        (losses.Dice, {"axis": (1, 2)}, mask, soft, _np_dice(mask, soft, (1, 2))),
        (
            losses.Tversky,
            {"alpha": 0.8, "beta": 0.2, "axis": (1, 2)},
            mask,
            soft,
            _np_tversky(mask, soft, 0.8, 0.2, (1, 2)),
        ),
        (
            losses.CategoricalGeneralizedCrossEntropy,
            {"q": 0.7},
            labels,
            p,
            _np_generalized_ce(labels, p, 0.7),
        ),
    ]


PER_SAMPLE_CASES = _per_sample_cases()
PER_SAMPLE_IDS = [case[0].__name__ for case in PER_SAMPLE_CASES]


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize(
    ("cls", "kwargs", "y_true", "y_pred", "values"), PER_SAMPLE_CASES, ids=PER_SAMPLE_IDS
)
def test_reduction_with_sample_weight(cls, kwargs, y_true, y_pred, values, reduction):
    weights = RNG.random(len(values)).astype("float32")
    got = cls(reduction=reduction, **kwargs)(y_true, y_pred, sample_weight=weights)
    np.testing.assert_allclose(_numpy(got), _reduce(values, weights, reduction), rtol=1e-5)


GRADIENT_CASES = [
    (
        losses.CategoricalFocalCrossentropy(from_logits=True, label_smoothing=0.1, dtype="float64"),
        _one_hot((3, 4)),
        RNG.normal(size=(3, 4)),
    ),
    (losses.Dice(axis=1, dtype="float64"), RNG.random((3, 5)) > 0.5, RNG.random((3, 5))),
    (losses.Tversky(0.7, 0.3, dtype="float64"), RNG.random((3, 5)) > 0.5, RNG.random((3, 5))),
    (losses.Circle(gamma=8.0, dtype="float64"), np.array([0, 0, 1, 1, 2]), _unit_rows(5, 3)),
    (
        losses.CategoricalGeneralizedCrossEntropy(q=0.3, dtype="float64"),
        np.array([2, 0, 1]),
        RNG.random((3, 4)) + 0.1,
    ),
]


@pytest.mark.parametrize(
    ("loss", "y_true", "y_pred"), GRADIENT_CASES, ids=[type(c[0]).__name__ for c in GRADIENT_CASES]
)
def test_gradient_to_predictions_matches_finite_differences(loss, y_true, y_pred):
    y_true = torch.tensor(np.asarray(y_true, dtype="float64"))
    y_pred = torch.tensor(np.asarray(y_pred, dtype="float64"), requires_grad=True)
    (grad,) = torch.autograd.grad(loss(y_true, y_pred), y_pred)
    assert torch.isfinite(grad).all() and grad.abs().sum() > 0
    assert torch.autograd.gradcheck(lambda p: loss(y_true, p), (y_pred,), eps=1e-6, atol=1e-5)


CONFIG_CASES = [
    (
        losses.CategoricalFocalCrossentropy(
            alpha=[0.1, 0.9], gamma=1.0, from_logits=True, label_smoothing=0.2, axis=-1, name="f"
        ),
        {
            "alpha": [0.1, 0.9],
            "gamma": 1.0,
            "from_logits": True,
            "label_smoothing": 0.2,
            "axis": -1,
        },
    ),
    (losses.Dice(axis=(1, 2), reduction="sum"), {"axis": (1, 2)}),
    (losses.Tversky(alpha=0.2, beta=0.8, axis=1), {"alpha": 0.2, "beta": 0.8, "axis": 1}),
    (
        losses.Circle(gamma=30.0, margin=0.3, remove_diagonal=False),
        {"gamma": 30.0, "margin": 0.3, "remove_diagonal": False},
    ),
    (losses.CategoricalGeneralizedCrossEntropy(q=0.25, reduction=None), {"q": 0.25}),
]


@pytest.mark.parametrize(
    ("loss", "options"), CONFIG_CASES, ids=[type(c[0]).__name__ for c in CONFIG_CASES]
)
def test_config_round_trip_keeps_options(loss, options):
    config = loss.get_config()
    assert config == {"name": loss.name, "reduction": loss.reduction, **options}
    clone = type(loss).from_config(config)
    assert clone.get_config() == config
    rebuilt = losses.deserialize(losses.serialize(loss))
    assert type(rebuilt) is type(loss) and rebuilt.get_config() == config


def test_default_names_are_keras_names():
    names = [
        losses.CategoricalFocalCrossentropy().name,
        losses.Dice().name,
        losses.Tversky().name,
        losses.Circle().name,
        losses.CategoricalGeneralizedCrossEntropy().name,
    ]
    assert names == [
        "categorical_focal_crossentropy",
        "dice",
        "tversky",
        "circle",
        "categorical_generalized_cross_entropy",
    ]


@pytest.mark.parametrize(
    ("name", "function"),
    [
        ("categorical_focal_crossentropy", losses.categorical_focal_crossentropy),
        ("dice", losses.dice),
        ("tversky", losses.tversky),
        ("circle", losses.circle),
        ("categorical_generalized_cross_entropy", losses.categorical_generalized_cross_entropy),
    ],
)
def test_get_resolves_function_names(name, function):
    assert losses.get(name) is function


@pytest.mark.parametrize(
    "name",
    [
        "CategoricalFocalCrossentropy",
        "Dice",
        "Tversky",
        "Circle",
        "CategoricalGeneralizedCrossEntropy",
    ],
)
def test_get_instantiates_class_names(name):
    loss = losses.get(name)
    assert type(loss) is getattr(losses, name) and loss.reduction == "sum_over_batch_size"


def test_fit_with_dice_string_lowers_the_loss():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 4)).astype("float32")
    y = (x[:, :3] > 0).astype("float32")
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="sigmoid")])
    model.compile(optimizer=keras.optimizers.Adam(0.05), loss="dice")
    history = model.fit(x, y, batch_size=16, epochs=8, verbose=0)
    first, last = history.history["loss"][0], history.history["loss"][-1]
    assert last < 0.6 * first
