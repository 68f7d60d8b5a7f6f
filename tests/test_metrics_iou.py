"""IoU metrics and the rate-at-rate metrics (PrecisionAtRecall, ...) against float64 numpy
formulas and numbers checked against Keras 3.15 (torch backend)."""

import numpy as np
import pytest
import torch

from tritonlayers import metrics

EPS = 1e-7  # config.epsilon(), the padding Keras adds to the IoU divisions
RNG = np.random.default_rng(7)
C = 4
SPARSE_TRUE = RNG.integers(0, C, (12, 5))
SPARSE_PRED = RNG.integers(-1, C + 1, (12, 5))  # -1 and C are out of range: left out
INT_WEIGHTS = RNG.integers(0, 4, (12, 5))
FLOAT_WEIGHTS = RNG.random((12, 5)).astype("float32")
SCORES_TRUE = RNG.random((10, 3, C)).astype("float32")
SCORES_PRED = RNG.random((10, 3, C)).astype("float32")
BINARY_TRUE = RNG.integers(0, 2, 60)
BINARY_PRED = RNG.random(60).astype("float32")
BINARY_PRED[:3] = [0.0, 1.0, 0.5]  # the ends and the default threshold itself
BINARY_WEIGHTS = RNG.random(60).astype("float32")
ONE_HOT_TRUE = np.eye(3, dtype="float32")[RNG.integers(0, 3, 40)]
ONE_HOT_PRED = RNG.random((40, 3)).astype("float32")
ONE_HOT_WEIGHTS = RNG.random(40).astype("float32")

RATE_METRICS = {
    metrics.PrecisionAtRecall: ("recall", "precision"),
    metrics.RecallAtPrecision: ("precision", "recall"),
    metrics.SensitivityAtSpecificity: ("specificity", "recall"),
    metrics.SpecificityAtSensitivity: ("recall", "specificity"),
}
_RATE_ARGUMENT = {
    metrics.PrecisionAtRecall: "recall",
    metrics.RecallAtPrecision: "precision",
    metrics.SensitivityAtSpecificity: "specificity",
    metrics.SpecificityAtSensitivity: "sensitivity",
}


def _in_batches(metric, y_true, y_pred, sample_weight=None, batches=3):
    for rows in np.array_split(np.arange(len(y_true)), batches):
        weight = None if sample_weight is None else sample_weight[rows]
        metric.update_state(y_true[rows], y_pred[rows], sample_weight=weight)
    return metric.result()


def _iou_reference(y_true, y_pred, num_classes, target_class_ids, weights=None, ignore=None):
    y_true, y_pred = np.asarray(y_true).reshape(-1), np.asarray(y_pred).reshape(-1)
    w = np.ones(y_true.shape) if weights is None else np.asarray(weights, "float64").reshape(-1)
    valid = (y_true >= 0) & (y_true < num_classes) & (y_pred >= 0) & (y_pred < num_classes)
    if ignore is not None:
        valid &= y_true != ignore
    cm = np.zeros((num_classes, num_classes))
    np.add.at(cm, (y_true[valid], y_pred[valid]), w[valid])
    tp = np.diag(cm)
    denominator = (cm.sum(0) + cm.sum(1) - tp)[target_class_ids]
    seen = denominator > 1e-9
    iou = np.where(seen, tp[target_class_ids] / (denominator + EPS), 0.0)
    return iou.sum() / (seen.sum() + EPS)


def _rates_reference(y_true, y_pred, weights, num_thresholds):
    thresholds = np.array([0.5]) if num_thresholds == 1 else np.linspace(0, 1, num_thresholds)
    positive = np.asarray(y_true).reshape(-1) != 0
    scores = np.clip(np.asarray(y_pred, "float64").reshape(-1), 0, 1)
    w = np.ones(positive.shape) if weights is None else np.asarray(weights, "float64")
    above = scores[None, :] > thresholds[:, None]
    tp, fp = (above * positive * w).sum(1), (above * ~positive * w).sum(1)
    fn, tn = (~above * positive * w).sum(1), (~above * ~positive * w).sum(1)

    def ratio(a, b):
        return np.where(b > 0, a / np.where(b > 0, b, 1), 0.0)

    return {
        "recall": ratio(tp, tp + fn),
        "precision": ratio(tp, tp + fp),
        "specificity": ratio(tn, tn + fp),
    }


