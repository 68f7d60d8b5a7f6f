"""F-scores, R2 and the correlation metrics against float64 numpy formulas and Keras 3.15."""

import warnings

import numpy as np
import pytest
import torch

import tritonlayers as keras
from tritonlayers import losses, metrics

EPS = 1e-7  # config.epsilon(), the padding Keras adds to every F-score division
RNG = np.random.default_rng(11)
N, C = 48, 4
PROBS = RNG.random((N, C)).astype("float32")
PROBS[3] = 0.0  # an all-zero row predicts no class when threshold is None
PROBS[5, :2] = PROBS[5].max()  # a tied maximum predicts both classes
LABELS = (RNG.random((N, C)) > 0.6).astype("float32")
WEIGHTS = RNG.random(N).astype("float32")
TARGETS = RNG.normal(size=(N, 3)).astype("float32")
PREDICTIONS = (TARGETS + 0.5 * RNG.normal(size=(N, 3))).astype("float32")

# The Keras docstring example for FBetaScore/F1Score.
DOC_TRUE = [[1, 1, 1], [1, 0, 0], [1, 1, 0]]
DOC_PRED = [[0.2, 0.6, 0.7], [0.2, 0.6, 0.6], [0.6, 0.8, 0.0]]
DOC_WEIGHTS = [0.5, 2.0, 1.0]
CORR_TRUE = [[0, 1, 0.5], [1, 1, 0.2]]
CORR_PRED = [[0.1, 0.9, 0.5], [1, 0.9, 0.2]]


def _in_batches(metric, y_true, y_pred, sample_weight=None, batches=3):
    for rows in np.array_split(np.arange(len(y_true)), batches):
        weight = None if sample_weight is None else sample_weight[rows]
        metric.update_state(y_true[rows], y_pred[rows], sample_weight=weight)
    return metric.result().cpu().numpy()


def _f_beta_reference(y_true, y_pred, beta, threshold, average, weights):
    y_true, y_pred = y_true.astype("float64"), y_pred.astype("float64")
    if threshold is None:
        row_max = y_pred.max(axis=-1, keepdims=True)
        predicted = ((y_pred >= row_max) & (np.abs(y_pred) > 1e-9)).astype("float64")
    else:
        predicted = (y_pred > threshold).astype("float64")
    w = np.ones((len(y_true), 1)) if weights is None else weights.astype("float64")[:, None]
    axis = None if average == "micro" else 0
    tp = (predicted * y_true * w).sum(axis)
    fp = (predicted * (1 - y_true) * w).sum(axis)
    fn = ((1 - predicted) * y_true * w).sum(axis)
    support = (y_true * w).sum(axis)
    precision, recall = tp / (tp + fp + EPS), tp / (tp + fn + EPS)
    b2 = beta**2
    score = (1 + b2) * precision * recall / (b2 * precision + recall + EPS)
    if average == "weighted":
        return (score * support / (support.sum() + EPS)).sum()
    return score if average is None else score.mean()


def _r2_reference(y_true, y_pred, weights, aggregation, num_regressors):
    y_true, y_pred = y_true.astype("float64"), y_pred.astype("float64")
    w = (
        np.ones_like(y_true)
        if weights is None
        else np.broadcast_to(weights.reshape(len(y_true), -1), y_true.shape)
    )
    mean = (w * y_true).sum(0) / w.sum(0)
    total = (w * (y_true - mean) ** 2).sum(0)
    scores = 1 - (w * (y_true - y_pred) ** 2).sum(0) / total
    if aggregation == "uniform_average":
        scores = scores.mean()
    elif aggregation == "variance_weighted_average":
        scores = (total * scores).sum() / total.sum()
    n, p = y_true.size, num_regressors
    return scores if p == 0 else 1 - (1 - scores) * (n - 1) / (n - p - 1)


