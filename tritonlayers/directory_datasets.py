"""`image_dataset_from_directory` and `text_dataset_from_directory`: one class per
sub-folder, read into batches.

Files are listed, labelled and shuffled exactly as Keras does (sorted walk, then a NumPy
`RandomState(seed)` permutation), so a seed picks the same training/validation files as in
Keras. The result is a `PyDataset` with Keras's `class_names` (and `file_paths`) that
`fit` accepts; its batches are NumPy arrays: images `(batch, height, width, channels)`
float32 (channels first for that data format), texts an array of `str`. A shuffled
dataset draws a new sample order after every epoch (Keras reshuffles through a buffer of
8 batches; here the whole order is redrawn).

Example:
>>> import pathlib, tempfile
>>> import tritonlayers as keras
>>> root = pathlib.Path(tempfile.mkdtemp())
>>> for label, text in [("neg", "bad"), ("pos", "good"), ("pos", "great")]:
...     (root / label).mkdir(exist_ok=True)
...     _ = (root / label / f"{text}.txt").write_text(text)
>>> ds = keras.utils.text_dataset_from_directory(root, batch_size=8, shuffle=False)
Found 3 files belonging to 2 classes.
>>> texts, labels = ds[0]
>>> ds.class_names, texts.tolist(), labels.tolist()
(['neg', 'pos'], ['bad', 'good', 'great'], [0, 1, 1])
"""

import math
import os
from typing import Any

import numpy as np

from . import io_utils
from .layers._arguments import standardize_data_format
from .models.py_dataset import PyDataset

__all__ = [
    "DirectoryDataset",
    "ImageDirectoryDataset",
    "TextDirectoryDataset",
    "image_dataset_from_directory",
    "text_dataset_from_directory",
]

IMAGE_FORMATS = (".bmp", ".gif", ".jpeg", ".jpg", ".png")
_INTERPOLATIONS = (
    "bilinear",
    "nearest",
    "bicubic",
    "area",
    "lanczos3",
    "lanczos5",
    "gaussian",
    "mitchellcubic",
)
_TORCH_INTERPOLATIONS = ("bilinear", "nearest", "bicubic")


def _valid_files(directory: str, follow_links: bool, formats: tuple):
    for root, _, files in sorted(os.walk(directory, followlinks=follow_links), key=lambda w: w[0]):
        for name in sorted(files):
            if name.lower().endswith(formats):
                yield root, name


def index_directory(
    directory: Any,
    labels: Any,
    formats: tuple,
    class_names: "list | None" = None,
    shuffle: bool = True,
    seed: "int | None" = None,
    follow_links: bool = False,
    verbose: bool = True,
) -> tuple:
    """`(file_paths, labels, class_names)` for the files under `directory`, as Keras lists
    them: by sub-folder (class) in order, each walked in sorted order, then shuffled with
    `RandomState(seed)` when `shuffle`.

    Example:
    >>> import pathlib, tempfile
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> (root / "a").mkdir(); _ = (root / "a" / "x.txt").write_text("x")
    >>> paths, labels, names = index_directory(root, "inferred", (".txt",), verbose=False)
    >>> [pathlib.Path(p).name for p in paths], labels.tolist(), names
    (['x.txt'], [0], ['a'])
    """
    directory = os.fspath(directory)
    if not os.path.isdir(directory):
        raise ValueError(f"The `directory` argument must be an existing folder: {directory!r}")
    if labels == "inferred":
        folders = [
            name
            for name in sorted(os.listdir(directory))
            if os.path.isdir(os.path.join(directory, name)) and not name.startswith(".")
        ]
        if class_names is not None:
            if not set(class_names).issubset(folders):
                raise ValueError(
                    "The `class_names` passed did not match the names of the subdirectories "
                    f"of the target directory. Expected: {folders} (or a subset of it), but "
                    f"received: class_names={class_names}"
                )
            folders = list(class_names)
    else:
        if class_names is not None:
            raise ValueError(
                "When `labels=None` (no labels), argument `class_names` cannot be specified."
                if labels is None
                else "When argument `labels` is specified, argument `class_names` cannot be "
                "specified (the `class_names` will be the sorted list of labels)."
            )
        folders = [""]
    relative, inferred = [], []
    for index, folder in enumerate(folders):
        folder_path = os.path.join(directory, folder)
        for root, name in _valid_files(folder_path, follow_links, formats):
            relative.append(
                os.path.join(folder, os.path.relpath(os.path.join(root, name), folder_path))
            )
            inferred.append(index)
    if labels == "inferred":
        labels = np.asarray(inferred, dtype="int32")
        names = folders
    elif labels is None:
        names = None
    else:
        if len(labels) != len(relative):
            raise ValueError(
                "Expected the lengths of `labels` to match the number of files in the target "
                f"directory. len(labels) is {len(labels)} while we found {len(relative)} "
                f"files in directory {directory}."
            )
        names = [str(label) for label in sorted(set(labels))]
        labels = np.asarray(labels)
    if verbose:
        if labels is None:
            io_utils.print_msg(f"Found {len(relative)} files.")
        else:
            io_utils.print_msg(f"Found {len(relative)} files belonging to {len(names)} classes.")
    paths = [os.path.join(directory, name) for name in relative]
    if shuffle:
        seed = np.random.randint(1_000_000) if seed is None else seed
        np.random.RandomState(seed).shuffle(paths)
        if labels is not None:
            np.random.RandomState(seed).shuffle(labels)
    return paths, labels, names


