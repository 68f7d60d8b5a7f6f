"""Regressions from a differential sweep of `keras.utils`, `keras.preprocessing` and
`keras.random` against tritonlayers on the same small inputs. Every expected value, dtype,
shape and message below was checked against Keras 3.15 (torch backend).
"""

import numpy as np
import pytest
import torch

import tritonlayers as keras

# ------------------------------------------------------------------ normalize


@pytest.mark.parametrize(
    "x, dtype, shape, values",
    [
        # Integer NumPy input divides in float64; a 1-D array gains a leading axis.
        (np.array([[3, 4]]), "float64", (1, 2), [[0.6, 0.8]]),
        (np.array([3.0, 4.0]), "float64", (1, 2), [[0.6, 0.8]]),
    ],
)
def test_normalize_numpy_dtype_and_shape(x, dtype, shape, values):
    out = keras.utils.normalize(x)
    assert isinstance(out, np.ndarray)
    assert (str(out.dtype), out.shape) == (dtype, shape)
    np.testing.assert_allclose(out, values, rtol=1e-6)


@pytest.mark.parametrize("x", [[[3.0, 4.0]], [[3, 4]]])
def test_normalize_list_gives_float32_tensor(x):
    out = keras.utils.normalize(x)
    assert isinstance(out, torch.Tensor) and out.dtype == torch.float32
    torch.testing.assert_close(out, torch.tensor([[0.6, 0.8]]))


# ------------------------------------------------------------------ pad_sequences


@pytest.mark.parametrize(
    "sequences, kwargs, expected",
    [
        ([[[1, 2]], [[3, 4], [5, 6]]], {}, [[[0, 0], [1, 2]], [[3, 4], [5, 6]]]),
        (
            [[[1, 2]], [[3, 4], [5, 6]], []],
            {"maxlen": 3, "padding": "post", "truncating": "post", "value": 9},
            [[[1, 2], [9, 9], [9, 9]], [[3, 4], [5, 6], [9, 9]], [[9, 9], [9, 9], [9, 9]]],
        ),
        ([[[1, 2], [3, 4], [5, 6]]], {"maxlen": 2}, [[[3, 4], [5, 6]]]),
    ],
)
def test_pad_sequences_of_vectors(sequences, kwargs, expected):
    out = keras.utils.pad_sequences(sequences, **kwargs)
    assert out.dtype == np.int32
    assert out.tolist() == expected


@pytest.mark.parametrize(
    "sequences, kwargs, message",
    [
        ([[1], [2, 3]], {"padding": "mid"}, 'Padding type "mid" not understood'),
        ([[1], [2, 3]], {"maxlen": 1, "truncating": "mid"}, 'Truncating type "mid" not understood'),
        ([1, 2], {}, "`sequences` must be a list of iterables. Found non-iterable: 1"),
        (
            [[[1, 2]], [[3]]],
            {},
            "Shape of sample (1,) of sequence at position 1 is different from expected shape (2,)",
        ),
        (
            [[1], [2, 3]],
            {"value": "x"},
            "`dtype` int32 is not compatible with `value`'s type: <class 'str'>",
        ),
    ],
)
def test_pad_sequences_errors(sequences, kwargs, message):
    with pytest.raises(ValueError) as info:
        keras.utils.pad_sequences(sequences, **kwargs)
    assert str(info.value).startswith(message)


# ------------------------------------------------------------------ keras.random dtypes


@pytest.mark.parametrize("dtype", ["float32", "bfloat16"])
def test_randint_rejects_float_dtype(dtype):
    message = f"`keras.random.randint` requires an integer `dtype`. Received: dtype={dtype}"
    with pytest.raises(ValueError, match=message):
        keras.random.randint((3,), 0, 7, dtype=dtype, seed=1)


@pytest.mark.parametrize(
    "dtype, expected",
    [("int32", torch.int32), ("int64", torch.int64), ("bool", torch.bool)],
)
def test_binomial_accepts_any_dtype(dtype, expected):
    out = keras.random.binomial((3,), 5, 1.0, dtype=dtype, seed=1)
    assert out.dtype == expected
    assert out.tolist() == torch.full((3,), 5).to(expected).tolist()


# ------------------------------------------------------------------ error wording


@pytest.mark.parametrize(
    "call, message",
    [
        (
            lambda: keras.utils.split_dataset(np.arange(10), right_size=11),
            "`right_size` should be either a positive integer and smaller than 10 or a float "
            "within the range `[0, 1]`. Received: right_size=11",
        ),
        (
            lambda: keras.utils.split_dataset(np.arange(10), left_size=1.5),
            "`left_size` should be either a positive integer smaller than 10, or a float "
            "within the range `[0, 1]`. Received: left_size=1.5",
        ),
        (
            lambda: keras.random.normal((2,), seed="a"),
            "Argument `seed` must be either an integer or an instance of `SeedGenerator`. "
            "Received: seed=a (of type <class 'str'>)",
        ),
        (
            lambda: keras.random.SeedGenerator("a"),
            "Argument `seed` must be an integer. Received: seed=a",
        ),
    ],
)
def test_error_messages_match_keras(call, message):
    with pytest.raises(ValueError) as info:
        call()
    assert str(info.value) == message


@pytest.mark.parametrize(
    ("dtype", "expected"),
    [("int", "int32"), (int, "int32"), (float, "float32"), (bool, "bool"), ("uint8", "uint8")],
)
def test_utils_standardize_dtype_follows_keras_torch_rules(dtype, expected):
    # Checked against Keras 3.15 (torch backend): keras.utils.standardize_dtype is
    # keras.backend.standardize_dtype; "int" and int gave int64 here, float gave float64.
    assert keras.utils.standardize_dtype(dtype) == expected