def _best_under_constraint(rates, constrained, dependent, value):
    feasible = rates[constrained] >= value
    return max(0.0, np.where(feasible, rates[dependent], 0.0).max())


# ----------------------------------------------------------------------------------- IoU


@pytest.mark.parametrize(
    ("target_class_ids", "ignore_class", "weights"),
    [([0, 2], None, None), ([1, 3], 1, INT_WEIGHTS), ([0, 1, 2, 3], None, INT_WEIGHTS)],
)
def test_iou_matches_confusion_matrix_reference(target_class_ids, ignore_class, weights):
    metric = metrics.IoU(C, target_class_ids, ignore_class=ignore_class)
    result = _in_batches(metric, SPARSE_TRUE, SPARSE_PRED, weights)
    expected = _iou_reference(
        SPARSE_TRUE, SPARSE_PRED, C, target_class_ids, weights, ignore=ignore_class
    )
    np.testing.assert_allclose(result.numpy(), expected, rtol=1e-5, atol=1e-7)


def test_iou_result_is_a_float32_device_scalar_over_an_int32_matrix():
    metric = metrics.IoU(C, [0])
    metric.update_state(SPARSE_TRUE, SPARSE_PRED)
    assert metric.total_cm.dtype == torch.int32
    assert isinstance(metric.result(), torch.Tensor)
    assert metric.result().shape == () and metric.result().dtype == torch.float32


def test_iou_skips_labels_and_predictions_out_of_range():
    metric = metrics.IoU(3, [0, 1, 2])
    metric.update_state([0, 1, 2, -1, 3, 1], [0, 3, 2, 1, 1, -1])
    # Only the pairs (0, 0) and (2, 2) are in range.
    assert metric.total_cm.numpy().tolist() == [[1, 0, 0], [0, 0, 0], [0, 0, 1]]


def test_mean_iou_float_dtype_keeps_fractional_weights():
    metric = metrics.MeanIoU(C, dtype="float32")
    result = _in_batches(metric, SPARSE_TRUE, SPARSE_PRED, FLOAT_WEIGHTS)
    expected = _iou_reference(SPARSE_TRUE, SPARSE_PRED, C, list(range(C)), FLOAT_WEIGHTS)
    np.testing.assert_allclose(result.numpy(), expected, rtol=1e-5)


def test_mean_iou_int_dtype_truncates_float_weights_with_a_warning():
    # Keras 3.15 (dtype int32): weights [0.3, 0.3, 0.3, 0.1] all truncate to 0, result 0.
    metric = metrics.MeanIoU(2)
    with pytest.warns(UserWarning, match="passing weight as `float`"):
        metric.update_state([0, 0, 1, 1], [0, 1, 0, 1], np.array([0.3, 0.3, 0.3, 0.1]))
    assert metric.total_cm.numpy().tolist() == [[0, 0], [0, 0]]
    assert float(metric.result()) == 0.0


def test_mean_iou_matches_keras_numbers():
    # Checked against Keras 3.15: 0.49999991 (out-of-range pairs dropped) and 0.22222221.
    metric = metrics.MeanIoU(3, dtype="float32")
    metric.update_state([0, 1, 2, 2, -1, 3], [0, 2, 2, 1, 0, 0], [0.5, 1, 2, 1, 1, 1])
    assert float(metric.result()) == pytest.approx(0.49999991, abs=1e-7)
    metric = metrics.MeanIoU(3, dtype="float32", ignore_class=2)
    metric.update_state([0, 1, 2, 2, 1, 1], [0, 2, 2, 1, 0, 1], [0.5, 1, 2, 1, 1, 1])
    assert float(metric.result()) == pytest.approx(0.22222221, abs=1e-7)


def test_mean_iou_argmaxes_dense_inputs_over_axis():
    metric = metrics.MeanIoU(3, sparse_y_true=False, sparse_y_pred=False, axis=1)
    metric.update_state(SCORES_TRUE, SCORES_PRED)
    expected = _iou_reference(
        SCORES_TRUE.argmax(1), SCORES_PRED.argmax(1), 3, [0, 1, 2], weights=None
    )
    np.testing.assert_allclose(metric.result().numpy(), expected, rtol=1e-5)