def check_validation_split_arg(validation_split: Any, subset: Any, shuffle: bool, seed) -> None:
    """Keras's checks of `validation_split`/`subset` (and a seed when both shuffle)."""
    if validation_split and not 0 < validation_split < 1:
        raise ValueError(
            f"`validation_split` must be between 0 and 1, received: {validation_split}"
        )
    if (validation_split or subset) and not (validation_split and subset):
        raise ValueError("If `subset` is set, `validation_split` must be set, and inversely.")
    if subset not in ("training", "validation", "both", None):
        raise ValueError(
            f'`subset` must be either "training", "validation" or "both", received: {subset}'
        )
    if validation_split and shuffle and seed is None:
        raise ValueError(
            "If using `validation_split` and shuffling the data, you must provide a `seed` "
            "argument, to make sure that there is no overlap between the training and "
            "validation subset."
        )


def training_or_validation_split(paths: list, labels: Any, validation_split: Any, subset):
    """The last `int(validation_split * n)` samples for "validation", the others for
    "training" (everything without a `validation_split`)."""
    if not validation_split:
        return paths, labels
    count = int(validation_split * len(paths))
    if subset == "training":
        io_utils.print_msg(f"Using {len(paths) - count} files for training.")
        keep = slice(None, len(paths) - count)
    else:
        io_utils.print_msg(f"Using {count} files for validation.")
        keep = slice(len(paths) - count, None)
    return paths[keep], None if labels is None else labels[keep]


def _check_label_arguments(labels: Any, label_mode: Any, class_names: Any, kind: str) -> None:
    if labels not in ("inferred", None):
        if not isinstance(labels, (list, tuple)):
            raise ValueError(
                "`labels` argument should be a list/tuple of integer labels, of the same "
                f"size as the number of {kind} files in the target directory. If you wish to "
                "infer the labels from the subdirectory names in the target directory, pass "
                f'`labels="inferred"`. If you wish to get a dataset that only contains '
                f"{kind} samples (no labels), pass `labels=None`. Received: labels={labels}"
            )
        if class_names:
            raise ValueError(
                'You can only pass `class_names` if `labels="inferred"`. Received: '
                f"labels={labels}, and class_names={class_names}"
            )
    if label_mode not in ("int", "categorical", "binary", None):
        raise ValueError(
            '`label_mode` argument must be one of "int", "categorical", "binary", or None. '
            f"Received: label_mode={label_mode}"
        )