def _pearson_reference(y_true, y_pred, axis):
    t = y_true.astype("float64") - y_true.mean(axis, keepdims=True)
    p = y_pred.astype("float64") - y_pred.mean(axis, keepdims=True)
    return (t * p).mean(axis) / (t.std(axis) * p.std(axis))


def _concordance_reference(y_true, y_pred, axis):
    t, p = y_true.astype("float64"), y_pred.astype("float64")
    covariance = ((t - t.mean(axis, keepdims=True)) * (p - p.mean(axis, keepdims=True))).mean(axis)
    return 2 * covariance / (t.var(axis) + p.var(axis) + (t.mean(axis) - p.mean(axis)) ** 2)


# ---------------------------------------------------------------- FBetaScore / F1Score


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("threshold", [None, 0.5, 0.3])
@pytest.mark.parametrize("average", [None, "micro", "macro", "weighted"])
def test_fbeta_score_matches_float64_formula(average, threshold, weighted):
    weights = WEIGHTS if weighted else None
    metric = metrics.FBetaScore(average=average, beta=2.0, threshold=threshold)
    got = _in_batches(metric, LABELS, PROBS, weights)
    want = _f_beta_reference(LABELS, PROBS, 2.0, threshold, average, weights)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


# Each number printed by Keras 3.15's FBetaScore(beta=2.0) on the docstring example.
@pytest.mark.parametrize(
    ("average", "threshold", "weights", "expected"),
    [
        (None, 0.5, None, [0.38461539, 0.90909094, 0.83333319]),
        (None, None, DOC_WEIGHTS, [0.0, 0.55555552, 0.55555546]),
        ("micro", None, None, 0.35714287),
        ("micro", 0.5, DOC_WEIGHTS, 0.51724142),
        ("macro", 0.5, None, 0.70901316),
        ("macro", None, DOC_WEIGHTS, 0.37037030),
        ("weighted", None, None, 0.30555552),
        ("weighted", 0.5, DOC_WEIGHTS, 0.47793728),
    ],
)
def test_fbeta_score_matches_keras_numbers(average, threshold, weights, expected):
    metric = metrics.FBetaScore(average=average, beta=2.0, threshold=threshold)
    metric.update_state(DOC_TRUE, DOC_PRED, sample_weight=weights)
    np.testing.assert_allclose(metric.result().numpy(), expected, rtol=1e-5, atol=1e-6)


def test_f1_score_is_fbeta_with_beta_one_on_keras_example():
    metric = metrics.F1Score(threshold=0.5)
    metric.update_state(DOC_TRUE, DOC_PRED)
    # Keras 3.15: [0.5, 0.8, 0.6666667]
    np.testing.assert_allclose(metric.result().numpy(), [0.5, 0.8, 0.6666667], rtol=1e-5)


def test_f1_score_without_threshold_predicts_every_tied_maximum_and_nothing_for_zeros():
    metric = metrics.F1Score()
    metric.update_state([[1, 0, 0], [0, 1, 0], [0, 0, 1]], [[0, 0, 0], [0.4, 0.4, 0.2], [0, 0, 1]])
    # Keras 3.15: [0.0, 0.99999982, 0.99999982] (row 0 predicts nothing; row 1 predicts 0 and 1)
    np.testing.assert_allclose(metric.result().numpy(), [0.0, 1.0, 1.0], atol=1e-6)


def test_fbeta_score_state_is_built_from_first_batch_per_class_or_scalar():
    per_class, micro = metrics.FBetaScore(), metrics.FBetaScore(average="micro")
    assert per_class.variables == [] and micro.variables == []
    for metric in (per_class, micro):
        metric.update_state(LABELS[:4], PROBS[:4])
    assert [tuple(v.shape) for v in per_class.variables] == [(C,)] * 4
    assert [tuple(v.shape) for v in micro.variables] == [()] * 4
    assert not any(v.requires_grad for v in per_class.variables)