def test_iou_ignores_target_classes_never_seen():
    metric = metrics.IoU(5, [3, 4])
    metric.update_state([0, 1, 3], [0, 1, 2])
    # class 4 never appears: the mean is over class 3 alone, whose IoU is 0.
    assert float(metric.result()) == 0.0
    assert float(metrics.MeanIoU(3).result()) == 0.0


def test_iou_reset_state_empties_the_confusion_matrix():
    metric = metrics.MeanIoU(C)
    metric.update_state(SPARSE_TRUE, SPARSE_PRED)
    metric.reset_state()
    assert int(metric.total_cm.sum()) == 0


def test_one_hot_iou_matches_keras_docstring_numbers():
    # Keras 3.15's docstring example: OneHotIoU(3, [0, 2]) 0.071, OneHotMeanIoU(3) 0.048
    # (with float weights, so with a float dtype here).
    y_true = [[0, 0, 1], [1, 0, 0], [0, 1, 0], [1, 0, 0]]
    y_pred = [[0.2, 0.3, 0.5], [0.1, 0.2, 0.7], [0.5, 0.3, 0.1], [0.1, 0.4, 0.5]]
    weights = [0.1, 0.2, 0.3, 0.4]
    one_hot = metrics.OneHotIoU(3, [0, 2], dtype="float32")
    one_hot.update_state(y_true, y_pred, weights)
    assert float(one_hot.result()) == pytest.approx(0.0714286, abs=1e-6)
    mean = metrics.OneHotMeanIoU(3, dtype="float32")
    mean.update_state(y_true, y_pred, weights)
    assert float(mean.result()) == pytest.approx(0.0476190, abs=1e-6)


@pytest.mark.parametrize("sparse_y_pred", [False, True])
def test_one_hot_iou_argmaxes_labels(sparse_y_pred):
    y_pred = ONE_HOT_PRED.argmax(-1) if sparse_y_pred else ONE_HOT_PRED
    metric = metrics.OneHotIoU(3, [1, 2], dtype="float32", sparse_y_pred=sparse_y_pred)
    result = _in_batches(metric, ONE_HOT_TRUE, y_pred, ONE_HOT_WEIGHTS)
    expected = _iou_reference(
        ONE_HOT_TRUE.argmax(-1), ONE_HOT_PRED.argmax(-1), 3, [1, 2], ONE_HOT_WEIGHTS
    )
    np.testing.assert_allclose(result.numpy(), expected, rtol=1e-5)


def test_one_hot_mean_iou_matches_reference():
    metric = metrics.OneHotMeanIoU(3, dtype="float32")
    result = _in_batches(metric, ONE_HOT_TRUE, ONE_HOT_PRED, ONE_HOT_WEIGHTS)
    expected = _iou_reference(
        ONE_HOT_TRUE.argmax(-1), ONE_HOT_PRED.argmax(-1), 3, [0, 1, 2], ONE_HOT_WEIGHTS
    )
    np.testing.assert_allclose(result.numpy(), expected, rtol=1e-5)


@pytest.mark.parametrize(("target_class_ids", "threshold"), [((0, 1), 0.5), ([1], 0.3)])
def test_binary_iou_thresholds_predictions(target_class_ids, threshold):
    metric = metrics.BinaryIoU(target_class_ids, threshold=threshold, dtype="float32")
    result = _in_batches(metric, BINARY_TRUE, BINARY_PRED, BINARY_WEIGHTS)
    scores = BINARY_PRED
    predicted = (scores >= threshold).astype("int64")
    expected = _iou_reference(BINARY_TRUE, predicted, 2, list(target_class_ids), BINARY_WEIGHTS)
    np.testing.assert_allclose(result.numpy(), expected, rtol=1e-5)


def test_binary_iou_counts_the_threshold_itself_as_class_one():
    # Keras 3.15 gives 0.125: 0.5 >= 0.5 is class 1, 0.49 is class 0.
    metric = metrics.BinaryIoU(threshold=0.5)
    metric.update_state([0, 1, 1, 0], [0.5, 0.5, 0.49, 0.51])
    assert float(metric.result()) == pytest.approx(0.125, abs=1e-6)


