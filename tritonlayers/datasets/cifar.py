"""What CIFAR-10 and CIFAR-100 share: the archive, fetched and unpacked in Keras's cache
layout, and its batches, Python pickles of `{b"data": uint8 (N, 3072), b"labels": [...]}`
read with an unpickler that rebuilds only numpy arrays and plain data.

Keras's layout: `~/.keras/datasets/<dirname>_archive` is the `.tar.gz` as downloaded, and
`~/.keras/datasets/<dirname>/` holds its contents.

Example:
>>> import pathlib, pickle, tempfile
>>> import numpy as np
>>> batch = pathlib.Path(tempfile.mkdtemp()) / "data_batch_1"
>>> pixels = np.arange(2 * 3072, dtype=np.uint8).reshape(2, 3072)
>>> _ = batch.write_bytes(pickle.dumps({b"data": pixels, b"labels": [3, 5]}, protocol=3))
>>> images, labels = load_batch(batch)
>>> images.shape, labels.tolist()
((2, 3, 32, 32), [3, 5])
"""

import os
import pathlib
import tarfile
import zlib

import numpy as np

from .. import config, file_utils
from .data_utils import get_file
from .safe_pickle import load_pickle


def fetch_extracted(dirname: str, origin: str, file_hash: str) -> pathlib.Path:
    """The folder `~/.keras/datasets/<dirname>` holding the unpacked archive from `origin`,
    downloading `<dirname>_archive` first when missing or when its hash differs, and
    unpacking it again whenever the archive is newer than the folder."""
    archive = get_file(f"{dirname}_archive", origin=origin, file_hash=file_hash)
    folder = archive.parent / dirname
    if folder.is_dir() and folder.stat().st_mtime >= archive.stat().st_mtime:
        return folder
    try:
        extracted = file_utils.extract_archive(archive, folder, "tar")
    except (tarfile.TarError, OSError, EOFError, zlib.error) as error:
        raise ValueError(
            f"{archive} is not a readable tar.gz archive: {error}. Delete it to download it "
            f"again from {origin}."
        ) from error
    if not extracted:
        raise ValueError(
            f"{archive} is not a tar archive. Delete it to download it again from {origin}."
        )
    return folder


def load_batch(path: "str | os.PathLike", label_key: str = "labels") -> tuple:
    """`(images, labels)` of one pickled CIFAR batch: uint8 images of shape (N, 3, 32, 32)
    and the labels under `label_key` as an int64 array of shape (N,)."""
    path = pathlib.Path(path)
    if not path.is_file():
        raise ValueError(
            f"{path} is missing from the unpacked CIFAR archive. Delete the folder "
            f"{path.parent.parent} and its archive to download them again."
        )
    batch = load_pickle(path)
    if not isinstance(batch, dict):
        raise ValueError(f"{path} holds a {type(batch).__name__}; expected a dict of arrays.")
    batch = {key.decode("utf8") if isinstance(key, bytes) else key: v for key, v in batch.items()}
    if "data" not in batch or label_key not in batch:
        raise ValueError(
            f"{path} has keys {sorted(batch)}; expected 'data' and {label_key!r}. It is not "
            "a CIFAR batch."
        )
    data, labels = batch["data"], np.asarray(batch[label_key])
    if (
        not isinstance(data, np.ndarray)
        or data.dtype != np.uint8
        or data.ndim != 2
        or data.shape[1] != 3 * 32 * 32
        or labels.shape != (data.shape[0],)
    ):
        raise ValueError(
            f"{path} holds data {getattr(data, 'dtype', type(data).__name__)} "
            f"{getattr(data, 'shape', '')} and {labels.shape[0] if labels.ndim else 0} "
            "labels; expected uint8 data of shape (N, 3072) and N labels."
        )
    return data.reshape(data.shape[0], 3, 32, 32), labels.astype(np.int64)


def to_image_data_format(images: np.ndarray) -> np.ndarray:
    """NCHW batches as stored, transposed to NHWC under "channels_last" (the default)."""
    if config.image_data_format() == "channels_last":
        return images.transpose(0, 2, 3, 1)
    return images