def test_fbeta_score_reset_state_forgets_earlier_batches():
    metric = metrics.F1Score(average="macro", threshold=0.5)
    metric.update_state(LABELS[:10], 1 - PROBS[:10])
    metric.reset_state()
    got = _in_batches(metric, LABELS, PROBS)
    np.testing.assert_allclose(got, _f_beta_reference(LABELS, PROBS, 1.0, 0.5, "macro", None), 1e-5)


def test_fbeta_score_in_float64_keeps_float64_state():
    metric = metrics.F1Score(average="weighted", dtype="float64")
    got = _in_batches(metric, LABELS, PROBS, WEIGHTS)
    assert metric.result().dtype == torch.float64
    want = _f_beta_reference(LABELS, PROBS, 1.0, None, "weighted", WEIGHTS)
    np.testing.assert_allclose(got, want, rtol=1e-12)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"average": "median"}, "Invalid `average` argument value"),
        ({"beta": 2}, "It should be a Python float"),
        ({"beta": -1.0}, "It should be > 0"),
        ({"threshold": 1}, "It should be a Python float"),
        ({"threshold": 1.5}, "It should verify 0 < threshold <= 1"),
    ],
)
def test_fbeta_score_rejects_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        metrics.FBetaScore(**kwargs)


def test_f1_score_rejects_inputs_that_are_not_batch_by_class():
    with pytest.raises(ValueError, match=r"F1Score expects 2D inputs .* y_pred.shape=\(4,\)"):
        metrics.F1Score().update_state([1, 0, 1, 1], [0.9, 0.1, 0.8, 0.7])
    with pytest.raises(ValueError, match="same shape"):
        metrics.F1Score().update_state(LABELS[:, :1], PROBS)


def test_f1_score_rejects_a_later_batch_with_another_class_count():
    metric = metrics.F1Score()
    metric.update_state(LABELS, PROBS)
    with pytest.raises(ValueError, match=r"built for output_dim=4 .* y_pred.shape=\(48, 3\)"):
        metric.update_state(LABELS[:, :3], PROBS[:, :3])


def test_f1_score_rejects_sample_weight_of_wrong_shape():
    with pytest.raises(ValueError, match=r"F1Score 'f1_score': `sample_weight` must be"):
        metrics.F1Score().update_state(LABELS, PROBS, sample_weight=np.ones((N, 3)))


def test_f1_score_result_before_any_batch_is_an_error():
    with pytest.raises(ValueError, match="no result before its first `update_state`"):
        metrics.F1Score().result()


def test_f_score_configs_round_trip_as_keras_writes_them():
    f1 = metrics.F1Score(average="micro", threshold=0.4, name="f1")
    # Keras 3.15's F1Score config has no "beta"; FBetaScore's has one.
    assert f1.get_config() == {
        "name": "f1",
        "dtype": "float32",
        "average": "micro",
        "threshold": 0.4,
    }
    fbeta = metrics.FBetaScore(average="weighted", beta=0.5)
    clone = metrics.deserialize(metrics.serialize(fbeta))
    assert (type(clone), clone.get_config()) == (metrics.FBetaScore, fbeta.get_config())
    assert metrics.F1Score.from_config(f1.get_config()).get_config() == f1.get_config()


# ---------------------------------------------------------------- R2Score


@pytest.mark.parametrize("num_regressors", [0, 3])
@pytest.mark.parametrize(
    "weights", [None, WEIGHTS, WEIGHTS[:, None] * np.array([[1.0, 0.5, 2.0]], "float32")]
)
@pytest.mark.parametrize("aggregation", [None, "uniform_average", "variance_weighted_average"])
def test_r2_score_matches_float64_formula(aggregation, weights, num_regressors):
    metric = metrics.R2Score(class_aggregation=aggregation, num_regressors=num_regressors)
    got = _in_batches(metric, TARGETS, PREDICTIONS, weights)
    want = _r2_reference(TARGETS, PREDICTIONS, weights, aggregation, num_regressors)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_r2_score_matches_keras_example():
    metric = metrics.R2Score()
    metric.update_state([[1.0], [4.0], [3.0]], [[2.0], [4.0], [4.0]])
    np.testing.assert_allclose(float(metric.result()), 0.5714285, rtol=1e-6)  # Keras 3.15


