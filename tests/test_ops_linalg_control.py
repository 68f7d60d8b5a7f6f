"""keras.ops linear algebra, control flow, scatter/segment, statistics and attention,
against numpy and float64 formulas."""

import numpy as np
import pytest
import torch

from tritonlayers import ops

RNG = np.random.default_rng(3)
X = RNG.normal(size=(3, 4, 5)).astype(np.float32)
M = RNG.normal(size=(4, 4))
SPD = M @ M.T + 4 * np.eye(4)


def assert_matches(result, expected, atol=1e-5):
    expected = np.asarray(expected)
    assert tuple(result.shape) == expected.shape
    np.testing.assert_allclose(ops.convert_to_numpy(result), expected, atol=atol, rtol=1e-5)


# ---- linear algebra -------------------------------------------------------------------------


def test_decompositions_reconstruct_their_matrix():
    spd = ops.convert_to_tensor(SPD, dtype="float64")
    lower = ops.cholesky(spd)
    assert_matches(lower @ lower.T, SPD)
    q, r = ops.qr(M)
    assert_matches(q @ r, M, atol=1e-5)
    u, s, vh = ops.svd(M)
    assert_matches(u @ torch.diag(s) @ vh, M, atol=1e-5)
    assert_matches(ops.svd(M, compute_uv=False), np.linalg.svd(M, compute_uv=False))
    values, vectors = ops.eigh(SPD)
    assert_matches(values, np.linalg.eigvalsh(SPD), atol=1e-4)
    assert_matches(vectors @ torch.diag(values) @ vectors.T, SPD, atol=1e-4)


def test_determinants_and_inverse_match_numpy():
    assert ops.det(SPD).item() == pytest.approx(np.linalg.det(SPD), rel=1e-4)
    sign, logdet = ops.slogdet(M)
    expected_sign, expected_logdet = np.linalg.slogdet(M)
    assert sign.item() == expected_sign
    assert logdet.item() == pytest.approx(expected_logdet, rel=1e-5)
    assert_matches(ops.inv(SPD), np.linalg.inv(SPD))


def test_lu_factor_pivots_are_zero_based():
    lu, pivots = ops.lu_factor([[0.0, 1.0], [1.0, 0.0]])
    assert pivots.tolist() == [1, 1]
    assert pivots.dtype == torch.int32
    assert_matches(lu, np.eye(2))


def test_solves_match_numpy():
    b = RNG.normal(size=(4, 2))
    assert_matches(ops.solve(SPD, b), np.linalg.solve(SPD, b), atol=1e-5)
    upper = np.triu(SPD)
    assert_matches(ops.solve_triangular(upper, b[:, 0]), np.linalg.solve(upper, b[:, 0]))
    lower = np.tril(SPD)
    assert_matches(ops.solve_triangular(lower, b, lower=True), np.linalg.solve(lower, b))
    tall = RNG.normal(size=(6, 3))
    expected = np.linalg.lstsq(tall, b[:3].repeat(2, 0), rcond=None)[0]
    assert_matches(ops.lstsq(tall, b[:3].repeat(2, 0)), expected, atol=1e-5)


def test_qr_rejects_unknown_mode():
    with pytest.raises(ValueError, match="`mode` argument value not supported"):
        ops.qr(M, mode="economic")


# ---- control flow ---------------------------------------------------------------------------


def test_cond_fori_loop_and_while_loop():
    assert ops.cond(ops.convert_to_tensor(False), lambda: 1, lambda: 2) == 2
    assert ops.fori_loop(1, 5, lambda i, acc: acc * i, 1) == 24
    assert ops.while_loop(lambda i, total: i < 4, lambda i, total: (i + 1, total + i), (0, 0)) == (
        4,
        6,
    )
    assert ops.while_loop(lambda i: True, lambda i: i + 1, 0, maximum_iterations=7) == 7