class DirectoryDataset(PyDataset):
    """Batches of samples read from files, with their labels.

    Subclasses implement `load(path)` (one sample as a NumPy array or a string).

    Args:
        file_paths: the files, in order.
        labels: integer labels aligned with `file_paths`, or None.
        label_mode: "int" (int32 `(batch,)`), "categorical" (float32 one-hot
            `(batch, num_classes)`), "binary" (float32 `(batch, 1)`) or None (no labels).
        class_names: the class names (index = label).
        batch_size: samples per batch; None yields single samples.
        shuffle: draw a new sample order after every epoch.
        seed: the seed of those orders.
    """

    # Keras returns a tf.data.Dataset here: `fit` keeps its batch order.
    _shuffled_by_fit = False

    def __init__(
        self,
        file_paths: list,
        labels: Any,
        label_mode: "str | None",
        class_names: "list | None",
        batch_size: "int | None",
        shuffle: bool = False,
        seed: "int | None" = None,
        **kwargs: Any,
    ):
        super().__init__(**kwargs)
        if batch_size is not None and (not isinstance(batch_size, int) or batch_size <= 0):
            raise ValueError(
                f"`batch_size` must be a positive integer or None. Received: {batch_size}"
            )
        self.file_paths = list(file_paths)
        self.labels = None if labels is None else np.asarray(labels)
        self.label_mode = label_mode
        self.class_names = class_names
        self.batch_size = batch_size
        self.shuffle = shuffle
        self._order = np.arange(len(self.file_paths))
        self._rng = np.random.RandomState(seed) if shuffle else None

    def __len__(self) -> int:
        if self.batch_size is None:
            return len(self.file_paths)
        return math.ceil(len(self.file_paths) / self.batch_size)

    def load(self, path: str) -> Any:
        """One sample read from `path`."""
        raise TypeError(f"{type(self).__name__} must implement `load(path)`.")

    def collate(self, samples: list) -> Any:
        """Samples stacked into one batch."""
        return np.stack(samples)

    def __getitem__(self, index: int) -> Any:
        if not -len(self) <= index < len(self):
            raise IndexError(f"{type(self).__name__} index {index} out of range for {len(self)}.")
        index %= len(self)
        if self.batch_size is None:
            picks = self._order[index : index + 1]
        else:
            picks = self._order[index * self.batch_size : (index + 1) * self.batch_size]
        samples = [self.load(self.file_paths[i]) for i in picks]
        inputs = samples[0] if self.batch_size is None else self.collate(samples)
        if self.label_mode is None:
            return inputs
        labels = self._encode(self.labels[picks])
        return inputs, labels[0] if self.batch_size is None else labels

    def _encode(self, labels: np.ndarray) -> np.ndarray:
        if self.label_mode == "binary":
            return labels.astype("float32")[:, None]
        if self.label_mode == "categorical":
            return np.eye(len(self.class_names), dtype="float32")[labels]
        return labels.astype("int32")

    def on_epoch_end(self) -> None:
        if self._rng is not None:
            self._order = self._rng.permutation(len(self.file_paths))


