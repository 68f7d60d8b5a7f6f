"""`tritonlayers.preprocessing`: Keras 3.15's `keras.preprocessing` names and `smart_resize`.

Every `smart_resize` number below was also checked against
`keras.preprocessing.image.smart_resize` (Keras 3.15, torch backend): identical values,
dtypes and array/tensor types.
"""

import subprocess
import sys

import numpy as np
import pytest
import torch

import tritonlayers as keras
from tritonlayers import utils

smart_resize = keras.preprocessing.image.smart_resize


def test_public_names_match_keras_preprocessing():
    # dir(keras.preprocessing), dir(...image) and dir(...sequence) in Keras 3.15.
    assert keras.preprocessing.__all__ == [
        "image",
        "image_dataset_from_directory",
        "sequence",
        "text_dataset_from_directory",
        "timeseries_dataset_from_array",
    ]
    assert keras.preprocessing.image.__all__ == [
        "array_to_img",
        "img_to_array",
        "load_img",
        "save_img",
        "smart_resize",
    ]
    assert keras.preprocessing.sequence.__all__ == ["pad_sequences"]


@pytest.mark.parametrize(
    ("module", "name"),
    [
        ("", "image_dataset_from_directory"),
        ("", "text_dataset_from_directory"),
        ("", "timeseries_dataset_from_array"),
        ("image", "array_to_img"),
        ("image", "img_to_array"),
        ("image", "load_img"),
        ("image", "save_img"),
        ("sequence", "pad_sequences"),
    ],
)
def test_names_are_the_keras_utils_functions(module, name):
    namespace = getattr(keras.preprocessing, module) if module else keras.preprocessing
    assert getattr(namespace, name) is getattr(utils, name)


def test_namespace_loads_on_first_use():
    code = (
        "import sys, tritonlayers as keras\n"
        "assert 'tritonlayers.preprocessing' not in sys.modules\n"
        "assert 'preprocessing' in dir(keras)\n"
        "keras.preprocessing.sequence.pad_sequences([[1]])\n"
        "assert 'tritonlayers.preprocessing' in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_smart_resize_crops_the_centre_before_resizing():
    # (4, 6) -> (2, 2): the centred (4, 4) crop drops columns 0 and 5; halving it bilinearly
    # (half-pixel centres, no antialiasing) averages each 2x2 block of value 6*row + column.
    image = np.arange(24, dtype="float32").reshape(4, 6, 1)
    got = smart_resize(image, (2, 2))
    expected = image[:, 1:5, 0].reshape(2, 2, 2, 2).mean(axis=(1, 3))[..., None]
    np.testing.assert_allclose(got, expected, rtol=1e-6)
    np.testing.assert_allclose(got[..., 0], [[4.5, 6.5], [16.5, 18.5]], rtol=1e-6)


def test_smart_resize_channels_first_batch_with_nearest():
    # (batch, channels, 6, 2) -> (3, 3): the centred (2, 2) crop is rows 2-3; nearest
    # upsampling to 3x3 samples source rows/columns floor((i + 0.5) * 2 / 3) = 0, 1, 1.
    images = np.arange(2 * 1 * 6 * 2, dtype="float64").reshape(2, 1, 6, 2)
    got = smart_resize(images, (3, 3), interpolation="nearest", data_format="channels_first")
    crop = images[:, :, 2:4, :]
    expected = crop[:, :, [0, 1, 1]][:, :, :, [0, 1, 1]]
    assert got.dtype == np.float64
    np.testing.assert_array_equal(got, expected)


def test_smart_resize_returns_numpy_for_numpy_and_tensor_for_tensor():
    image = np.full((5, 7, 3), 200, dtype="uint8")
    as_array = smart_resize(image, (4, 4))
    as_tensor = smart_resize(torch.from_numpy(image), (4, 4))
    assert isinstance(as_array, np.ndarray) and as_array.dtype == np.uint8
    assert isinstance(as_tensor, torch.Tensor) and as_tensor.dtype == torch.uint8
    np.testing.assert_array_equal(as_array, np.full((4, 4, 3), 200))
    np.testing.assert_array_equal(as_tensor.numpy(), as_array)


def test_smart_resize_converts_lists_like_convert_to_tensor():
    got = smart_resize([[[1.0], [2.0]]], (1, 1))
    assert got.dtype == torch.float32 and got.tolist() == [[[1.0]]]


@pytest.mark.parametrize(
    ("x", "size", "kwargs", "error", "message"),
    [
        (np.zeros((5, 5)), (2, 2), {}, ValueError, r"incorrect rank, of shape \(5, 5\)"),
        (np.zeros((5, 5, 1)), (2, 2, 2), {}, ValueError, r"tuple of 2 integers.*\(2, 2, 2\)"),
        (np.zeros((5, 5, 1)), (2, 2), {"scale": 1}, TypeError, r"unexpected keyword.*'scale'"),
    ],
)
def test_smart_resize_rejects_bad_input(x, size, kwargs, error, message):
    with pytest.raises(error, match=message):
        smart_resize(x, size, **kwargs)


def test_sequence_pad_sequences_pads_and_truncates_at_the_front_by_default():
    got = keras.preprocessing.sequence.pad_sequences([[1, 2, 3, 4], [5]], maxlen=3)
    np.testing.assert_array_equal(got, [[2, 3, 4], [0, 0, 5]])


def test_timeseries_dataset_from_array_windows_with_targets():
    data = keras.preprocessing.timeseries_dataset_from_array(
        np.arange(6), np.arange(6) * 10, sequence_length=3, batch_size=2
    )
    windows, targets = data[0]
    np.testing.assert_array_equal(windows, [[0, 1, 2], [1, 2, 3]])
    np.testing.assert_array_equal(targets, [0, 10])