def test_map_scan_and_vectorized_map():
    assert_matches(ops.map(lambda row: row.sum(), X), X.reshape(3, -1).sum(-1))
    carry, ys = ops.scan(lambda c, x: (c + x, c * x), np.zeros(5, np.float32), X[0])
    assert_matches(carry, X[0].sum(0))
    expected_ys = np.stack([X[0][:i].sum(0) * X[0][i] for i in range(4)])
    assert_matches(ys, expected_ys)
    carry, ys = ops.scan(lambda c, x: (c + x, c), 0.0, X[0, :, 0], reverse=True)
    assert_matches(ys, [X[0, i + 1 :, 0].sum() for i in range(4)])
    assert_matches(ops.vectorized_map(lambda row: row * 2, X), X * 2)


# ---- scatter, unstack, segments ---------------------------------------------------------------


def test_scatter_sums_duplicate_indices():
    result = ops.scatter([[0, 1], [0, 1], [2, 0]], np.array([1.0, 2.0, 3.0], np.float32), (3, 2))
    assert_matches(result, [[0, 3], [0, 0], [3, 0]])


@pytest.mark.parametrize(
    "reduction,expected",
    [(None, [[2, 5], [2, 2]]), ("add", [[2, 10], [2, 2]]), ("max", [[2, 5], [2, 2]]),
     ("min", [[2, 2], [2, 2]]), ("mul", [[2, 30], [2, 2]])],
)  # fmt: skip
def test_scatter_update_with_each_reduction(reduction, expected):
    inputs = np.full((2, 2), 2.0, np.float32)
    if reduction is None:
        result = ops.scatter_update(inputs, [[0, 1]], [5.0])
    else:
        result = ops.scatter_update(inputs, [[0, 1], [0, 1]], [3.0, 5.0], reduction=reduction)
    assert_matches(result, expected)


def test_scatter_update_replaces_rows_for_partial_indices():
    result = ops.scatter_update(np.zeros((3, 2), np.float32), [[0], [2]], np.ones((2, 2)))
    assert_matches(result, [[1, 1], [0, 0], [1, 1]])


def test_unstack_splits_along_axis():
    parts = ops.unstack(X, axis=1)
    assert len(parts) == 4
    assert_matches(parts[2], X[:, 2])
    with pytest.raises(ValueError, match="num=3"):
        ops.unstack(X, num=3, axis=1)


def test_segment_sum_and_max_drop_out_of_range_ids():
    data = X[0]
    ids = np.array([0, 0, 2, -1])
    expected_sum = np.stack([data[0] + data[1], np.zeros(5), data[2]])
    assert_matches(ops.segment_sum(data, ids, num_segments=3), expected_sum)
    expected_max = np.stack([np.maximum(data[0], data[1]), np.full(5, -np.inf), data[2]])
    assert_matches(ops.segment_max(data, ids, num_segments=3), expected_max)
    assert tuple(ops.segment_sum(data, np.array([0, 1, 1, 3])).shape) == (4, 5)


# ---- statistics, search, counting ------------------------------------------------------------


@pytest.mark.parametrize("axis", [None, 1, (0, 2)], ids=str)
@pytest.mark.parametrize("keepdims", [False, True])
def test_median_and_quantile_match_numpy(axis, keepdims):
    assert_matches(
        ops.median(X, axis=axis, keepdims=keepdims), np.median(X, axis, keepdims=keepdims)
    )
    q = np.array([0.1, 0.75])
    assert_matches(
        ops.quantile(X, q, axis=axis, keepdims=keepdims),
        np.quantile(X, q, axis=axis, keepdims=keepdims),
    )


@pytest.mark.parametrize("method", ["lower", "higher", "midpoint", "nearest"])
def test_quantile_methods_match_numpy(method):
    assert_matches(
        ops.quantile(X, 0.3, axis=2, method=method), np.quantile(X, 0.3, 2, method=method)
    )


def test_bincount_with_weights_minlength_and_rows():
    assert ops.bincount([0, 1, 1, 3]).tolist() == [1, 2, 0, 1]
    weights = np.array([0.5, 1.0, 2.0], np.float32)
    assert_matches(ops.bincount([2, 0, 2], weights=weights, minlength=5), [1, 0, 2.5, 0, 0])
    assert ops.bincount(np.array([[0, 1], [2, 2]])).tolist() == [[1, 1, 0], [0, 0, 2]]


