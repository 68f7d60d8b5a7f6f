"""Losses against hand-written float64 numpy formulas (Keras 3's definitions)."""

import numpy as np
import pytest
import torch

from tritonlayers import losses

EPS = 1e-7
RNG = np.random.default_rng(1234)
Y_TRUE = RNG.random((4, 5)).astype("float32")
Y_PRED = (RNG.random((4, 5)) * 1.5 + 0.01).astype("float32")
Y_BIN = (RNG.random((4, 5)) > 0.5).astype("float32")
LABELS = RNG.integers(0, 5, size=(4,))
ONE_HOT = np.eye(5, dtype="float32")[LABELS]
WEIGHTS = RNG.random((4,)).astype("float32")


def _f64(*arrays):
    return [np.asarray(a, dtype="float64") for a in arrays]


def _np_bce(t, p):
    # Keras clips in float32, where 1 - 1e-7 rounds to 1 - 1.19e-7.
    p = np.clip(p.astype("float32"), np.float32(EPS), np.float32(1 - EPS)).astype("float64")
    return -(t * np.log(p) + (1 - t) * np.log(1 - p))


def _np_sigmoid(x):
    return 1 / (1 + np.exp(-x))


def _np_log_softmax(x):
    x = x - x.max(-1, keepdims=True)
    return x - np.log(np.exp(x).sum(-1, keepdims=True))


def _per_sample_reference(name, t, p):
    t, p = _f64(t, p)
    if name == "mean_squared_error":
        return ((t - p) ** 2).mean(-1)
    if name == "mean_absolute_error":
        return np.abs(t - p).mean(-1)
    if name == "mean_absolute_percentage_error":
        return 100 * np.abs((t - p) / np.maximum(np.abs(t), EPS)).mean(-1)
    if name == "mean_squared_logarithmic_error":
        return ((np.log(np.maximum(p, EPS) + 1) - np.log(np.maximum(t, EPS) + 1)) ** 2).mean(-1)
    if name == "log_cosh":
        return np.log(np.cosh(p - t)).mean(-1)
    if name == "binary_crossentropy":
        return _np_bce(t, p).mean(-1)
    if name == "kl_divergence":
        t, p = np.clip(t, EPS, 1), np.clip(p, EPS, 1)
        return (t * np.log(t / p)).sum(-1)
    if name == "poisson":
        return (p - t * np.log(p + EPS)).mean(-1)
    if name == "cosine_similarity":
        tn = t / np.linalg.norm(t, axis=-1, keepdims=True)
        pn = p / np.linalg.norm(p, axis=-1, keepdims=True)
        return -(tn * pn).sum(-1)
    if name == "hinge":
        return np.maximum(1 - (2 * t - 1) * p, 0).mean(-1)
    if name == "squared_hinge":
        return (np.maximum(1 - (2 * t - 1) * p, 0) ** 2).mean(-1)
    if name == "categorical_hinge":
        return np.maximum(((1 - t) * p).max(-1) - (t * p).sum(-1) + 1, 0)
    raise KeyError(name)


@pytest.mark.parametrize(
    ("name", "y_true", "y_pred"),
    [
        ("mean_squared_error", Y_TRUE, Y_PRED),
        ("mean_absolute_error", Y_TRUE, Y_PRED),
        ("mean_absolute_percentage_error", Y_TRUE, Y_PRED),
        ("mean_squared_logarithmic_error", Y_TRUE, Y_PRED),
        ("log_cosh", Y_TRUE, Y_PRED * 3),
        ("binary_crossentropy", Y_BIN, np.clip(Y_PRED, 0, 1)),
        ("kl_divergence", Y_TRUE, Y_PRED),
        ("poisson", Y_TRUE, Y_PRED),
        ("cosine_similarity", Y_TRUE - 0.5, Y_PRED - 0.5),
        ("hinge", Y_BIN, Y_PRED - 0.5),
        ("squared_hinge", Y_BIN, Y_PRED - 0.5),
        ("categorical_hinge", ONE_HOT, Y_PRED),
    ],
)
def test_loss_function_matches_numpy_formula(name, y_true, y_pred):
    got = getattr(losses, name)(y_true, y_pred)
    np.testing.assert_allclose(
        got.cpu().numpy(), _per_sample_reference(name, y_true, y_pred), 1e-5, 1e-6
    )


def test_huber_is_quadratic_inside_delta_and_linear_outside():
    t, p = _f64(Y_TRUE, Y_PRED * 2)
    err = np.abs(p - t)
    want = np.where(err <= 0.3, 0.5 * err**2, 0.3 * err - 0.5 * 0.09).mean(-1)
    np.testing.assert_allclose(
        losses.huber(Y_TRUE, Y_PRED * 2, delta=0.3).cpu().numpy(), want, 1e-5
    )


