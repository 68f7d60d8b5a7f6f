"""Differences found by a differential sweep of keras.losses / keras.metrics against Keras 3.15.

Every expected value below was checked against Keras 3.15 (torch backend) on the same inputs.
"""

import numpy as np
import pytest
import torch

import tritonlayers as keras

Y_TRUE16 = np.array([[0.5, 1.0, 2.0], [1.5, 0.25, 0.75]], "float16")
Y_PRED16 = np.array([[1.0, 0.5, 1.5], [1.0, 0.5, 1.0]], "float16")


# Checked against Keras 3.15: a NumPy float16 input keeps float16 (MSLE promotes to float32).
@pytest.mark.parametrize(
    "name, dtype, expected",
    [
        ("mean_squared_error", torch.float16, [0.25, 0.125]),
        ("mean_absolute_error", torch.float16, [0.5, 0.3333]),
        ("huber", torch.float16, [0.125, 0.0625]),
        ("log_cosh", torch.float16, [0.1201, 0.0605]),
        ("poisson", torch.float16, [0.9609, 0.8911]),
        ("mean_squared_logarithmic_error", torch.float32, [0.0663, 0.0336]),
        ("cosine_similarity", torch.float16, [-0.9336, -0.9341]),
    ],
)
def test_loss_function_keeps_numpy_float16_dtype(name, dtype, expected):
    out = getattr(keras.losses, name)(Y_TRUE16, Y_PRED16)
    assert out.dtype == dtype
    np.testing.assert_allclose(out.float().numpy(), expected, atol=2e-3)


def test_cosine_similarity_loss_computes_in_float16():
    # Checked against Keras 3.15: float16 result -0.93359375 (no overflow error).
    out = keras.losses.CosineSimilarity(dtype="float16")(Y_TRUE16, Y_PRED16)
    assert out.dtype == torch.float16
    assert float(out) == pytest.approx(-0.93359375, abs=1e-3)


def test_sparse_categorical_crossentropy_metric_accepts_ignore_class():
    # Checked against Keras 3.15: 0.8419 (ignored samples count as zero loss) and this config.
    m = keras.metrics.SparseCategoricalCrossentropy(ignore_class=1)
    probs = np.array([[0.2, 0.3, 0.5], [0.1, 0.1, 0.8], [0.3, 0.3, 0.4]], "float32")
    m.update_state(np.array([0, 1, 2]), probs)
    assert float(m.result()) == pytest.approx(0.8419, abs=1e-4)
    assert m.get_config() == {
        "name": "sparse_categorical_crossentropy",
        "dtype": "float32",
        "from_logits": False,
        "ignore_class": 1,
        "axis": -1,
    }


# Checked against Keras 3.15: get_config key order of the focal losses.
@pytest.mark.parametrize(
    "cls, keys",
    [
        (
            keras.losses.BinaryFocalCrossentropy,
            ["name", "reduction", "from_logits", "label_smoothing", "axis"]
            + ["apply_class_balancing", "alpha", "gamma"],
        ),
        (
            keras.losses.CategoricalFocalCrossentropy,
            ["name", "reduction", "from_logits", "label_smoothing", "axis", "alpha", "gamma"],
        ),
    ],
)
def test_focal_loss_config_key_order(cls, keys):
    assert list(cls().get_config()) == keys


# Checked against Keras 3.15: mismatched y_true / y_pred shapes raise ValueError.
@pytest.mark.parametrize(
    "make",
    [
        keras.metrics.AUC,
        keras.metrics.Precision,
        keras.metrics.TruePositives,
        lambda: keras.metrics.PrecisionAtRecall(0.5),
    ],
)
def test_confusion_metrics_reject_mismatched_shapes(make):
    with pytest.raises(ValueError, match="same shape"):
        make().update_state(np.zeros((4, 3), "float32"), np.full((4, 2), 0.5, "float32"))


def test_multi_label_auc_rank_error_gives_full_shape():
    # Checked against Keras 3.15: the message ends with the full shape of y_pred.
    auc = keras.metrics.AUC(multi_label=True)
    with pytest.raises(ValueError, match=r"Found rank 3\. Full shape received for `y_pred`: "):
        auc.update_state(np.zeros((2, 3, 4), "float32"), np.zeros((2, 3, 4), "float32"))
