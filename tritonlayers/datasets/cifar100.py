"""CIFAR-100: 50,000 training and 10,000 test 32x32 colour images in 100 fine classes,
grouped into 20 coarse superclasses.

Example (downloads about 170 MB on first use):
>>> import tritonlayers as keras
>>> (x_train, y_train), _ = keras.datasets.cifar100.load_data("coarse")  # doctest: +SKIP
>>> x_train.shape, y_train.shape, int(y_train.max())  # doctest: +SKIP
((50000, 32, 32, 3), (50000, 1), 19)
"""

from .cifar import fetch_extracted, load_batch, to_image_data_format

ORIGIN = "https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz"
FILE_HASH = "85cd44d02ba6437773c5bbd22e183051d648de2e7d6b014e1ef29b855ba677a7"
DIRNAME = "cifar-100-python-target"
_BATCHES_FOLDER = "cifar-100-python"


def load_data(label_mode: str = "fine") -> tuple:
    """Load CIFAR-100 as `(x_train, y_train), (x_test, y_test)` NumPy arrays.

    Args:
        label_mode: "fine" for the 100 class labels (0-99), "coarse" for the 20 superclass
            labels (0-19).

    Images are uint8, (N, 32, 32, 3) under the "channels_last" image data format (the
    default) and (N, 3, 32, 32) under "channels_first"; labels are int64 of shape (N, 1), as
    Keras returns them. The archive is cached as
    `~/.keras/datasets/cifar-100-python-target_archive` and unpacked next to it.
    """
    if label_mode not in ("fine", "coarse"):
        raise ValueError(
            f'`label_mode` must be one of `"fine"`, `"coarse"`. Received: label_mode={label_mode}.'
        )
    folder = fetch_extracted(DIRNAME, ORIGIN, FILE_HASH) / _BATCHES_FOLDER
    x_train, y_train = load_batch(folder / "train", label_key=f"{label_mode}_labels")
    x_test, y_test = load_batch(folder / "test", label_key=f"{label_mode}_labels")
    return (
        (to_image_data_format(x_train), y_train.reshape(-1, 1)),
        (to_image_data_format(x_test), y_test.reshape(-1, 1)),
    )
