"""keras.ops numpy-like functions against numpy on numpy inputs: values, axes, dtypes."""

import numpy as np
import pytest
import torch

from tritonlayers import config, ops

RNG = np.random.default_rng(0)
X = RNG.normal(size=(3, 4, 5)).astype(np.float32)
Y = RNG.normal(size=(3, 4, 5)).astype(np.float32)
POSITIVE = np.abs(X) + 0.1


def assert_matches(result, expected, atol=1e-5, rtol=1e-5):
    assert isinstance(result, torch.Tensor)
    expected = np.asarray(expected)
    np.testing.assert_allclose(ops.convert_to_numpy(result), expected, atol=atol, rtol=rtol)
    assert tuple(result.shape) == expected.shape


UNARY = {
    "abs": np.abs,
    "negative": np.negative,
    "square": np.square,
    "sign": np.sign,
    "floor": np.floor,
    "ceil": np.ceil,
    "round": np.round,
    "exp": np.exp,
    "expm1": np.expm1,
    "sin": np.sin,
    "cos": np.cos,
    "tan": np.tan,
    "arctan": np.arctan,
    "sinh": np.sinh,
    "cosh": np.cosh,
    "tanh": np.tanh,
    "trunc": np.trunc,
    "isfinite": np.isfinite,
    "isnan": np.isnan,
}
UNARY_POSITIVE = {
    "log": np.log,
    "log1p": np.log1p,
    "log2": np.log2,
    "log10": np.log10,
    "sqrt": np.sqrt,
    "reciprocal": np.reciprocal,
}


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_op_matches_numpy(name):
    assert_matches(getattr(ops, name)(X), UNARY[name](X))


@pytest.mark.parametrize("name", sorted(UNARY_POSITIVE))
def test_unary_op_on_positive_inputs_matches_numpy(name):
    assert_matches(getattr(ops, name)(POSITIVE), UNARY_POSITIVE[name](POSITIVE))


BINARY = {
    "add": np.add,
    "subtract": np.subtract,
    "multiply": np.multiply,
    "divide": np.divide,
    "maximum": np.maximum,
    "minimum": np.minimum,
    "mod": np.mod,
    "floor_divide": np.floor_divide,
    "arctan2": np.arctan2,
    "equal": np.equal,
    "not_equal": np.not_equal,
    "greater": np.greater,
    "greater_equal": np.greater_equal,
    "less": np.less,
    "less_equal": np.less_equal,
    "logaddexp": np.logaddexp,
}


@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_op_matches_numpy_with_broadcasting(name):
    assert_matches(getattr(ops, name)(X, Y[:, :1]), BINARY[name](X, Y[:, :1]), atol=1e-4)


def test_power_with_python_exponent_matches_numpy():
    assert_matches(ops.power(POSITIVE, 1.5), np.power(POSITIVE, 1.5), atol=1e-4)


def test_logical_ops_match_numpy():
    a, b = X > 0, Y > 0
    assert_matches(ops.logical_and(a, b), np.logical_and(a, b))
    assert_matches(ops.logical_or(a, b), np.logical_or(a, b))
    assert_matches(ops.logical_xor(a, b), np.logical_xor(a, b))
    assert_matches(ops.logical_not(a), np.logical_not(a))


REDUCTIONS = {
    "sum": np.sum,
    "mean": np.mean,
    "max": np.max,
    "min": np.min,
    "prod": np.prod,
    "std": np.std,
    "var": np.var,
    "all": lambda x, axis=None, keepdims=False: np.all(x > 0, axis=axis, keepdims=keepdims),
    "any": lambda x, axis=None, keepdims=False: np.any(x > 0, axis=axis, keepdims=keepdims),
}
AXES = [None, 0, -1, (0, 2), (1,)]


@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("axis", AXES, ids=str)
@pytest.mark.parametrize("name", sorted(REDUCTIONS))
def test_reduction_matches_numpy_for_axis_and_keepdims(name, axis, keepdims):
    x = X > 0 if name in ("all", "any") else X
    result = getattr(ops, name)(x, axis=axis, keepdims=keepdims)
    assert_matches(result, REDUCTIONS[name](X, axis=axis, keepdims=keepdims), atol=1e-5)


def test_reduction_over_empty_axis_tuple_reduces_nothing():
    assert_matches(ops.sum(X, axis=()), X)


def test_mean_of_ints_is_floatx():
    result = ops.mean(np.array([1, 2, 4]))
    assert result.dtype == torch.float32
    assert result.item() == pytest.approx(7 / 3)


def test_sum_keeps_int32_and_promotes_bool_to_int32():
    assert ops.sum(np.array([1, 2], dtype=np.int32)).dtype == torch.int32
    assert ops.sum(np.array([True, True, False])).item() == 2
    assert ops.sum(np.array([True])).dtype == torch.int32


