"""Differences from Keras 3.15 (torch backend) found by a differential sweep of ``keras.ops``:
every public op called under both libraries on the same small inputs in float32, float16,
int32, int8, uint8, bool and Python scalars, comparing values, dtype and shape.

Each row pins one op whose result dtype or values differed (or which raised where Keras
did not); the expected dtype and values were checked against Keras 3.15.
"""

import numpy as np
import pytest

from tritonlayers import ops


def _a(values, dtype):
    return np.array(values, dtype=dtype)


# (op, args, Keras's dtype, Keras's values) -- each checked against Keras 3.15, torch backend.
CASES = [
    # A Python int next to a bool tensor is int32 (torch alone says int64).
    ("add", (_a([True, False], "bool"), 2), "int32", [3, 2]),
    ("multiply", (_a([True, False], "bool"), 2), "int32", [2, 0]),
    ("maximum", (_a([True, False], "bool"), 2), "int32", [2, 2]),
    ("floor_divide", (_a([True, False], "bool"), 2), "int32", [0, 0]),
    # ...but shifts hand a Python int to torch as it is.
    ("left_shift", (_a([True, False], "bool"), 2), "int64", [4, 0]),
    ("right_shift", (_a([8, 4], "int8"), 2), "int8", [2, 1]),
    # Float-valued binary ops keep float16 next to an int tensor (not floatx).
    ("divide", (_a([1, 2], "float16"), _a([2, 4], "int32")), "float16", [0.5, 0.5]),
    ("divide_no_nan", (_a([1, 2], "float16"), _a([0, 4], "int8")), "float16", [0.0, 0.5]),
    ("hypot", (_a([3, 4], "float16"), _a([4, 3], "int32")), "float16", [5.0, 5.0]),
    ("logaddexp", (_a([0, 1], "float16"), _a([0, 1], "int8")), "float16", [0.6934, 1.6934]),
    # ...while these convert a Python number on its own first (2.5 -> float32, 2 -> int32).
    ("arctan2", (_a([1, 0], "float16"), 2.5), "float32", [0.3805064, 0.0]),
    ("logaddexp2", (_a([0, 1], "float16"), 2.5), "float32", [2.7348406, 2.9367518]),
    ("heaviside", (_a([-1, 0, 2], "float16"), 2), "float16", [0.0, 2.0, 1.0]),
    ("dot", (_a([1, 2], "int8"), 2), "int32", [2, 4]),
    ("inner", (_a([1, 2], "int8"), 2), "int32", [2, 4]),
    ("outer", (_a([1, 2], "int8"), 2), "int32", [[2], [4]]),
    ("kron", (_a([1, 2], "float16"), 2.5), "float32", [2.5, 5.0]),
    # Mixed-dtype products promote instead of raising.
    ("matmul", (_a([[1, 2]], "float16"), _a([[3], [4]], "int32")), "float16", [[11.0]]),
    (
        "tensordot",
        (_a([[1, 2], [3, 4]], "int8"), _a([[1, 0], [0, 1]], "uint8"), 1),
        "int16",
        [[1, 2], [3, 4]],
    ),
    ("cross", (_a([1, 0, 0], "float32"), _a([0, 1, 0], "int32")), "float32", [0.0, 0.0, 1.0]),
    ("subtract", (_a([3, 4], "int32"), _a([True, False], "bool")), "int32", [2, 4]),
    # Running sums keep int8/uint8; reductions of ints stay ints.
    ("cumsum", (_a([1, 2, 3], "int8"),), "int8", [1, 3, 6]),
    ("cumprod", (_a([1, 2, 3], "uint8"),), "uint8", [1, 2, 6]),
    ("nancumsum", (_a([100, 100], "int8"),), "int8", [100, -56]),
    ("nansum", (_a([[1, 2], [3, 4]], "int8"),), "int32", 10),
    ("nanprod", (_a([1, 2, 3, 4], "int32"),), "int32", 24),
    ("nanmax", (_a([[1, 5], [3, 4]], "int8"),), "int8", 5),
    ("nanmin", (_a([True, False], "bool"),), "bool", False),
    ("trace", (_a([[1, 2], [3, 4]], "int8"),), "int32", 5),
    ("trace", (_a([[True, False], [False, True]], "bool"),), "int32", 2),
    ("square", (_a([True, False], "bool"),), "int32", [1, 0]),
    ("relu6", (_a([-1, 3, 9], "int32"),), "int32", [0, 3, 6]),
    ("threshold", (_a([-2, 0, 3], "int32"), 0.5, -1), "int32", [-1, -1, 3]),
    (
        "cdist",
        (_a([[0, 0], [1, 1]], "float16"), _a([[3, 4]], "float16")),
        "float16",
        [[5.0], [3.6055]],
    ),
    ("hard_tanh", (_a([-3, 0, 2], "int8"),), "int8", [-1, 0, 1]),
    # Bool and float16 inputs that torch refuses.
    ("abs", (_a([True, False], "bool"),), "bool", [True, False]),
    ("trunc", (_a([True, False], "bool"),), "bool", [True, False]),
    ("argmax", (_a([False, True, True], "bool"),), "int32", 1),
    ("argmin", (_a([True, False, False], "bool"),), "int32", 1),
    ("median", (_a([1, 3, 2], "float16"),), "float16", 2.0),
    ("quantile", (_a([1, 3, 2, 4], "float16"), 0.25), "float16", 1.75),
    ("isin", (_a([True, False], "bool"), _a([True], "bool")), "bool", [True, False]),
    ("isin", (_a([0, 1, 2], "int32"), _a([True], "bool")), "bool", [False, True, False]),
    ("mod", (_a([True, False], "bool"), True), "int32", [0, 0]),
    ("fmod", (_a([True, False], "bool"), True), "int32", [0, 0]),
    # Scalars, axis=None, and float16 endpoints.
    ("median", (2.5,), "float32", 2.5),
    ("argsort", (_a([[3, 1], [2, 0]], "float32"), None), "int32", [3, 1, 2, 0]),
    (
        "take_along_axis",
        (_a([[10, 30], [20, 40]], "int32"), _a([[3, 0], [2, 1]], "int32")),
        "int32",
        [40, 10, 20, 30],
    ),
    (
        "linspace",
        (_a([0, 1], "float16"), _a([2, 3], "int32"), 3),
        "float16",
        [[0, 1], [1, 2], [2, 3]],
    ),
    # int8 products are int32 (an int8 result would wrap: 100 * 100 + 2 * 3 = 10006).
    (
        "matmul",
        (_a([[100, 2], [3, 4]], "int8"), _a([[100, 2], [3, 4]], "int8")),
        "int32",
        [[10006, 208], [312, 22]],
    ),
    (
        "einsum",
        ("ij,jk->ik", _a([[100, 2], [3, 4]], "int8"), _a([[100, 2], [3, 4]], "int8")),
        "int32",
        [[10006, 208], [312, 22]],
    ),
    (
        "psnr",
        (_a([[0.5, 1.0]], "float16"), _a([[0.25, 1.0]], "float16"), 1.0),
        "float16",
        15.046875,
    ),
    (
        "geomspace",
        (_a([1, 10], "float16"), _a([4, 1000], "int32"), 3),
        "float16",
        [[1, 10], [2, 100], [4, 1000]],
    ),
]