@pytest.mark.parametrize(
    ("metric", "expected"),
    [
        (
            metrics.IoU(3, [1], ignore_class=255, axis=-1),
            {
                "name": "io_u",
                "dtype": "int32",
                "num_classes": 3,
                "target_class_ids": [1],
                "ignore_class": 255,
                "sparse_y_true": True,
                "sparse_y_pred": True,
                "axis": -1,
            },
        ),
        (
            metrics.MeanIoU(3, dtype="float32"),
            {
                "num_classes": 3,
                "name": "mean_io_u",
                "dtype": "float32",
                "ignore_class": None,
                "sparse_y_true": True,
                "sparse_y_pred": True,
                "axis": -1,
            },
        ),
        (
            metrics.BinaryIoU(),
            {"target_class_ids": [0, 1], "threshold": 0.5, "name": "binary_io_u", "dtype": "int32"},
        ),
        (
            metrics.OneHotIoU(3, [1]),
            {
                "num_classes": 3,
                "target_class_ids": [1],
                "name": "one_hot_io_u",
                "dtype": "int32",
                "ignore_class": None,
                "sparse_y_pred": False,
                "axis": -1,
            },
        ),
        (
            metrics.OneHotMeanIoU(3),
            {
                "num_classes": 3,
                "name": "one_hot_mean_io_u",
                "dtype": "int32",
                "ignore_class": None,
                "sparse_y_pred": False,
                "axis": -1,
            },
        ),
    ],
    ids=lambda v: type(v).__name__ if isinstance(v, metrics.Metric) else "",
)
def test_iou_config_matches_keras_and_round_trips(metric, expected):
    # The expected dicts are Keras 3.15's get_config() output.
    assert metric.get_config() == expected
    rebuilt = metrics.deserialize(metrics.serialize(metric))
    assert type(rebuilt) is type(metric)
    assert rebuilt.get_config() == expected


def test_iou_names_resolve_through_get():
    config = {"class_name": "MeanIoU", "config": {"num_classes": 4}}
    assert isinstance(metrics.get(config), metrics.MeanIoU)
    assert metrics.ALL_OBJECTS_DICT["one_hot_mean_io_u"] is metrics.OneHotMeanIoU


def test_iou_rejects_target_class_out_of_range():
    with pytest.raises(ValueError, match=r"Target class id 3 is out of range, which is \[0, 3\)"):
        metrics.IoU(3, [0, 3])


def test_iou_rejects_bad_num_classes():
    with pytest.raises(ValueError, match="MeanIoU: `num_classes` must be a positive integer"):
        metrics.MeanIoU(0)


def test_iou_rejects_mismatched_label_and_prediction_counts():
    with pytest.raises(ValueError, match="IoU 'io_u' expects as many labels as predictions"):
        metrics.IoU(3, [0]).update_state([0, 1, 2], [0, 1])


# ------------------------------------------------------------------- rate at rate