class TextDirectoryDataset(DirectoryDataset):
    """Text files as `str` samples (UTF-8, at most `max_length` bytes each); a batch is a
    NumPy array of `str`."""

    def __init__(self, *args: Any, max_length: "int | None" = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.max_length = max_length

    def load(self, path: str) -> str:
        with open(path, "rb") as f:
            data = f.read()
        if self.max_length is not None:
            data = data[: self.max_length]
        return data.decode("utf-8", errors="ignore")

    def collate(self, samples: list) -> np.ndarray:
        return np.asarray(samples, dtype=object)


class ImageDirectoryDataset(DirectoryDataset):
    """Image files decoded by Pillow to float32 arrays of `image_size`."""

    def __init__(
        self,
        *args: Any,
        image_size: tuple = (256, 256),
        color_mode: str = "rgb",
        interpolation: str = "bilinear",
        crop_to_aspect_ratio: bool = False,
        pad_to_aspect_ratio: bool = False,
        data_format: "str | None" = None,
        **kwargs: Any,
    ):
        super().__init__(*args, **kwargs)
        self.image_size = tuple(image_size)
        self.color_mode = color_mode
        self.interpolation = interpolation
        self.crop_to_aspect_ratio = crop_to_aspect_ratio
        self.pad_to_aspect_ratio = pad_to_aspect_ratio
        self.data_format = standardize_data_format(data_format)

    def load(self, path: str) -> np.ndarray:
        import torch

        from .image_utils import load_img
        from .ops.image import resize

        image = np.asarray(load_img(path, color_mode=self.color_mode), dtype="float32")
        if image.ndim == 2:
            image = image[..., None]
        resized = resize(
            torch.from_numpy(image).cpu(),
            self.image_size,
            interpolation=self.interpolation,
            crop_to_aspect_ratio=self.crop_to_aspect_ratio,
            pad_to_aspect_ratio=self.pad_to_aspect_ratio,
            data_format="channels_last",
        )
        array = resized.detach().cpu().numpy().astype("float32")
        return array.transpose(2, 0, 1) if self.data_format == "channels_first" else array


def _from_directory(
    kind: str,
    dataset_class: type,
    directory: Any,
    labels: Any,
    label_mode: Any,
    class_names: Any,
    formats: tuple,
    batch_size: Any,
    shuffle: bool,
    seed: Any,
    validation_split: Any,
    subset: Any,
    follow_links: bool,
    verbose: bool,
    options: dict,
) -> Any:
    _check_label_arguments(labels, label_mode, class_names, kind)
    if labels is None or label_mode is None:
        labels, label_mode = None, None
    check_validation_split_arg(validation_split, subset, shuffle, seed)
    if seed is None:
        seed = np.random.randint(1_000_000)
    paths, labels, class_names = index_directory(
        directory, labels, formats, class_names, shuffle, seed, follow_links, verbose
    )
    if label_mode == "binary" and len(class_names) != 2:
        raise ValueError(
            'When passing `label_mode="binary"`, there must be exactly 2 class_names. '
            f"Received: class_names={class_names}"
        )
    allowed = (
        f"Allowed format: {formats[0]}" if len(formats) == 1 else f"Allowed formats: {formats}"
    )
    datasets = []
    for part in ("training", "validation") if subset == "both" else (subset,):
        part_paths, part_labels = training_or_validation_split(
            paths, labels, validation_split, part
        )
        if not part_paths:
            which = f"{part} " if subset == "both" else ""
            noun = "images" if kind == "image" else f"{kind} files"
            raise ValueError(f"No {which}{noun} found in directory {directory}. {allowed}")
        datasets.append(
            dataset_class(
                part_paths,
                part_labels,
                label_mode,
                class_names,
                batch_size,
                shuffle=shuffle and part != "validation",
                seed=seed,
                **options,
            )
        )
    return datasets if subset == "both" else datasets[0]


def text_dataset_from_directory(
    directory: Any,
    labels: Any = "inferred",
    label_mode: "str | None" = "int",
    class_names: "list | None" = None,
    batch_size: "int | None" = 32,
    max_length: "int | None" = None,
    shuffle: bool = True,
    seed: "int | None" = None,
    validation_split: "float | None" = None,
    subset: "str | None" = None,
    follow_links: bool = False,
    verbose: bool = True,
) -> Any:
    """A dataset of the `.txt` files under `directory`, one class per sub-folder.

    Args:
        directory: the folder; with `labels="inferred"`, one sub-folder per class.
        labels: "inferred" (from the sub-folders), None (texts only), or a list of
            integer labels in the sorted order of the file paths.
        label_mode: "int", "categorical", "binary" (exactly 2 classes) or None.
        class_names: with inferred labels, the sub-folders to use, in label order.
        batch_size: texts per batch (None: single texts).
        max_length: keep at most this many bytes of each file.
        shuffle: shuffle the files (and reshuffle after every epoch); else sorted order.
        seed: the shuffle's seed (needed with `validation_split` when shuffling).
        validation_split: the fraction of files held out for validation.
        subset: "training", "validation", or "both" (a list of the two datasets).
        follow_links: walk into symlinked sub-folders.
        verbose: print how many files and classes were found.

    Returns:
        A `TextDirectoryDataset` (a `PyDataset` with `class_names`) of `(texts, labels)`
        batches, or `texts` alone without labels; a list of two for `subset="both"`.
    """
    return _from_directory(
        "text",
        TextDirectoryDataset,
        directory,
        labels,
        label_mode,
        class_names,
        (".txt",),
        batch_size,
        shuffle,
        seed,
        validation_split,
        subset,
        follow_links,
        verbose,
        {"max_length": max_length},
    )


def image_dataset_from_directory(
    directory: Any,
    labels: Any = "inferred",
    label_mode: "str | None" = "int",
    class_names: "list | None" = None,
    color_mode: str = "rgb",
    batch_size: "int | None" = 32,
    image_size: Any = (256, 256),
    shuffle: bool = True,
    seed: "int | None" = None,
    validation_split: "float | None" = None,
    subset: "str | None" = None,
    interpolation: str = "bilinear",
    follow_links: bool = False,
    crop_to_aspect_ratio: bool = False,
    pad_to_aspect_ratio: bool = False,
    data_format: "str | None" = None,
    verbose: bool = True,
) -> Any:
    """A dataset of the images (.bmp, .gif, .jpeg, .jpg, .png) under `directory`, one
    class per sub-folder, decoded with Pillow (`pip install pillow`) and resized to
    `image_size`.

    Args are those of `text_dataset_from_directory`, plus:
        color_mode: "rgb" (3 channels), "rgba" (4) or "grayscale" (1).
        image_size: `(height, width)` (or one int for both) every image is resized to.
        interpolation: the resize method: "bilinear", "nearest" or "bicubic" (Keras's other
            names, which need TensorFlow, raise ValueError).
        crop_to_aspect_ratio / pad_to_aspect_ratio: crop (or pad) each image to the
            target's aspect ratio before resizing, instead of distorting it.
        data_format: "channels_last" (default) or "channels_first".

    Returns:
        An `ImageDirectoryDataset` (a `PyDataset` with `class_names`) of
        `(images, labels)` float32 batches, or `images` alone without labels; a list of two
        for `subset="both"`.
    """
    channels = {"rgb": 3, "rgba": 4, "grayscale": 1}
    if color_mode not in channels:
        raise ValueError(
            '`color_mode` must be one of {"rgb", "rgba", "grayscale"}. Received: '
            f"color_mode={color_mode}"
        )
    if isinstance(image_size, int):
        image_size = (image_size, image_size)
    elif not isinstance(image_size, (list, tuple)) or len(image_size) != 2:
        raise ValueError(
            "Invalid `image_size` value. Expected a tuple of 2 integers. Received: "
            f"image_size={image_size}"
        )
    interpolation = interpolation.lower()
    if interpolation not in _INTERPOLATIONS:
        raise ValueError(
            f"Argument `interpolation` should be one of {_INTERPOLATIONS}. Received: "
            f"interpolation={interpolation}"
        )
    if interpolation not in _TORCH_INTERPOLATIONS:
        raise ValueError(
            "image_dataset_from_directory resizes with `keras.ops.image.resize`, which supports "
            f"interpolation in {_TORCH_INTERPOLATIONS} on the torch backend. Received: "
            f"interpolation={interpolation}"
        )
    if crop_to_aspect_ratio and pad_to_aspect_ratio:
        raise ValueError(
            "Only one of `pad_to_aspect_ratio`, `crop_to_aspect_ratio` can be set to `True`."
        )
    from .image_utils import pil_image

    pil_image("image_dataset_from_directory")
    options = {
        "image_size": tuple(image_size),
        "color_mode": color_mode,
        "interpolation": interpolation,
        "crop_to_aspect_ratio": crop_to_aspect_ratio,
        "pad_to_aspect_ratio": pad_to_aspect_ratio,
        "data_format": data_format,
    }
    return _from_directory(
        "image",
        ImageDirectoryDataset,
        directory,
        labels,
        label_mode,
        class_names,
        IMAGE_FORMATS,
        batch_size,
        shuffle,
        seed,
        validation_split,
        subset,
        follow_links,
        verbose,
        options,
    )