@pytest.mark.parametrize(
    "name, args, dtype, expected", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)]
)
def test_op_dtype_and_values_match_keras(name, args, dtype, expected):
    result = getattr(ops, name)(*args)
    assert ops.standardize_dtype(result.dtype) == dtype
    np.testing.assert_allclose(ops.convert_to_numpy(result), np.array(expected), rtol=1e-3)


@pytest.mark.parametrize("name", ["sum", "max", "mean", "flip", "nansum", "count_nonzero"])
def test_axis_out_of_range_raises_keras_index_error(name):
    # Keras 3.15 (torch) raises IndexError with this message; ours is also a ValueError.
    x = np.ones((2, 3), "float32")
    message = r"Dimension out of range \(expected to be in range of \[-2, 1\], but got 5\)"
    with pytest.raises(IndexError, match=message) as raised:
        getattr(ops, name)(x, axis=5)
    assert isinstance(raised.value, ValueError)


def test_meshgrid_returns_a_tuple():
    # Keras 3.15 (torch) returns torch.meshgrid's tuple.
    grids = ops.meshgrid(np.ones(2, "float32"), np.ones(3, "float32"))
    assert isinstance(grids, tuple) and [tuple(g.shape) for g in grids] == [(3, 2), (3, 2)]


@pytest.mark.parametrize("name", ["cholesky", "det", "inv", "eig", "eigh", "cholesky_inverse"])
def test_non_square_matrix_error_matches_keras(name):
    # Keras 3.15 (torch) checks before calling torch, with this ValueError.
    message = (
        r"Expected a square matrix. Received non-square input with shape torch.Size\(\[2, 3\]\)"
    )
    with pytest.raises(ValueError, match=message):
        getattr(ops, name)(np.ones((2, 3), "float32"))


def test_solve_and_rank_one_matrix_errors_match_keras():
    # Both checked against Keras 3.15 (torch).
    with pytest.raises(ValueError, match=r"Expected a square matrix\. Received non-square"):
        ops.solve(np.ones((2, 3), "float32"), np.ones((2,), "float32"))
    with pytest.raises(ValueError, match=r"Expected input to have rank >= 2\. Received input"):
        ops.det(np.ones((3,), "float32"))


@pytest.mark.parametrize("name", ["segment_sum", "segment_max", "segment_min"])
def test_segment_ids_length_error_matches_keras(name):
    # Keras 3.15 (torch), numpy inputs: the shapes print as tuples.
    message = (
        r"Argument `segment_ids` and `data` should have same leading dimension\. "
        r"Got \(4,\) v\.s\. \(2, 3\)\."
    )
    with pytest.raises(ValueError, match=message):
        getattr(ops, name)(np.ones((2, 3), "float32"), np.zeros((4,), "int32"), num_segments=2)


def test_segment_ids_must_be_one_dimensional():
    # Checked against Keras 3.15 (torch).
    with pytest.raises(ValueError, match=r"should be an 1-D vector, got shape: 2\. Consider"):
        ops.segment_sum(np.ones((2, 3), "float32"), np.zeros((2, 3), "int32"), num_segments=2)


def test_histogram_rank_error_matches_keras():
    # Keras 3.15 (torch) prints the converted tensor's torch.Size.
    message = r"Input tensor must be 1-dimensional\. Received: input\.shape=torch\.Size\(\[2, 3\]\)"
    with pytest.raises(ValueError, match=message):
        ops.histogram(np.ones((2, 3), "float32"), bins=3)


@pytest.mark.parametrize("dtype", ["int8", "uint8", "int16"])
def test_unravel_index_keeps_narrow_int_dtype(dtype):
    # Keras 3.15 (torch): int8/uint8/int16 indices give coordinates of the same dtype.
    rows, cols = ops.unravel_index(np.array([5, 3], dtype), (2, 4))
    assert ops.standardize_dtype(rows.dtype) == ops.standardize_dtype(cols.dtype) == dtype
    assert rows.tolist() == [1, 0] and cols.tolist() == [1, 3]
