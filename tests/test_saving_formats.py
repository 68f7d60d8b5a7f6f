"""The file formats under saving: safetensors reader/writer, atomic writes, zip archives."""

import json
import os
import zipfile

import numpy as np
import pytest
import torch

from tritonlayers.saving import safetensors_io
from tritonlayers.saving.archive import MAX_JSON_BYTES, read_archive, write_archive
from tritonlayers.saving.atomic import atomic_write
from tritonlayers.saving.errors import ArchiveError
from tritonlayers.saving.state_codec import decode, encode


def _with_header(header: dict, data: bytes) -> bytes:
    raw = json.dumps(header).encode()
    return len(raw).to_bytes(8, "little") + raw + data


@pytest.mark.parametrize(
    "dtype",
    [
        torch.float64,
        torch.float32,
        torch.float16,
        torch.bfloat16,
        torch.int64,
        torch.int32,
        torch.int16,
        torch.int8,
        torch.uint8,
        torch.bool,
    ],
)
def test_safetensors_round_trip_is_bit_exact_for_every_dtype(dtype):
    source = (torch.randn(3, 5) * 100).to(dtype)
    tensors, _ = safetensors_io.load(safetensors_io.save({"t": source}))
    assert tensors["t"].dtype == dtype
    assert torch.equal(tensors["t"], source)


def test_safetensors_round_trip_keeps_empty_scalar_and_numpy_tensors():
    saved = {
        "empty": torch.zeros(0, 4),
        "scalar": torch.tensor(2.5),
        "np": np.arange(6).reshape(2, 3),
    }
    tensors, metadata = safetensors_io.load(safetensors_io.save(saved, metadata={"a": "b"}))
    assert tensors["empty"].shape == (0, 4)
    assert tensors["scalar"].shape == () and tensors["scalar"].item() == 2.5
    np.testing.assert_array_equal(tensors["np"].numpy(), saved["np"])
    assert metadata == {"a": "b"}


def test_safetensors_header_is_padded_to_eight_bytes_and_matches_the_spec_layout():
    data = safetensors_io.save(
        {"a": torch.ones(3, dtype=torch.float32), "b": torch.ones(1, dtype=torch.int8)}
    )
    header_length = int.from_bytes(data[:8], "little")
    header = json.loads(data[8 : 8 + header_length])
    assert header_length % 8 == 0
    assert header == {
        "a": {"dtype": "F32", "shape": [3], "data_offsets": [0, 12]},
        "b": {"dtype": "I8", "shape": [1], "data_offsets": [12, 13]},
    }
    assert len(data) == 8 + header_length + 13


def test_safetensors_file_round_trip(tmp_path):
    path = tmp_path / "w.safetensors"
    safetensors_io.save_file({"w": torch.arange(4.0)}, path)
    assert safetensors_io.load_file(path)[0]["w"].tolist() == [0.0, 1.0, 2.0, 3.0]


GOOD = {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}


@pytest.mark.parametrize(
    ("header", "data", "message"),
    [
        ({"t": {**GOOD, "dtype": "F128"}}, bytes(8), "unknown dtype"),
        ({"t": {**GOOD, "dtype": ["F32"]}}, bytes(8), "unknown dtype"),
        ({"t": {**GOOD, "shape": [-2]}}, bytes(8), "non-negative integers"),
        ({"t": {**GOOD, "shape": [2.0]}}, bytes(8), "non-negative integers"),
        ({"t": {**GOOD, "shape": [True, 2]}}, bytes(8), "non-negative integers"),
        ({"t": {**GOOD, "shape": "2"}}, bytes(8), "non-negative integers"),
        ({"t": {**GOOD, "shape": [3]}}, bytes(8), "need 12 bytes"),
        ({"t": {**GOOD, "dtype": "F64"}}, bytes(8), "need 16 bytes"),
        ({"t": {**GOOD, "data_offsets": [8, 0]}}, bytes(8), "data_offsets must be"),
        ({"t": {**GOOD, "data_offsets": [0]}}, bytes(8), "data_offsets must be"),
        ({"t": {**GOOD, "data_offsets": [-8, 0]}}, bytes(8), "data_offsets must be"),
        ({"t": GOOD}, bytes(4), "truncated"),
        ({"t": GOOD}, bytes(12), "trailing bytes"),
        ({"t": {**GOOD, "data_offsets": [4, 12]}}, bytes(12), "leaves a gap"),
        ({"t": GOOD, "u": {**GOOD, "data_offsets": [4, 12]}}, bytes(12), "overlaps"),
        ({"t": {**GOOD, "extra": 1}}, bytes(8), "exactly the keys"),
        ({"t": [1, 2]}, bytes(8), "exactly the keys"),
        ({"t": GOOD, "__metadata__": {"k": 1}}, bytes(8), "strings to strings"),
    ],
)
def test_safetensors_rejects_a_header_that_lies(header, data, message):
    with pytest.raises(ArchiveError, match=message):
        safetensors_io.load(_with_header(header, data), source="w.safetensors")