@pytest.mark.parametrize("axis", [None, 1])
def test_argmax_argmin_match_numpy(axis):
    assert_matches(ops.argmax(X, axis=axis), np.argmax(X, axis=axis))
    assert_matches(ops.argmin(X, axis=axis), np.argmin(X, axis=axis))
    assert ops.argmax(X, axis=axis).dtype == torch.int32


@pytest.mark.parametrize("axis", [None, 0, 2])
def test_cumsum_and_cumprod_match_numpy(axis):
    assert_matches(ops.cumsum(X, axis=axis), np.cumsum(X, axis=axis), atol=1e-4)
    assert_matches(ops.cumprod(X, axis=axis), np.cumprod(X, axis=axis), atol=1e-4)


def test_average_with_weights_along_axis_matches_numpy():
    weights = np.arange(1.0, 5.0)
    assert_matches(ops.average(X, axis=1, weights=weights), np.average(X, axis=1, weights=weights))
    assert_matches(ops.average(X), np.average(X))


def test_count_nonzero_matches_numpy():
    x = (X > 0).astype(np.int32)
    assert_matches(ops.count_nonzero(x, axis=1), np.count_nonzero(x, axis=1))


# ---- shapes ----------------------------------------------------------------------------


SHAPE_CASES = [
    ("reshape", (X, (4, -1)), np.reshape),
    ("transpose", (X,), np.transpose),
    ("transpose", (X, (2, 0, 1)), np.transpose),
    ("expand_dims", (X, 1), np.expand_dims),
    ("expand_dims", (X, (0, 2)), np.expand_dims),
    ("squeeze", (X[:, :1], 1), np.squeeze),
    ("flip", (X, 1), np.flip),
    ("flip", (X,), np.flip),
    ("roll", (X, 2, 2), np.roll),
    ("roll", (X, 3), np.roll),
    ("swapaxes", (X, 0, 2), np.swapaxes),
    ("moveaxis", (X, 0, -1), np.moveaxis),
    ("broadcast_to", (X[0, 0], (2, 5)), np.broadcast_to),
    ("tile", (X, (2, 1, 3)), np.tile),
    ("repeat", (X, 2, 1), np.repeat),
    ("repeat", (X, 2), np.repeat),
    ("diag", (X[0],), np.diag),
    ("diag", (X[0, 0], 1), np.diag),
    ("diagonal", (X, 0, 1, 2), np.diagonal),
    ("trace", (X[0],), np.trace),
    ("tril", (X, -1), np.tril),
    ("triu", (X, 1), np.triu),
    ("ravel", (X,), np.ravel),
    ("sort", (X, 0), np.sort),
    ("argsort", (X, 1), np.argsort),
]


@pytest.mark.parametrize(
    "name,args,reference", SHAPE_CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(SHAPE_CASES)]
)
def test_shape_op_matches_numpy(name, args, reference):
    assert_matches(getattr(ops, name)(*args), reference(*args))


def test_stack_concatenate_split_match_numpy():
    assert_matches(ops.stack([X, Y], axis=1), np.stack([X, Y], axis=1))
    assert_matches(ops.concatenate([X, Y], axis=2), np.concatenate([X, Y], axis=2))
    assert_matches(ops.concatenate([X, Y], axis=None), np.concatenate([X, Y], axis=None))
    for result, expected in zip(ops.split(X, [1, 3], axis=2), np.split(X, [1, 3], axis=2)):
        assert_matches(result, expected)
    assert len(ops.split(X, 2, axis=1)) == 2


def test_split_into_unequal_sections_raises():
    with pytest.raises(ValueError, match="do not divide"):
        ops.split(X, 3, axis=1)


def test_squeeze_of_axis_longer_than_one_raises():
    with pytest.raises(ValueError, match="Cannot squeeze axis 1"):
        ops.squeeze(X, axis=1)


@pytest.mark.parametrize("mode", ["constant", "edge", "reflect", "symmetric", "wrap"])
def test_pad_matches_numpy_for_each_mode(mode):
    widths = ((1, 2), (0, 3), (2, 1))
    assert_matches(ops.pad(X, widths, mode=mode), np.pad(X, widths, mode=mode))


def test_pad_constant_value_and_scalar_width_match_numpy():
    assert_matches(ops.pad(X, 1, constant_values=7.0), np.pad(X, 1, constant_values=7.0))