def test_binary_crossentropy_from_logits_with_label_smoothing():
    logits = Y_PRED * 4 - 2
    t = Y_BIN * 0.9 + 0.05
    want = _np_bce(*_f64(t, _np_sigmoid(logits.astype("float64")))).mean(-1)
    got = losses.BinaryCrossentropy(from_logits=True, label_smoothing=0.1, reduction=None)
    np.testing.assert_allclose(got(Y_BIN, logits).cpu().numpy(), want, 1e-5)


def test_binary_focal_crossentropy_applies_focal_factor_and_class_balance():
    t, p = _f64(Y_BIN, np.clip(Y_PRED, 0, 1))
    p_t = t * p + (1 - t) * (1 - p)
    weight = t * 0.25 + (1 - t) * 0.75
    want = (weight * (1 - p_t) ** 1.5 * _np_bce(t, p)).mean(-1)
    loss = losses.BinaryFocalCrossentropy(apply_class_balancing=True, gamma=1.5, reduction="none")
    np.testing.assert_allclose(loss(Y_BIN, np.clip(Y_PRED, 0, 1)).cpu().numpy(), want, 1e-5)


def test_categorical_crossentropy_renormalises_probabilities():
    t, p = _f64(ONE_HOT, Y_PRED)
    want = -(t * np.log(np.clip(p / p.sum(-1, keepdims=True), EPS, 1 - EPS))).sum(-1)
    np.testing.assert_allclose(
        losses.categorical_crossentropy(ONE_HOT, Y_PRED).cpu().numpy(), want, 1e-5
    )


def test_categorical_crossentropy_from_logits_with_label_smoothing():
    t = ONE_HOT.astype("float64") * 0.8 + 0.2 / 5
    want = -(t * _np_log_softmax(Y_PRED.astype("float64") * 3)).sum(-1)
    got = losses.categorical_crossentropy(
        ONE_HOT, Y_PRED * 3, from_logits=True, label_smoothing=0.2
    )
    np.testing.assert_allclose(got.cpu().numpy(), want, 1e-5)


def test_sparse_categorical_crossentropy_equals_categorical_on_one_hot():
    sparse = losses.sparse_categorical_crossentropy(LABELS, Y_PRED * 3, from_logits=True)
    dense = losses.categorical_crossentropy(ONE_HOT, Y_PRED * 3, from_logits=True)
    np.testing.assert_allclose(sparse.cpu().numpy(), dense.cpu().numpy(), 1e-6)


def test_sparse_categorical_crossentropy_ignore_class_averages_over_valid_labels():
    labels = np.array([0, 2, 1, 2])
    per_sample = -_np_log_softmax(Y_PRED.astype("float64"))[np.arange(4), labels]
    want = per_sample[[0, 2]].mean()
    loss = losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=2)
    np.testing.assert_allclose(float(loss(labels, Y_PRED)), want, 1e-5)


@pytest.mark.parametrize(
    ("reduction", "reduce"),
    [
        ("sum_over_batch_size", lambda v, w: (v * w).sum() / v.size),
        ("mean", lambda v, w: (v * w).sum() / v.size),
        ("sum", lambda v, w: (v * w).sum()),
        ("mean_with_sample_weight", lambda v, w: (v * w).sum() / w.sum()),
        ("none", lambda v, w: v * w),
        (None, lambda v, w: v * w),
    ],
)
def test_reduction_with_sample_weight(reduction, reduce):
    per_sample = ((Y_TRUE.astype("float64") - Y_PRED) ** 2).mean(-1)
    got = losses.MeanSquaredError(reduction=reduction)(Y_TRUE, Y_PRED, sample_weight=WEIGHTS)
    np.testing.assert_allclose(got.cpu().numpy(), reduce(per_sample, WEIGHTS), 1e-5)


def test_keras_mask_on_y_pred_averages_over_unmasked_samples_only():
    y_pred = torch.tensor(Y_PRED)
    y_pred._keras_mask = torch.tensor([True, False, True, True])
    per_sample = ((Y_TRUE.astype("float64") - Y_PRED) ** 2).mean(-1)
    got = losses.MeanSquaredError()(Y_TRUE, y_pred)
    np.testing.assert_allclose(float(got), per_sample[[0, 2, 3]].mean(), 1e-5)


def test_unknown_reduction_is_rejected_with_the_allowed_list():
    with pytest.raises(ValueError, match="Invalid value for argument `reduction`"):
        losses.MeanSquaredError(reduction="avg")


def test_loss_keeps_gradient_to_predictions():
    y_pred = torch.tensor(Y_PRED, requires_grad=True)
    losses.MeanSquaredError()(Y_TRUE, y_pred).backward()
    want = 2 * (Y_PRED - Y_TRUE) / Y_PRED.size
    np.testing.assert_allclose(y_pred.grad.cpu().numpy(), want, 1e-5, 1e-7)