@pytest.mark.parametrize("cls", list(RATE_METRICS), ids=lambda c: c.__name__)
@pytest.mark.parametrize("num_thresholds", [1, 3, 200])
@pytest.mark.parametrize("value", [0.3, 0.8])
def test_rate_metric_matches_threshold_reference(cls, num_thresholds, value):
    metric = cls(value, num_thresholds=num_thresholds)
    result = _in_batches(metric, BINARY_TRUE, BINARY_PRED, BINARY_WEIGHTS)
    constrained, dependent = RATE_METRICS[cls]
    rates = _rates_reference(BINARY_TRUE, BINARY_PRED, BINARY_WEIGHTS, num_thresholds)
    expected = _best_under_constraint(rates, constrained, dependent, value)
    np.testing.assert_allclose(result.numpy(), expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("cls", list(RATE_METRICS), ids=lambda c: c.__name__)
def test_rate_metric_class_id_uses_one_column(cls):
    metric = cls(0.5, num_thresholds=11, class_id=2)
    result = _in_batches(metric, ONE_HOT_TRUE, ONE_HOT_PRED, ONE_HOT_WEIGHTS)
    constrained, dependent = RATE_METRICS[cls]
    rates = _rates_reference(ONE_HOT_TRUE[:, 2], ONE_HOT_PRED[:, 2], ONE_HOT_WEIGHTS, 11)
    expected = _best_under_constraint(rates, constrained, dependent, 0.5)
    np.testing.assert_allclose(result.numpy(), expected, rtol=1e-5, atol=1e-6)


def test_rate_metrics_match_keras_numbers():
    # Checked against Keras 3.15 (class_id=1, 11 thresholds, weighted): 0.8 and 0.6666667.
    y_true = np.eye(3, dtype="float32")[[0, 1, 2, 1, 0, 2]]
    y_pred = [[0.1, 0.8, 0.1], [0.2, 0.7, 0.1], [0.1, 0.1, 0.8], [0.6, 0.3, 0.1]]
    y_pred += [[0.3, 0.3, 0.4], [0.1, 0.5, 0.4]]
    weights = [1, 2, 1, 0.5, 1, 3]
    recall = metrics.RecallAtPrecision(0.6, num_thresholds=11, class_id=1)
    recall.update_state(y_true, y_pred, weights)
    assert float(recall.result()) == pytest.approx(0.8, abs=1e-6)
    precision = metrics.PrecisionAtRecall(0.5, num_thresholds=11, class_id=1)
    precision.update_state(y_true, y_pred, weights)
    assert float(precision.result()) == pytest.approx(2 / 3, abs=1e-6)


def test_rate_metric_counts_a_zero_prediction_as_negative_at_threshold_zero():
    # Keras 3.15: tp [2, 2, 0] and fn [1, 1, 3] (0.0 is not > 0.0), result 0.6666667.
    metric = metrics.SensitivityAtSpecificity(0.5, num_thresholds=3)
    metric.update_state([1, 0, 1, 1], [0.0, 0.2, 0.7, 1.0])
    assert metric.true_positives.numpy().tolist() == [2.0, 2.0, 0.0]
    assert metric.false_negatives.numpy().tolist() == [1.0, 1.0, 3.0]
    assert float(metric.result()) == pytest.approx(2 / 3, abs=1e-6)


def test_recall_at_unreachable_precision_is_zero():
    metric = metrics.RecallAtPrecision(1.0, num_thresholds=5)
    metric.update_state([0, 1], [0.9, 0.1])
    assert float(metric.result()) == 0.0


def test_rate_metric_reset_state_zeroes_the_counts():
    metric = metrics.PrecisionAtRecall(0.5)
    metric.update_state(BINARY_TRUE, BINARY_PRED)
    metric.reset_state()
    assert all(float(v.sum()) == 0.0 for v in metric.variables)


@pytest.mark.parametrize("cls", list(RATE_METRICS), ids=lambda c: c.__name__)
def test_rate_metric_config_matches_keras_and_round_trips(cls):
    argument = _RATE_ARGUMENT[cls]
    metric = cls(0.8, num_thresholds=7, class_id=1)
    # Keras 3.15's get_config() for these arguments.
    expected = {
        "name": metric.name,
        "dtype": "float32",
        "class_id": 1,
        "num_thresholds": 7,
        argument: 0.8,
    }
    assert metric.get_config() == expected
    rebuilt = metrics.get(metrics.serialize(metric))
    assert type(rebuilt) is cls and rebuilt.get_config() == expected


def test_rate_metric_names_resolve_through_get():
    config = {"class_name": "SensitivityAtSpecificity", "config": {"specificity": 0.4}}
    assert metrics.get(config).specificity == 0.4
    assert metrics.ALL_OBJECTS_DICT["precision_at_recall"] is metrics.PrecisionAtRecall


@pytest.mark.parametrize("cls", list(RATE_METRICS), ids=lambda c: c.__name__)
def test_rate_metric_rejects_target_outside_unit_interval(cls):
    argument = _RATE_ARGUMENT[cls]
    with pytest.raises(ValueError, match=f"Argument `{argument}` must be in the range"):
        cls(1.5)


def test_rate_metric_rejects_non_positive_num_thresholds():
    with pytest.raises(ValueError, match="`num_thresholds` must be an integer > 0"):
        metrics.PrecisionAtRecall(0.5, num_thresholds=0)


def test_rate_metric_class_id_needs_2d_predictions():
    metric = metrics.RecallAtPrecision(0.5, class_id=1)
    with pytest.raises(ValueError, match="When class_id is provided, y_pred must be a 2D"):
        metric.update_state([0, 1], [0.2, 0.9])