def test_r2_score_of_a_constant_column_is_zero_before_adjustment():
    metric = metrics.R2Score(class_aggregation=None, num_regressors=1)
    metric.update_state([[1, 2], [4, 2], [3, 2], [0, 2]], [[2, 2], [4, 1], [4, 2], [1, 2]])
    # Keras 3.15: [0.65, -0.16666663]; n counts all 8 elements.
    np.testing.assert_allclose(metric.result().numpy(), [0.65, -1 / 6], rtol=1e-5)


def test_r2_score_variance_weighted_with_sample_weight_matches_keras():
    metric = metrics.R2Score(class_aggregation="variance_weighted_average")
    metric.update_state(
        [[1, 2], [4, 5], [3, 2], [0, 1]],
        [[2, 2], [4, 1], [4, 2], [1, 2]],
        sample_weight=[1.0, 2.0, 0.5, 1.0],
    )
    np.testing.assert_allclose(float(metric.result()), -0.34243706, rtol=1e-5)  # Keras 3.15


@pytest.mark.parametrize(
    ("num_regressors", "message"),
    [(11, "Division by zero in Adjusted R2"), (20, "More independent predictors")],
)
def test_r2_score_warns_and_falls_back_when_too_few_samples(num_regressors, message):
    adjusted = metrics.R2Score(num_regressors=num_regressors)
    plain = metrics.R2Score()
    for metric in (adjusted, plain):
        metric.update_state(TARGETS[:4], PREDICTIONS[:4])  # n = 12 elements
    with pytest.warns(UserWarning, match=message):
        got = float(adjusted.result())
    assert got == float(plain.result())


def test_r2_score_reset_state_restarts_the_sample_count():
    metric = metrics.R2Score(num_regressors=3)
    metric.update_state(TARGETS, PREDICTIONS)
    metric.reset_state()
    metric.update_state(TARGETS[:2], PREDICTIONS[:2])  # n = 6 > p + 1: no warning
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = float(metric.result())
    want = _r2_reference(TARGETS[:2], PREDICTIONS[:2], None, "uniform_average", 3)
    np.testing.assert_allclose(got, want, rtol=1e-5)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"class_aggregation": "median"}, "Invalid value for argument `class_aggregation`"),
        ({"num_regressors": -1}, "Expected a value >= 0"),
    ],
)
def test_r2_score_rejects_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        metrics.R2Score(**kwargs)


def test_r2_score_rejects_one_dimensional_inputs():
    with pytest.raises(ValueError, match=r"R2Score expects 2D inputs"):
        metrics.R2Score().update_state([1.0, 2.0, 3.0], [1.0, 2.0, 2.5])


def test_r2_score_config_round_trips():
    metric = metrics.R2Score(class_aggregation=None, num_regressors=2, name="r2")
    config = metric.get_config()
    assert config == {
        "name": "r2",
        "dtype": "float32",
        "class_aggregation": None,
        "num_regressors": 2,
    }
    assert metrics.R2Score.from_config(config).get_config() == config


# ---------------------------------------------------------------- correlations