def test_take_with_negative_and_nd_indices_matches_numpy():
    assert_matches(ops.take(X, [0, 2, -1], axis=2), np.take(X, [0, 2, -1], axis=2))
    indices = np.array([[0, 1], [3, -2]])
    assert_matches(ops.take(X, indices, axis=1), np.take(X, indices, axis=1))
    assert_matches(ops.take(X, [5, 7]), np.take(X, [5, 7]))


def test_take_along_axis_matches_numpy():
    indices = np.argsort(X, axis=1)
    assert_matches(ops.take_along_axis(X, indices, axis=1), np.take_along_axis(X, indices, 1))


def test_where_clip_and_nan_to_num_match_numpy():
    assert_matches(ops.where(X > 0, X, Y), np.where(X > 0, X, Y))
    assert_matches(ops.where(X > 0, X, 0.0), np.where(X > 0, X, 0.0))
    assert_matches(ops.clip(X, -0.5, 0.5), np.clip(X, -0.5, 0.5))
    z = np.array([np.nan, np.inf, -np.inf, 1.0], dtype=np.float32)
    assert_matches(ops.nan_to_num(z, nan=1.0, posinf=9.0, neginf=-9.0), [1.0, 9.0, -9.0, 1.0])


def test_where_with_only_condition_returns_nonzero_indices():
    rows, cols = ops.where(X[0] > 0)
    expected_rows, expected_cols = np.nonzero(X[0] > 0)
    assert_matches(rows, expected_rows)
    assert_matches(cols, expected_cols)


# ---- products ----------------------------------------------------------------------------


def test_products_match_numpy():
    a, b = X[0], Y[0].T
    assert_matches(ops.matmul(X, np.swapaxes(Y, 1, 2)), np.matmul(X, np.swapaxes(Y, 1, 2)))
    assert_matches(ops.dot(X, b), np.dot(X, b), atol=1e-4)
    assert_matches(ops.dot(a[0], b[:, 0]), np.dot(a[0], b[:, 0]), atol=1e-4)
    assert_matches(ops.outer(a[0], b[0]), np.outer(a[0], b[0]))
    assert_matches(ops.vdot(a, a), np.vdot(a, a), atol=1e-4)
    assert_matches(ops.tensordot(X, Y, axes=([1, 2], [1, 2])), np.tensordot(X, Y, ([1, 2], [1, 2])))
    assert_matches(ops.einsum("ijk,ilk->ijl", X, Y), np.einsum("ijk,ilk->ijl", X, Y), atol=1e-4)
    assert_matches(ops.cross(X[..., :3], Y[..., :3]), np.cross(X[..., :3], Y[..., :3]))


@pytest.mark.parametrize(
    "ord_,axis",
    [(None, None), (None, 1), (1, -1), ("fro", (0, 1)), (np.inf, 1), (2, (1, 2)), ("nuc", (1, 2))],
    ids=str,
)
def test_norm_matches_numpy(ord_, axis):
    x = X if axis is not None else X[0]
    assert_matches(ops.norm(x, ord=ord_, axis=axis), np.linalg.norm(x, ord=ord_, axis=axis), 1e-4)


# ---- creation ----------------------------------------------------------------------------


def test_creation_ops_match_numpy_and_default_dtypes():
    assert_matches(ops.ones((2, 3)), np.ones((2, 3)))
    assert_matches(ops.zeros(4), np.zeros(4))
    assert_matches(ops.full((2,), 7), np.full((2,), 7.0))
    assert ops.full((2,), 7).dtype == torch.float32
    assert_matches(ops.eye(3, 4, k=1), np.eye(3, 4, k=1))
    assert_matches(ops.tri(3, 4, k=0), np.tri(3, 4, k=0))
    assert_matches(ops.identity(3), np.identity(3))
    assert_matches(ops.zeros_like(X), np.zeros_like(X))
    assert_matches(ops.full_like(X, 2), np.full_like(X, 2))
    assert ops.ones_like(X, dtype="int32").dtype == torch.int32


def test_arange_dtypes_follow_keras():
    assert ops.arange(5).dtype == torch.int32
    assert_matches(ops.arange(1, 7, 2), np.arange(1, 7, 2))
    assert ops.arange(0.0, 1.0, 0.25).dtype == torch.float32
    assert_matches(ops.arange(0.0, 1.0, 0.25), np.arange(0.0, 1.0, 0.25))


@pytest.mark.parametrize("endpoint", [True, False])
def test_linspace_matches_numpy(endpoint):
    assert_matches(ops.linspace(-1.0, 2.0, 7, endpoint=endpoint), np.linspace(-1, 2, 7, endpoint))
    start, stop = np.array([0.0, 1.0]), np.array([2.0, 5.0])
    expected = np.linspace(start, stop, 4, endpoint=endpoint, axis=1)
    assert_matches(ops.linspace(start, stop, 4, endpoint=endpoint, axis=1), expected)


