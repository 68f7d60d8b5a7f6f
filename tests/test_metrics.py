"""Metrics against numpy formulas: state accumulates across batches, on the device, no syncs."""

import numpy as np
import pytest
import torch

from tritonlayers import metrics

RNG = np.random.default_rng(3)
N, C = 64, 5
PROBS = RNG.random((N, C)).astype("float32")
SCORES = RNG.random((N, 1)).astype("float32")
BINARY = (RNG.random((N, 1)) > 0.5).astype("float32")
LABELS = RNG.integers(0, C, size=(N,))
ONE_HOT = np.eye(C, dtype="float32")[LABELS]
TARGETS = RNG.random((N, C)).astype("float32")
WEIGHTS = RNG.random((N,)).astype("float32")


def _update_in_two_batches(metric, *arrays, sample_weight=None):
    for half in (slice(0, N // 2), slice(N // 2, N)):
        weight = None if sample_weight is None else sample_weight[half]
        metric.update_state(*(a[half] for a in arrays), sample_weight=weight)
    return metric.result().cpu().numpy()


def _weighted_mean(values, weights=None):
    weights = np.ones(len(values)) if weights is None else weights
    return float((values * weights).sum() / weights.sum())


@pytest.mark.parametrize("weights", [None, WEIGHTS], ids=["unweighted", "weighted"])
@pytest.mark.parametrize(
    ("metric", "args", "per_sample"),
    [
        (metrics.MeanSquaredError, (TARGETS, PROBS), ((TARGETS - PROBS) ** 2).mean(-1)),
        (metrics.MeanAbsoluteError, (TARGETS, PROBS), np.abs(TARGETS - PROBS).mean(-1)),
        (metrics.BinaryAccuracy, (BINARY, SCORES), ((SCORES > 0.5) == BINARY)[:, 0]),
        (metrics.CategoricalAccuracy, (ONE_HOT, PROBS), PROBS.argmax(-1) == LABELS),
        (metrics.SparseCategoricalAccuracy, (LABELS, PROBS), PROBS.argmax(-1) == LABELS),
        (metrics.Accuracy, (LABELS, PROBS.argmax(-1)), PROBS.argmax(-1) == LABELS),
        (
            lambda: metrics.TopKCategoricalAccuracy(k=2),
            (ONE_HOT, PROBS),
            (np.argsort(-PROBS, -1)[:, :2] == LABELS[:, None]).any(-1),
        ),
    ],
    ids=["mse", "mae", "binary_acc", "categorical_acc", "sparse_acc", "accuracy", "top2"],
)
def test_mean_metric_matches_weighted_numpy_mean(metric, args, per_sample, weights):
    got = _update_in_two_batches(metric(), *args, sample_weight=weights)
    np.testing.assert_allclose(got, _weighted_mean(per_sample.astype("float64"), weights), 1e-5)


def test_root_mean_squared_error_is_root_of_element_mean():
    got = _update_in_two_batches(metrics.RootMeanSquaredError(), TARGETS, PROBS)
    np.testing.assert_allclose(got, np.sqrt(((TARGETS - PROBS) ** 2).mean()), 1e-5)


def test_mean_and_sum_of_values_with_weights():
    mean, total = metrics.Mean(), metrics.Sum()
    for metric in (mean, total):
        metric.update_state([1, 3, 5, 7], sample_weight=[1, 1, 0, 0])
        metric.update_state([2.0], sample_weight=[2.0])
    assert (float(mean.result()), float(total.result())) == (pytest.approx(8 / 4), 8.0)


def test_reset_state_zeroes_the_accumulators():
    metric = metrics.Mean()
    metric.update_state([1.0, 2.0])
    metric.reset_state()
    metric.update_state([5.0])
    assert float(metric.result()) == 5.0


def test_calling_a_metric_updates_and_returns_the_running_result():
    metric = metrics.Mean()
    metric([1.0])
    assert float(metric([3.0])) == 2.0


def _numpy_confusion(labels, scores, threshold, weights=None):
    weights = np.ones_like(scores) if weights is None else np.broadcast_to(weights, scores.shape)
    predicted = scores > threshold
    tp = (weights * (predicted & labels)).sum()
    fp = (weights * (predicted & ~labels)).sum()
    fn = (weights * (~predicted & labels)).sum()
    tn = (weights * (~predicted & ~labels)).sum()
    return tp, fp, tn, fn


def test_precision_and_recall_at_default_threshold():
    labels = BINARY[:, 0].astype(bool)
    tp, fp, _, fn = _numpy_confusion(labels, SCORES[:, 0], 0.5, WEIGHTS)
    precision = _update_in_two_batches(metrics.Precision(), BINARY, SCORES, sample_weight=WEIGHTS)
    recall = _update_in_two_batches(metrics.Recall(), BINARY, SCORES, sample_weight=WEIGHTS)
    np.testing.assert_allclose([precision, recall], [tp / (tp + fp), tp / (tp + fn)], 1e-5)


def test_precision_with_several_thresholds_returns_one_value_each():
    labels = BINARY[:, 0].astype(bool)
    want = []
    for t in (0.3, 0.6):
        tp, fp, _, _ = _numpy_confusion(labels, SCORES[:, 0], t)
        want.append(tp / (tp + fp))
    got = _update_in_two_batches(metrics.Precision(thresholds=[0.3, 0.6]), BINARY, SCORES)
    np.testing.assert_allclose(got, want, 1e-5)


def test_recall_top_k_counts_only_the_k_best_classes():
    top2 = np.argsort(-PROBS, -1)[:, :2]
    hits = (top2 == LABELS[:, None]).any(-1)
    got = _update_in_two_batches(metrics.Recall(top_k=2), ONE_HOT, PROBS)
    np.testing.assert_allclose(got, hits.mean(), 1e-5)


def test_precision_class_id_scores_one_column():
    labels, scores = ONE_HOT[:, 2].astype(bool), PROBS[:, 2]
    tp, fp, _, _ = _numpy_confusion(labels, scores, 0.5)
    got = _update_in_two_batches(metrics.Precision(class_id=2), ONE_HOT, PROBS)
    np.testing.assert_allclose(got, tp / (tp + fp), 1e-5)


def _numpy_roc_auc(labels, scores, num_thresholds, weights=None):
    eps = 1e-7
    inner = [(i + 1) / (num_thresholds - 1) for i in range(num_thresholds - 2)]
    tpr, fpr = [], []
    for t in [-eps, *inner, 1 + eps]:
        tp, fp, tn, fn = _numpy_confusion(labels, scores, t, weights)
        tpr.append(tp / (tp + fn))
        fpr.append(fp / (fp + tn))
    tpr, fpr = np.array(tpr), np.array(fpr)
    return float(((fpr[:-1] - fpr[1:]) * (tpr[:-1] + tpr[1:]) / 2).sum())


def test_auc_roc_uses_trapezoids_over_evenly_spaced_thresholds():
    labels = BINARY[:, 0].astype(bool)
    want = _numpy_roc_auc(labels, SCORES[:, 0], 200, WEIGHTS)
    got = _update_in_two_batches(metrics.AUC(), BINARY, SCORES, sample_weight=WEIGHTS)
    np.testing.assert_allclose(got, want, 1e-5)


def test_auc_with_explicit_thresholds_matches_evenly_spaced_equivalent():
    inner = [(i + 1) / 9 for i in range(8)]
    explicit = _update_in_two_batches(metrics.AUC(thresholds=inner), BINARY, SCORES)
    even = _update_in_two_batches(metrics.AUC(num_thresholds=10), BINARY, SCORES)
    np.testing.assert_allclose(explicit, even, 1e-6)


def test_auc_of_perfect_ranking_is_one():
    metric = metrics.AUC()
    metric.update_state([0, 0, 1, 1], [0.1, 0.2, 0.8, 0.9])
    assert float(metric.result()) == pytest.approx(1.0)


def test_auc_multi_label_averages_per_label_roc():
    labels = (RNG.random((N, C)) > 0.5).astype("float32")
    want = np.mean([_numpy_roc_auc(labels[:, j].astype(bool), PROBS[:, j], 200) for j in range(C)])
    got = _update_in_two_batches(metrics.AUC(multi_label=True), labels, PROBS)
    np.testing.assert_allclose(got, want, 1e-5)


def test_auc_rejects_unknown_curve():
    with pytest.raises(ValueError, match='Invalid `curve` argument value "XYZ"'):
        metrics.AUC(curve="xyz")


def test_state_lives_in_non_trainable_variables():
    metric = metrics.AUC(num_thresholds=10)
    assert [tuple(v.shape) for v in metric.variables] == [(10,)] * 4
    assert not any(v.requires_grad for v in metric.variables)


def test_update_state_does_not_sync_the_host(monkeypatch):
    # Reading a value back (`.item()`, `bool(tensor)`, `float(tensor)`) would sync a GPU.
    def refuse(*args, **kwargs):
        raise AssertionError("update_state read a tensor back to the host")

    metric_list = [metrics.Mean(), metrics.AUC(), metrics.Precision(), metrics.BinaryAccuracy()]
    y_true, y_pred = torch.tensor(BINARY), torch.tensor(SCORES)
    monkeypatch.setattr(torch.Tensor, "item", refuse)
    monkeypatch.setattr(torch.Tensor, "__bool__", refuse)
    monkeypatch.setattr(torch.Tensor, "__float__", refuse)
    metric_list[0].update_state(y_pred)
    for metric in metric_list[1:]:
        metric.update_state(y_true, y_pred)


def test_get_resolves_strings_to_metric_instances():
    assert isinstance(metrics.get("mae"), metrics.MeanAbsoluteError)
    assert isinstance(metrics.get("AUC"), metrics.AUC)
    assert isinstance(metrics.get("root_mean_squared_error"), metrics.RootMeanSquaredError)
    with pytest.raises(ValueError, match="Could not interpret metric identifier"):
        metrics.get("no_such_metric")


@pytest.mark.parametrize(
    ("y_true_shape", "y_pred_shape", "expected"),
    [
        ((8, 1), (8, 1), metrics.BinaryAccuracy),
        ((8,), (8, 10), metrics.SparseCategoricalAccuracy),
        ((8, 1), (8, 10), metrics.SparseCategoricalAccuracy),
        ((8, 10), (8, 10), metrics.CategoricalAccuracy),
    ],
)
def test_get_metric_resolves_accuracy_from_shapes(y_true_shape, y_pred_shape, expected):
    metric = metrics.get_metric("accuracy", torch.zeros(y_true_shape), torch.zeros(y_pred_shape))
    assert (type(metric), metric.name) == (expected, "accuracy")


def test_get_metric_wraps_plain_functions_in_mean_metric_wrapper():
    metric = metrics.get_metric(metrics.binary_accuracy, torch.zeros(2, 1), torch.zeros(2, 1))
    assert (type(metric), metric.name) == (metrics.MeanMetricWrapper, "binary_accuracy")


def test_config_round_trip_keeps_arguments():
    metric = metrics.AUC(num_thresholds=50, curve="PR", name="pr_auc")
    clone = metrics.AUC.from_config(metric.get_config())
    assert clone.get_config() == metric.get_config()


@pytest.mark.gpu
def test_cuda_update_state_never_syncs_and_matches_cpu():
    def make():
        return [
            metrics.Mean(),
            metrics.BinaryAccuracy(),
            metrics.Precision(),
            metrics.AUC(),
            metrics.AUC(curve="PR", label_weights=[2.0]),
        ]

    cpu, cuda = make(), make()
    y_true, y_pred, weight = (torch.tensor(a) for a in (BINARY, SCORES, WEIGHTS))
    for metric_cpu, metric_cuda in zip(cpu, cuda):
        args = (y_pred,) if type(metric_cpu) is metrics.Mean else (y_true, y_pred)
        metric_cpu.update_state(*args, sample_weight=weight)
        cuda_args, cuda_weight = [a.cuda() for a in args], weight.cuda()
        metric_cuda.update_state(*cuda_args, sample_weight=cuda_weight)
        torch.cuda.synchronize()
        torch.cuda.set_sync_debug_mode("error")
        try:
            metric_cuda.update_state(*cuda_args, sample_weight=cuda_weight)
        finally:
            torch.cuda.set_sync_debug_mode("default")
        metric_cpu.update_state(*args, sample_weight=weight)
        np.testing.assert_allclose(
            metric_cuda.result().cpu().cpu().numpy(), metric_cpu.result().cpu().numpy(), 1e-5
        )


def test_serialize_round_trip_through_keras_config_dict():
    config = metrics.serialize(metrics.BinaryAccuracy(threshold=0.7, name="acc"))
    clone = metrics.deserialize(config)
    assert (type(clone), clone.threshold, clone.name) == (metrics.BinaryAccuracy, 0.7, "acc")


def test_update_state_traces_into_one_torch_compile_graph():
    import torch._dynamo

    auc, accuracy = metrics.AUC(), metrics.BinaryAccuracy()
    y_true, y_pred = torch.tensor(BINARY), torch.tensor(SCORES)

    def update():
        auc.update_state(y_true, y_pred)
        accuracy.update_state(y_true, y_pred)

    update()
    explanation = torch._dynamo.explain(update)()
    assert (explanation.graph_count, explanation.graph_break_count) == (1, 0)


@pytest.mark.parametrize(
    "metric, reference",
    [
        (
            metrics.MeanSquaredLogarithmicError,
            lambda t, p: ((torch.log1p(t) - torch.log1p(p)) ** 2).mean(-1),
        ),
        (metrics.LogCoshError, lambda t, p: torch.log(torch.cosh(p - t)).mean(-1)),
        (metrics.CosineSimilarity, lambda t, p: torch.nn.functional.cosine_similarity(t, p, -1)),
        (metrics.Poisson, lambda t, p: (p - t * torch.log(p + 1e-7)).mean(-1)),
        (metrics.Hinge, lambda t, p: torch.relu(1 - (2 * t - 1) * p).mean(-1)),
        (metrics.SquaredHinge, lambda t, p: (torch.relu(1 - (2 * t - 1) * p) ** 2).mean(-1)),
    ],
)
def test_loss_valued_metrics_average_the_per_sample_formula(metric, reference):
    y_true = torch.randint(0, 2, (6, 4)).float()
    y_pred = torch.rand(6, 4) + 0.1
    m = metric()
    m.update_state(y_true, y_pred)
    torch.testing.assert_close(
        m.result().cpu(), reference(y_true, y_pred).mean(), rtol=1e-5, atol=1e-6
    )


def test_kl_divergence_and_categorical_hinge_metrics_match_their_formulas():
    y_true = torch.softmax(torch.randn(5, 3), -1)
    y_pred = torch.softmax(torch.randn(5, 3), -1)
    kl = metrics.KLDivergence()
    kl.update_state(y_true, y_pred)
    expected = (y_true * torch.log(y_true / y_pred)).sum(-1).mean()
    torch.testing.assert_close(kl.result().cpu(), expected, rtol=1e-5, atol=1e-6)
    labels = torch.eye(3)[torch.tensor([0, 2, 1, 1, 0])]
    hinge = metrics.CategoricalHinge()
    hinge.update_state(labels, y_pred)
    pos = (labels * y_pred).sum(-1)
    neg = ((1 - labels) * y_pred).amax(-1)
    torch.testing.assert_close(hinge.result().cpu(), torch.relu(neg - pos + 1).mean())


def test_cosine_similarity_metric_is_maximised_by_callbacks():
    assert metrics.CosineSimilarity()._direction == "up"
    assert metrics.get("msle").name == "mean_squared_logarithmic_error"


@pytest.mark.parametrize(
    "metric, cell",
    [
        (metrics.TruePositives, lambda t, p: t & p),
        (metrics.FalsePositives, lambda t, p: ~t & p),
        (metrics.TrueNegatives, lambda t, p: ~t & ~p),
        (metrics.FalseNegatives, lambda t, p: t & ~p),
    ],
)
def test_confusion_counts_sum_the_weights_of_their_cell(metric, cell):
    y_true = torch.randint(0, 2, (10, 3))
    y_pred = torch.rand(10, 3)
    weights = torch.rand(10)
    m = metric(thresholds=[0.3, 0.7])
    m.update_state(y_true, y_pred, sample_weight=weights)
    expected = [(cell(y_true.bool(), y_pred > t) * weights[:, None]).sum() for t in (0.3, 0.7)]
    torch.testing.assert_close(m.result().cpu(), torch.stack(expected), rtol=1e-5, atol=1e-6)