@pytest.mark.parametrize("shape", [(4, 5), (3, 2, 5), (7,)])
def test_mse_of_plain_batches_matches_the_per_sample_path_with_gradients(shape):
    y_true = torch.rand(shape, dtype=torch.float64)
    y_pred = torch.rand(shape, dtype=torch.float64, requires_grad=True)
    fused = losses.MeanSquaredError(dtype="float64")(y_true, y_pred)
    (fused_grad,) = torch.autograd.grad(fused, y_pred)
    per_sample = losses.mean_squared_error(y_true, y_pred)
    reference = per_sample.sum() / per_sample.numel() if per_sample.ndim else per_sample
    (reference_grad,) = torch.autograd.grad(reference, y_pred)
    torch.testing.assert_close(fused, reference, rtol=1e-12, atol=0)
    torch.testing.assert_close(fused_grad, reference_grad, rtol=1e-12, atol=0)


def test_mse_broadcasts_a_rank_1_target_against_a_column_prediction():
    y_true, y_pred = torch.tensor([1.0, 2.0, 3.0]), torch.tensor([[1.0], [0.0], [3.0]])
    assert float(losses.MeanSquaredError()(y_true, y_pred)) == pytest.approx(4 / 3)


def test_compile_string_mse_resolves_to_the_loss_class_with_its_name():
    from tritonlayers.models.compile_utils import resolve_loss

    loss = resolve_loss("mse")
    assert isinstance(loss, losses.MeanSquaredError) and loss.name == "mse"


@pytest.mark.parametrize(
    ("alias", "function"),
    [
        ("mse", losses.mean_squared_error),
        ("mae", losses.mean_absolute_error),
        ("mape", losses.mean_absolute_percentage_error),
        ("binary_crossentropy", losses.binary_crossentropy),
        ("kld", losses.kl_divergence),
    ],
)
def test_get_resolves_string_aliases_to_functions(alias, function):
    assert losses.get(alias) is function


def test_get_instantiates_class_names():
    loss = losses.get("SparseCategoricalCrossentropy")
    assert isinstance(loss, losses.SparseCategoricalCrossentropy)
    assert loss.reduction == "sum_over_batch_size"


def test_get_rejects_unknown_names():
    with pytest.raises(ValueError, match="Could not interpret loss identifier"):
        losses.get("not_a_loss")


def test_config_round_trip_keeps_options():
    loss = losses.BinaryFocalCrossentropy(gamma=3.0, from_logits=True, reduction="sum", name="f")
    config = loss.get_config()
    assert config == {
        "name": "f",
        "reduction": "sum",
        "apply_class_balancing": False,
        "alpha": 0.25,
        "gamma": 3.0,
        "from_logits": True,
        "label_smoothing": 0.0,
        "axis": -1,
    }
    clone = losses.BinaryFocalCrossentropy.from_config(config)
    np.testing.assert_allclose(
        clone(Y_BIN, Y_PRED).cpu().numpy(), loss(Y_BIN, Y_PRED).cpu().numpy()
    )


def test_deserialize_builds_class_from_keras_dict():
    loss = losses.deserialize({"class_name": "Huber", "config": {"delta": 2.0, "name": "h"}})
    assert (type(loss), loss.delta, loss.name) == (losses.Huber, 2.0, "h")


@pytest.mark.gpu
@pytest.mark.parametrize(
    "loss",
    [
        losses.MeanSquaredError(),
        losses.BinaryCrossentropy(from_logits=True),
        losses.CategoricalCrossentropy(label_smoothing=0.1),
        losses.Hinge(),
        losses.SparseCategoricalCrossentropy(ignore_class=2),
    ],
    ids=["mse", "bce_logits", "cce", "hinge", "sparse_ignore"],
)
def test_cuda_loss_never_syncs_and_matches_cpu(loss):
    sparse = isinstance(loss, losses.SparseCategoricalCrossentropy)
    y_true = torch.tensor(LABELS) if sparse else torch.tensor(Y_BIN)
    y_pred, weight = torch.tensor(Y_PRED), torch.tensor(WEIGHTS)
    cuda_args, cuda_weight = (y_true.cuda(), y_pred.cuda()), weight.cuda()
    torch.cuda.synchronize()
    torch.cuda.set_sync_debug_mode("error")
    try:
        got = loss(*cuda_args, sample_weight=cuda_weight)
    finally:
        torch.cuda.set_sync_debug_mode("default")
    want = loss(y_true, y_pred, sample_weight=weight)
    np.testing.assert_allclose(got.cpu().cpu().numpy(), want.numpy(), 1e-5, 1e-6)


def test_serialize_round_trip_through_keras_config_dict():
    config = losses.serialize(losses.Huber(delta=2.0, reduction="sum"))
    assert (config["class_name"], config["config"]["delta"]) == ("Huber", 2.0)
    clone = losses.deserialize(config)
    assert (type(clone), clone.delta, clone.reduction) == (losses.Huber, 2.0, "sum")
    assert losses.deserialize(losses.serialize(losses.mean_squared_error)) is (
        losses.mean_squared_error
    )


def test_mixed_precision_policy_name_computes_in_its_compute_dtype():
    loss = losses.MeanSquaredError(dtype="mixed_bfloat16")
    assert loss.dtype == "bfloat16"
    assert loss(Y_TRUE, Y_PRED).dtype == torch.bfloat16