def test_meshgrid_matches_numpy():
    for result, expected in zip(
        ops.meshgrid(np.arange(3), np.arange(4)), np.meshgrid(range(3), range(4))
    ):
        assert_matches(result, expected)


# ---- conversion and dtypes ----------------------------------------------------------------


def test_numpy_float64_becomes_float32_on_default_device():
    result = ops.convert_to_tensor(np.ones(3))
    assert result.dtype == torch.float32
    assert result.device.type == config.device().type


def test_python_numbers_and_lists_get_keras_dtypes():
    assert ops.convert_to_tensor(3).dtype == torch.int32
    assert ops.convert_to_tensor(0.5).dtype == torch.float32
    assert ops.convert_to_tensor([1, 2]).dtype == torch.int32
    assert ops.convert_to_tensor([True, False]).dtype == torch.bool
    assert ops.convert_to_tensor(np.arange(3)).dtype == torch.int64
    assert ops.convert_to_tensor(np.ones(2), dtype="float64").dtype == torch.float64


def test_convert_to_tensor_does_not_share_memory_with_numpy():
    array = np.zeros(3, dtype=np.float32)
    tensor = ops.convert_to_tensor(array)
    array[0] = 5.0
    assert tensor[0].item() == 0.0


def test_convert_to_tensor_rejects_strings():
    with pytest.raises(TypeError, match="Cannot convert"):
        ops.convert_to_tensor(np.array(["a"]))


def test_cast_shape_dtype_and_convert_to_numpy():
    x = ops.cast([1.7, -1.7], "int32")
    assert x.tolist() == [1, -1]
    assert ops.dtype(x) == "int32"
    assert ops.shape(np.zeros((2, 3))) == (2, 3)
    assert ops.convert_to_numpy(ops.cast(X, "bfloat16")).dtype == np.float32


def test_python_scalar_keeps_tensor_dtype_in_binary_ops():
    half = ops.cast(X, "float16")
    assert ops.add(half, 1.0).dtype == torch.float16
    assert ops.multiply(np.array([1, 2], dtype=np.int32), 0.5).dtype == torch.float32


def test_slice_and_slice_update_match_numpy_indexing():
    assert_matches(ops.slice(X, (1, 0, 2), (2, 3, 2)), X[1:3, 0:3, 2:4])
    expected = X.copy()
    expected[1:3, 0:3, 2:4] = 1.0
    assert_matches(ops.slice_update(X, (1, 0, 2), np.ones((2, 3, 2), np.float32)), expected)


def test_slice_and_slice_update_accept_tensor_start_indices():
    starts = torch.tensor([1, 0, 2])
    assert_matches(ops.slice(X, starts, (2, 3, 2)), X[1:3, 0:3, 2:4])
    expected = X.copy()
    expected[1:3, 0:3, 2:4] = 1.0
    assert_matches(ops.slice_update(X, starts, np.ones((2, 3, 2), np.float32)), expected)


def test_stop_gradient_blocks_gradients():
    x = torch.ones(3, requires_grad=True)
    (ops.sum(x * 2.0) + ops.sum(ops.stop_gradient(x) * 5.0)).backward()
    assert x.grad.tolist() == [2.0, 2.0, 2.0]


# ---- gradients ----------------------------------------------------------------------------

GRADIENT_CASES = {
    "sum_axis": lambda x: ops.sum(x, axis=(0, 2)),
    "mean_keepdims": lambda x: ops.mean(x, axis=1, keepdims=True),
    "max_axis": lambda x: ops.max(x, axis=1),
    "prod_axes": lambda x: ops.prod(x, axis=(0, 1)),
    "std": lambda x: ops.std(x, axis=-1),
    "norm": lambda x: ops.norm(x, axis=-1),
    "pad_reflect": lambda x: ops.pad(x, ((0, 0), (1, 1), (2, 1)), mode="reflect"),
    "take": lambda x: ops.take(x, [0, 2, -1], axis=2),
    "take_along_axis": lambda x: ops.take_along_axis(x, torch.zeros(3, 1, 5, dtype=torch.long), 1),
    "cumsum": lambda x: ops.cumsum(x, axis=1),
    "where": lambda x: ops.where(x > 0, x, ops.square(x)),
    "einsum": lambda x: ops.einsum("ijk,ilk->ijl", x, x),
    "repeat": lambda x: ops.repeat(x, 2, axis=1),
}


@pytest.mark.parametrize("name", sorted(GRADIENT_CASES))
def test_op_gradient_matches_finite_differences(name):
    x = torch.tensor(X, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(GRADIENT_CASES[name], (x,), eps=1e-6, atol=1e-5)