def test_safetensors_rejects_an_oversized_header_length_before_reading_it():
    data = (safetensors_io.MAX_HEADER_BYTES + 1).to_bytes(8, "little") + b"{}"
    with pytest.raises(ArchiveError, match="exceeds the limit"):
        safetensors_io.load(data)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b'{"t": 1, "t": 2}', "duplicate key"),
        (b'{"t": NaN}', "NaN is not allowed"),
        (b"\xff\xfe", "not valid JSON"),
        (b"[1, 2]", "expected a JSON object"),
        (b"[" * 100_000, "not valid JSON"),
    ],
)
def test_safetensors_rejects_a_malformed_header(raw, message):
    with pytest.raises(ArchiveError, match=message):
        safetensors_io.load(len(raw).to_bytes(8, "little") + raw)


@pytest.mark.parametrize("length", [0, 5, 8, 20])
def test_safetensors_rejects_truncated_data(length):
    data = safetensors_io.save({"t": torch.ones(4)})
    with pytest.raises(ArchiveError, match="truncated|not valid JSON"):
        safetensors_io.load(data[:length])


def test_safetensors_save_refuses_an_unsupported_dtype():
    with pytest.raises(ValueError, match="complex64"):
        safetensors_io.save({"c": torch.zeros(2, dtype=torch.complex64)})


def test_atomic_write_keeps_the_old_file_when_the_block_raises(tmp_path):
    path = tmp_path / "f.bin"
    path.write_bytes(b"old")
    with pytest.raises(RuntimeError), atomic_write(path) as file:
        file.write(b"partial")
        raise RuntimeError("crash")
    assert path.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["f.bin"]


def test_atomic_write_replaces_the_file_and_keeps_its_permissions(tmp_path):
    path = tmp_path / "f.bin"
    path.write_bytes(b"old")
    os.chmod(path, 0o640)
    with atomic_write(path) as file:
        file.write(b"new")
    assert path.read_bytes() == b"new"
    assert os.stat(path).st_mode & 0o777 == 0o640


def _zip(path, entries, compression=zipfile.ZIP_STORED):
    with zipfile.ZipFile(path, "w", compression) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)


def test_archive_round_trip_is_deterministic(tmp_path):
    entries = {"config.json": b'{"a": 1}', "model.weights.safetensors": b"\x00" * 10}
    write_archive(tmp_path / "a.keras", entries)
    write_archive(tmp_path / "b.keras", entries)
    assert read_archive(tmp_path / "a.keras", required=entries) == entries
    assert (tmp_path / "a.keras").read_bytes() == (tmp_path / "b.keras").read_bytes()


@pytest.mark.parametrize(
    "name",
    ["../config.json", "/etc/passwd", "a/../../b", "C:evil", "dir\\x", "./x", "sub/"],
)
def test_archive_rejects_unsafe_entry_names(tmp_path, name):
    path = tmp_path / "evil.keras"
    _zip(path, {"config.json": b"{}", name: b"x"})
    with pytest.raises(ArchiveError, match="unsafe entry name"):
        read_archive(path, required=["config.json"])


def test_archive_rejects_extra_and_missing_entries(tmp_path):
    path = tmp_path / "a.keras"
    _zip(path, {"config.json": b"{}", "payload.py": b"x"})
    with pytest.raises(ArchiveError, match=r"unexpected entries \['payload.py'\]"):
        read_archive(path, required=["config.json"])
    with pytest.raises(ArchiveError, match=r"missing entries \['metadata.json'\]"):
        read_archive(path, required=["config.json", "metadata.json"], optional=["payload.py"])


def test_archive_rejects_duplicate_entries(tmp_path):
    path = tmp_path / "a.keras"
    with pytest.warns(UserWarning, match="Duplicate name"):
        _zip(path, {"config.json": b"{}"})
        with zipfile.ZipFile(path, "a") as archive:
            archive.writestr("config.json", b"[]")
    with pytest.raises(ArchiveError, match="duplicate entries"):
        read_archive(path, required=["config.json"])


def test_archive_refuses_a_zip_bomb_before_inflating_it(tmp_path):
    path = tmp_path / "bomb.keras"
    _zip(path, {"w.bin": bytes(50 * 1024 * 1024)}, zipfile.ZIP_DEFLATED)
    assert os.path.getsize(path) < 100_000
    with pytest.raises(ArchiveError, match="zip bomb"):
        read_archive(path, required=["w.bin"])


def test_archive_bounds_the_total_size(tmp_path):
    path = tmp_path / "big.keras"
    _zip(path, {"a.bin": bytes(600), "b.bin": bytes(600)})
    with pytest.raises(ArchiveError, match="declare 1200 bytes in all; the limit is 1000"):
        read_archive(path, required=["a.bin", "b.bin"], max_total_bytes=1000)


