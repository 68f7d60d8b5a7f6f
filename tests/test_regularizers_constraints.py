"""keras.regularizers and keras.constraints: formulas, look-up, serialization."""

import numpy as np
import pytest
import torch

import tritonlayers as keras
from tritonlayers import constraints, regularizers

RNG = np.random.default_rng(2)
W64 = RNG.normal(size=(5, 4))
W = torch.tensor(W64, dtype=torch.float32)
EPS = keras.config.epsilon()


def test_l1_l2_and_l1_l2_penalties_match_formulas():
    assert regularizers.L1(0.3)(W).item() == pytest.approx(0.3 * np.abs(W64).sum(), rel=1e-5)
    assert regularizers.L2(0.2)(W).item() == pytest.approx(0.2 * (W64**2).sum(), rel=1e-5)
    expected = 0.1 * np.abs(W64).sum() + 0.4 * (W64**2).sum()
    assert regularizers.L1L2(l1=0.1, l2=0.4)(W).item() == pytest.approx(expected, rel=1e-5)


def test_keras_default_factors():
    assert regularizers.get("l1").l1 == 0.01
    assert regularizers.get("l2").l2 == 0.01
    l1_l2 = regularizers.get("l1_l2")
    assert (l1_l2.l1, l1_l2.l2) == (0.0, 0.0)
    assert l1_l2(W).item() == 0.0


@pytest.mark.parametrize("mode", ["rows", "columns"])
def test_orthogonal_regularizer_matches_formula(mode):
    vectors = W64 if mode == "rows" else W64.T
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    gram = unit @ unit.T
    size = gram.shape[0]
    off_diagonal = np.abs(gram * (1 - np.eye(size))).sum()
    expected = 0.3 * 0.5 * off_diagonal / (size * (size - 1) / 2)
    result = regularizers.OrthogonalRegularizer(factor=0.3, mode=mode)(W)
    assert result.item() == pytest.approx(expected, rel=1e-5)


def test_orthogonal_regularizer_rejects_non_matrices_and_bad_mode():
    with pytest.raises(ValueError, match="must have rank 2"):
        regularizers.OrthogonalRegularizer()(torch.ones(3))
    with pytest.raises(ValueError, match="mode"):
        regularizers.OrthogonalRegularizer(mode="diagonal")


def test_negative_regularization_factor_raises():
    with pytest.raises(ValueError, match="expected a non-negative float"):
        regularizers.L2(-1.0)


def test_regularizer_gradient_flows():
    w = W.clone().requires_grad_(True)
    regularizers.L1L2(0.1, 0.2)(w).backward()
    expected = 0.1 * np.sign(W64) + 0.4 * W64
    np.testing.assert_allclose(w.grad.numpy(), expected, atol=1e-6)


@pytest.mark.parametrize(
    "regularizer",
    [
        regularizers.L1(0.2),
        regularizers.L2(0.5),
        regularizers.L1L2(0.1, 0.3),
        regularizers.OrthogonalRegularizer(0.4, "columns"),
    ],
    ids=lambda r: type(r).__name__,
)
def test_regularizer_serialize_round_trip(regularizer):
    config = regularizers.serialize(regularizer)
    assert config["module"] == "tritonlayers.regularizers"
    restored = regularizers.get(config)
    assert type(restored) is type(regularizer)
    assert restored.get_config() == regularizer.get_config()


@pytest.mark.parametrize("name", ["l1", "l2", "l1_l2", "orthogonal_regularizer", "L2"])
def test_regularizer_get_by_name(name):
    assert isinstance(regularizers.get(name), regularizers.Regularizer)


def test_regularizer_get_passes_callables_and_rejects_unknown():
    def penalty(x):
        return x.sum()

    assert regularizers.get(penalty) is penalty
    assert regularizers.get(None) is None
    with pytest.raises(ValueError, match="Could not interpret regularizer identifier"):
        regularizers.get("l3")


# ---- constraints ---------------------------------------------------------------------------


def _norms(w, axis):
    return np.sqrt((w**2).sum(axis=axis, keepdims=True))


def test_max_norm_rescales_only_columns_above_the_limit():
    norms = _norms(W64, 0)
    expected = W64 * np.clip(norms, 0, 1.5) / (EPS + norms)
    np.testing.assert_allclose(constraints.MaxNorm(1.5)(W).numpy(), expected, atol=1e-6)


def test_min_max_norm_moves_norms_into_range_at_rate():
    norms = _norms(W64, 1)
    desired = 0.7 * np.clip(norms, 1.0, 1.8) + 0.3 * norms
    result = constraints.MinMaxNorm(1.0, 1.8, rate=0.7, axis=1)(W)
    np.testing.assert_allclose(result.numpy(), W64 * desired / (EPS + norms), atol=1e-6)


def test_unit_norm_and_non_neg():
    result = constraints.UnitNorm(axis=0)(W).numpy()
    np.testing.assert_allclose(np.linalg.norm(result, axis=0), np.ones(4), atol=1e-6)
    assert (
        constraints.NonNeg()(W).numpy().tolist() == np.maximum(W64, 0).astype(np.float32).tolist()
    )


def test_max_norm_over_several_axes():
    norms = _norms(W64, (0, 1))
    expected = W64 * np.clip(norms, 0, 2.0) / (EPS + norms)
    np.testing.assert_allclose(constraints.MaxNorm(2.0, axis=[0, 1])(W).numpy(), expected, 1e-6)


@pytest.mark.parametrize(
    "constraint",
    [
        constraints.MaxNorm(3, axis=1),
        constraints.MinMaxNorm(0.5, 2.0, 0.5, 0),
        constraints.NonNeg(),
        constraints.UnitNorm(axis=[0, 1]),
    ],
    ids=lambda c: type(c).__name__,
)
def test_constraint_serialize_round_trip(constraint):
    config = constraints.serialize(constraint)
    assert config["module"] == "tritonlayers.constraints"
    restored = constraints.get(config)
    assert type(restored) is type(constraint)
    assert restored.get_config() == constraint.get_config()


@pytest.mark.parametrize("name", ["non_neg", "max_norm", "min_max_norm", "unit_norm", "NonNeg"])
def test_constraint_get_by_name(name):
    assert isinstance(constraints.get(name), constraints.Constraint)


def test_constraint_defaults_follow_keras():
    assert constraints.get("max_norm").get_config() == {"max_value": 2, "axis": 0}
    assert constraints.get("min_max_norm").get_config() == {
        "min_value": 0.0,
        "max_value": 1.0,
        "rate": 1.0,
        "axis": 0,
    }


def test_constraint_get_rejects_unknown():
    with pytest.raises(ValueError, match="Could not interpret constraint identifier"):
        constraints.get("positive")