def test_searchsorted_and_digitize_match_numpy():
    edges = np.array([1.0, 2.0, 3.0])
    values = np.array([0.5, 2.0, 2.5, 3.0, 9.0])
    assert_matches(ops.searchsorted(edges, values), np.searchsorted(edges, values))
    assert_matches(
        ops.searchsorted(edges, values, side="right"), np.searchsorted(edges, values, "right")
    )
    assert_matches(ops.digitize(values, edges), np.digitize(values, edges))
    assert ops.digitize(values, edges).dtype == torch.int32


def test_isclose_nonzero_append_copy_logspace_match_numpy():
    assert_matches(ops.isclose(X, X + 1e-6), np.isclose(X, X + 1e-6))
    for result, expected in zip(ops.nonzero(X > 0), np.nonzero(X > 0)):
        assert_matches(result, expected)
    assert_matches(ops.append(X, X, axis=1), np.append(X, X, axis=1))
    assert_matches(ops.append(X[0], X[1]), np.append(X[0], X[1]))
    copied = ops.copy(X)
    assert_matches(copied, X)
    assert_matches(ops.logspace(0.0, 2.0, 5), np.logspace(0, 2, 5), atol=1e-4)
    assert tuple(ops.empty((2, 3)).shape) == (2, 3)


# ---- attention ---------------------------------------------------------------------------------


def _reference_attention(q, k, v, bias=None, mask=None, causal=False, scale=None):
    """float64 attention over (batch, length, heads, dim) with grouped key/value heads."""
    groups = q.shape[2] // k.shape[2]
    k, v = np.repeat(k, groups, axis=2), np.repeat(v, groups, axis=2)
    scale = q.shape[-1] ** -0.5 if scale is None else scale
    logits = np.einsum("btnh,bsnh->bnts", q, k) * scale
    if bias is not None:
        logits = logits + bias
    keep = np.ones(logits.shape, bool) if mask is None else np.broadcast_to(mask, logits.shape)
    if causal:
        keep = keep & np.tril(np.ones(logits.shape[-2:], bool))
    logits = np.where(keep, logits, np.finfo(np.float32).min)
    weights = np.exp(logits - logits.max(-1, keepdims=True))
    weights /= weights.sum(-1, keepdims=True)
    return np.einsum("bnts,bsnh->btnh", weights, v)


Q = RNG.normal(size=(2, 5, 4, 8))
K = RNG.normal(size=(2, 6, 2, 8))
V = RNG.normal(size=(2, 6, 2, 8))
MASK = RNG.uniform(size=(2, 4, 5, 6)) > 0.3
MASK[0, 0, 0] = False  # a fully masked row attends uniformly
BIAS = RNG.normal(size=(1, 4, 5, 6))

ATTENTION_CASES = {
    "plain": {},
    "scale": {"scale": 0.2},
    "mask": {"mask": MASK},
    "bias": {"bias": BIAS},
    "bias_and_mask": {"bias": BIAS, "mask": MASK},
    "causal": {"is_causal": True},
    "causal_and_mask": {"is_causal": True, "mask": MASK},
}


@pytest.mark.parametrize("name", sorted(ATTENTION_CASES))
def test_dot_product_attention_matches_reference(name):
    kwargs = ATTENTION_CASES[name]
    causal = kwargs.get("is_causal", False)
    expected = _reference_attention(
        Q, K, V, kwargs.get("bias"), kwargs.get("mask"), causal, kwargs.get("scale")
    )
    q, k, v = (t.astype(np.float32) for t in (Q, K, V))
    assert_matches(ops.dot_product_attention(q, k, v, **kwargs), expected, atol=1e-5)


def test_dot_product_attention_rejects_heads_that_do_not_group():
    with pytest.raises(ValueError, match="not a multiple"):
        ops.dot_product_attention(Q[:, :, :3], K, V)


def test_dot_product_attention_gradient_matches_finite_differences():
    q = torch.tensor(Q[:1, :3, :2, :4], requires_grad=True)
    k = torch.tensor(K[:1, :4, :1, :4])
    mask = torch.tensor(MASK[:1, :2, :3, :4])

    def attend(query):
        return ops.dot_product_attention(query, k, k, mask=mask)

    assert torch.autograd.gradcheck(attend, (q,))