def test_archive_bounds_each_json_entry(tmp_path):
    path = tmp_path / "big.keras"
    _zip(path, {"config.json": b" " * (MAX_JSON_BYTES + 1)}, zipfile.ZIP_DEFLATED)
    with pytest.raises(ArchiveError, match=f"declares {MAX_JSON_BYTES + 1} bytes; the limit is"):
        read_archive(path, required=["config.json"])


def test_archive_detects_an_entry_that_lies_about_its_size(tmp_path):
    path = tmp_path / "lie.keras"
    _zip(path, {"w.bin": b"A" * 1000}, zipfile.ZIP_DEFLATED)
    data = bytearray(path.read_bytes())
    central = data.rindex(b"PK\x01\x02")
    data[central + 24 : central + 28] = (10).to_bytes(4, "little")  # uncompressed size
    path.write_bytes(bytes(data))
    with pytest.raises(ArchiveError, match="w.bin"):
        read_archive(path, required=["w.bin"])


@pytest.mark.parametrize("keep", [0, 10, 100, -30, -1])
def test_archive_rejects_a_truncated_file(tmp_path, keep):
    path = tmp_path / "t.keras"
    write_archive(path, {"config.json": b'{"x": 1}' * 20})
    path.write_bytes(path.read_bytes()[:keep])
    with pytest.raises(ArchiveError, match="t.keras"):
        read_archive(path, required=["config.json"])


def test_archive_rejects_a_file_that_is_not_a_zip(tmp_path):
    path = tmp_path / "n.keras"
    path.write_bytes(b"\x80\x04K\x01.")
    with pytest.raises(ArchiveError, match="not a readable zip archive"):
        read_archive(path, required=["config.json"])


def test_state_codec_round_trips_optimizer_style_state():
    state = {
        "state": {0: {"step": torch.tensor(3.0), "exp_avg": torch.randn(2, 3)}, 1: {}},
        "param_groups": [{"lr": 0.01, "betas": (0.9, 0.999), "params": [0, 1], "eps": None}],
        "extra": [float("inf"), True, "adam"],
    }
    text, tensors = encode(state)
    restored = decode(text, safetensors_io.load(safetensors_io.save(tensors))[0], source="s")
    assert restored["param_groups"] == state["param_groups"]
    assert restored["extra"] == state["extra"]
    assert torch.equal(restored["state"][0]["exp_avg"], state["state"][0]["exp_avg"])
    assert list(restored["state"]) == [0, 1]


@pytest.mark.parametrize(
    "text",
    [
        '{"__tensor__": "9"}',
        '{"__dict__": [[[1], 2]]}',
        '{"__dict__": [["a", 1], ["a", 2]]}',
        '{"__float__": "1e999"}',
        '{"__pickle__": "gASV"}',
        '{"a": 1, "b": 2}',
        "[" * 40 + "]" * 40,
        "NaN",
    ],
)
def test_state_codec_rejects_state_it_did_not_write(text):
    with pytest.raises(ArchiveError, match="opt.json"):
        decode(text, {}, source="opt.json")


def test_state_codec_rejects_unreferenced_tensors():
    with pytest.raises(ArchiveError, match=r"tensors \['1'\] are not referenced"):
        decode('{"__tensor__": "0"}', {"0": torch.ones(1), "1": torch.ones(1)}, source="s")


def test_files_interoperate_with_the_reference_safetensors_library(tmp_path):
    reference = pytest.importorskip("safetensors.torch")
    tensors = {
        "a": torch.randn(3, 4),
        "b": torch.arange(5, dtype=torch.int64),
        "c": torch.randn(2, 2).to(torch.bfloat16),
        "empty": torch.zeros(0, 3),
        "flag": torch.tensor([True, False]),
    }
    safetensors_io.save_file(tensors, tmp_path / "ours.safetensors", metadata={"k": "v"})
    theirs = reference.load_file(str(tmp_path / "ours.safetensors"))
    reference.save_file(tensors, str(tmp_path / "theirs.safetensors"), metadata={"k": "v"})
    ours, metadata = safetensors_io.load_file(tmp_path / "theirs.safetensors")
    assert metadata == {"k": "v"}
    for name, tensor in tensors.items():
        assert torch.equal(theirs[name], tensor) and torch.equal(ours[name], tensor)


def test_safetensors_saves_broadcast_and_strided_views():
    views = {
        "stride_zero": torch.zeros(()).expand(1),
        "expanded": torch.arange(3.0).expand(2, 3),
        "transposed": torch.arange(6.0).reshape(2, 3).t(),
    }
    tensors, _ = safetensors_io.load(safetensors_io.save(views))
    for name, view in views.items():
        assert torch.equal(tensors[name], view)