@pytest.mark.parametrize("axis", [-1, 0, (0, 1)])
@pytest.mark.parametrize(
    ("function", "reference"),
    [
        (metrics.pearson_correlation, _pearson_reference),
        (metrics.concordance_correlation, _concordance_reference),
    ],
)
def test_correlation_functions_match_float64_formula(function, reference, axis):
    got = function(TARGETS, PREDICTIONS, axis=axis).numpy()
    want = reference(TARGETS, PREDICTIONS, axis)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_correlation_functions_match_keras_example():
    pearson = metrics.pearson_correlation(CORR_TRUE, CORR_PRED).numpy()
    concordance = metrics.concordance_correlation(CORR_TRUE, CORR_PRED).numpy()
    # Keras 3.15 docstrings: [1.0, 0.99339927] and [0.97560976, 0.98765432].
    np.testing.assert_allclose(pearson, [1.0, 0.99339927], rtol=1e-6)
    np.testing.assert_allclose(concordance, [0.97560976, 0.98765432], rtol=1e-6)


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize(
    ("metric", "reference"),
    [
        (metrics.PearsonCorrelation, _pearson_reference),
        (metrics.ConcordanceCorrelation, _concordance_reference),
    ],
)
def test_correlation_metrics_average_per_sample_values(metric, reference, weighted):
    weights = WEIGHTS if weighted else np.ones(N)
    got = _in_batches(metric(), TARGETS, PREDICTIONS, WEIGHTS if weighted else None)
    per_sample = reference(TARGETS, PREDICTIONS, -1)
    np.testing.assert_allclose(got, (per_sample * weights).sum() / weights.sum(), rtol=1e-5)


def test_correlation_metric_on_axis_0_averages_each_batch_column_values():
    # Keras's MeanMetricWrapper: each batch adds its per-column coefficients to the mean.
    got = _in_batches(metrics.PearsonCorrelation(axis=0), TARGETS, PREDICTIONS, batches=3)
    rows = np.array_split(np.arange(N), 3)
    want = np.mean([_pearson_reference(TARGETS[r], PREDICTIONS[r], 0) for r in rows])
    np.testing.assert_allclose(got, want, rtol=1e-5)


def test_correlation_metrics_match_keras_example():
    pearson, concordance = metrics.PearsonCorrelation(), metrics.ConcordanceCorrelation()
    pearson.update_state(CORR_TRUE, CORR_PRED)
    concordance.update_state(CORR_TRUE, CORR_PRED)
    # Keras 3.15 docstrings: 0.9966996338993913 and 0.9816320385426076.
    np.testing.assert_allclose(float(pearson.result()), 0.99669963, rtol=1e-6)
    np.testing.assert_allclose(float(concordance.result()), 0.98163204, rtol=1e-6)


def test_correlation_of_mismatched_shapes_is_an_error():
    with pytest.raises(ValueError, match=r"pearson_correlation expects y_true and y_pred"):
        metrics.pearson_correlation(TARGETS[:, :2], PREDICTIONS)
    with pytest.raises(ValueError, match=r"concordance_correlation expects y_true and y_pred"):
        metrics.ConcordanceCorrelation().update_state(TARGETS[:, :2], PREDICTIONS)


def test_correlation_metric_configs_round_trip():
    for cls in (metrics.PearsonCorrelation, metrics.ConcordanceCorrelation):
        metric = cls(name="corr", axis=0)
        assert metric.get_config() == {"name": "corr", "dtype": "float32", "axis": 0}
        assert cls.from_config(metric.get_config()).get_config() == metric.get_config()
        assert metric._direction == "up"


# ---------------------------------------------------------------- lookup and training


@pytest.mark.parametrize(
    ("identifier", "cls"),
    [
        ("f1_score", metrics.F1Score),
        ("F1Score", metrics.F1Score),
        ("f_beta_score", metrics.FBetaScore),
        ("r2_score", metrics.R2Score),
        ("pearson_correlation", metrics.PearsonCorrelation),
        ("concordance_correlation", metrics.ConcordanceCorrelation),
    ],
)
def test_get_resolves_names_to_new_metric_classes_as_keras_does(identifier, cls):
    assert type(metrics.get(identifier)) is cls


LOSS_FUNCTION_NAMES = [
    "binary_crossentropy",
    "binary_focal_crossentropy",
    "categorical_crossentropy",
    "categorical_hinge",
    "hinge",
    "huber",
    "kl_divergence",
    "log_cosh",
    "mean_absolute_error",
    "mean_absolute_percentage_error",
    "mean_squared_error",
    "mean_squared_logarithmic_error",
    "poisson",
    "sparse_categorical_crossentropy",
    "squared_hinge",
]


@pytest.mark.parametrize("name", LOSS_FUNCTION_NAMES)
def test_metrics_namespace_re_exports_loss_functions(name):
    assert getattr(metrics, name) is getattr(losses, name)
    assert name in metrics.__all__


def test_re_exported_loss_names_do_not_resolve_through_get_as_in_keras():
    # Keras 3.15: metrics.get("huber") raises; "mean_squared_error" is the metric class.
    with pytest.raises(ValueError, match="Could not interpret metric identifier"):
        metrics.get("huber")
    assert isinstance(metrics.get("mean_squared_error"), metrics.MeanSquaredError)


def test_update_state_of_new_metrics_does_not_sync_the_host(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("update_state read a tensor back to the host")

    built = [metrics.F1Score(average="weighted"), metrics.R2Score(num_regressors=1)]
    labels, probs = torch.tensor(LABELS), torch.tensor(PROBS)
    weights = torch.tensor(WEIGHTS)
    for metric in built:
        metric.update_state(labels, probs)  # the first batch builds the state
    fresh = [metrics.FBetaScore(beta=0.5, threshold=0.5), metrics.ConcordanceCorrelation()]
    monkeypatch.setattr(torch.Tensor, "item", refuse)
    monkeypatch.setattr(torch.Tensor, "__bool__", refuse)
    monkeypatch.setattr(torch.Tensor, "__float__", refuse)
    for metric in built + fresh:
        metric.update_state(labels, probs, sample_weight=weights)
        metric.result()


def test_compiled_string_metrics_in_fit_match_the_metric_on_predictions():
    keras.utils.set_random_seed(0)
    x = RNG.normal(size=(32, 5)).astype("float32")
    y = np.eye(3, dtype="float32")[RNG.integers(0, 3, 32)]
    model = keras.Sequential(
        [keras.layers.Input((5,)), keras.layers.Dense(3, activation="softmax")]
    )
    model.compile(
        optimizer="sgd",
        loss="categorical_crossentropy",
        metrics=["f1_score", "r2_score", metrics.F1Score(average="macro", name="f1_macro")],
    )
    history = model.fit(x, y, batch_size=8, epochs=1, verbose=0)
    assert {"f1_score", "f1_macro", "r2_score"} <= set(history.history)
    logs = model.evaluate(x, y, batch_size=8, verbose=0, return_dict=True)
    predictions = model.predict(x, verbose=0)
    want = _f_beta_reference(y, np.asarray(predictions), 1.0, None, None, None)
    np.testing.assert_allclose(logs["f1_score"], want, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(logs["f1_macro"], want.mean(), rtol=1e-5, atol=1e-6)
    r2 = _r2_reference(y, np.asarray(predictions), None, "uniform_average", 0)
    np.testing.assert_allclose(logs["r2_score"], r2, rtol=1e-4, atol=1e-5)


def test_update_state_of_new_metrics_traces_into_one_torch_compile_graph():
    import torch._dynamo

    labels, probs, weights = torch.tensor(LABELS), torch.tensor(PROBS), torch.tensor(WEIGHTS)
    metric_list = [
        metrics.F1Score(average="weighted"),
        metrics.R2Score(num_regressors=1),
        metrics.PearsonCorrelation(),
    ]

    def update():
        for metric in metric_list:
            metric.update_state(labels, probs, sample_weight=weights)

    update()  # the first batch builds the state
    explanation = torch._dynamo.explain(update)()
    assert (explanation.graph_count, explanation.graph_break_count) == (1, 0)
