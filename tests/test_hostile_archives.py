"""Hostile `.keras` and weights files: every one gets an ArchiveError and changes nothing."""

import contextlib
import json
import os
import pickle
import zipfile

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_saving_models import make_functional, make_sequential, weights_of

import tritonlayers as keras
from tritonlayers.saving import ArchiveError, safetensors_io

WEIGHTS = "model.weights.safetensors"


@pytest.fixture(scope="module")
def valid_entries(tmp_path_factory):
    """The entries of a valid archive of a compiled, trained Sequential model."""
    model = make_sequential()
    model.compile(optimizer="adam", loss="mse")
    model.fit(np.ones((8, 6), "float32"), np.zeros((8, 3), "float32"), epochs=1, verbose=0)
    path = tmp_path_factory.mktemp("valid") / "valid.keras"
    model.save(path)
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def write_zip(path, entries, compression=zipfile.ZIP_STORED):
    with zipfile.ZipFile(path, "w", compression) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return path


def with_config(entries, edit):
    config = json.loads(entries["config.json"])
    edit(config)
    return {**entries, "config.json": json.dumps(config).encode()}


def first_dense(config):
    """The config of the Sequential model's first Dense layer."""
    return next(
        layer["config"] for layer in config["config"]["layers"] if layer["class_name"] == "Dense"
    )


def load(path, **kwargs):
    return keras.saving.load_model(path, **kwargs)


def test_valid_archive_loads(tmp_path, valid_entries):
    assert type(load(write_zip(tmp_path / "ok.keras", valid_entries))).__name__ == "Sequential"


@pytest.mark.parametrize("name", ["../evil.json", "/abs/config.json", "a/../../x", "C:\\w.bin"])
def test_entry_names_escaping_the_archive_are_refused(tmp_path, valid_entries, name):
    path = write_zip(tmp_path / "evil.keras", {**valid_entries, name: b"{}"})
    with pytest.raises(ArchiveError, match="unsafe entry name"):
        load(path)
    assert not (tmp_path.parent / "evil.json").exists()


def test_zip_bomb_entry_is_refused_before_inflating(tmp_path, valid_entries):
    bomb = {**valid_entries, WEIGHTS: bytes(200 * 1024 * 1024)}
    path = write_zip(tmp_path / "bomb.keras", bomb, zipfile.ZIP_DEFLATED)
    assert os.path.getsize(path) < 1024 * 1024
    with pytest.raises(ArchiveError, match="zip bomb"):
        load(path)


def test_oversized_json_entry_is_refused(tmp_path, valid_entries):
    huge = b"[" + b"0," * (33 * 1024 * 1024) + b"0]"
    path = write_zip(
        tmp_path / "big.keras", {**valid_entries, "metadata.json": huge}, zipfile.ZIP_DEFLATED
    )
    with pytest.raises(ArchiveError, match="metadata.json"):
        load(path)


@pytest.mark.parametrize("missing", ["config.json", "metadata.json", WEIGHTS])
def test_missing_entry_is_refused(tmp_path, valid_entries, missing):
    entries = {k: v for k, v in valid_entries.items() if k != missing}
    with pytest.raises(ArchiveError, match=rf"missing entries \['{missing}'\]"):
        load(write_zip(tmp_path / "m.keras", entries))


def test_half_of_the_optimizer_state_is_refused(tmp_path, valid_entries):
    entries = {k: v for k, v in valid_entries.items() if k != "optimizer.safetensors"}
    with pytest.raises(ArchiveError, match="optimizer.json is present but optimizer.safetensors"):
        load(write_zip(tmp_path / "m.keras", entries))


def test_extra_entry_is_refused(tmp_path, valid_entries):
    path = write_zip(tmp_path / "x.keras", {**valid_entries, "payload.pkl": pickle.dumps(1)})
    with pytest.raises(ArchiveError, match=r"unexpected entries \['payload.pkl'\]"):
        load(path)


@pytest.mark.parametrize(
    ("entry", "data", "message"),
    [
        ("config.json", b'{"class_name": "Sequential"', "config.json: not valid JSON"),
        ("config.json", b"[1, 2]", "expected a JSON object"),
        ("config.json", b'{"class_name": "A", "class_name": "B", "config": {}}', "duplicate"),
        ("metadata.json", b"\xff\xfe", "metadata.json: not valid JSON"),
        ("metadata.json", b'{"tritonlayers_version": 1, "date_saved": "x"}', "must be a string"),
        ("optimizer.json", b'{"__pickle__": "gASV"}', "unexpected state value"),
    ],
)
def test_malformed_json_is_refused(tmp_path, valid_entries, entry, data, message):
    with pytest.raises(ArchiveError, match=message):
        load(write_zip(tmp_path / "j.keras", {**valid_entries, entry: data}))


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda c: c.update(class_name=3), "'class_name' must be str"),
        (lambda c: c.update(config=[1]), "'config' must be dict"),
        (lambda c: c.update(build_config="big"), "'build_config' must be dict or null"),
        (lambda c: c.update(payload="x"), "unexpected config fields"),
        (lambda c: c.update(class_name="NoSuchModel"), "NoSuchModel"),
        (lambda c: first_dense(c).update(units="eight"), "could not rebuild"),
        (lambda c: first_dense(c).update(units=-4), "could not rebuild"),
        (lambda c: c["config"].update(layers={"a": 1}), "could not rebuild"),
        (
            lambda c: first_dense(c).update(activation={"class_name": 5, "config": {}}),
            "could not rebuild",
        ),
    ],
)
def test_wrong_types_in_the_config_are_refused(tmp_path, valid_entries, edit, message):
    with pytest.raises(ArchiveError, match=message):
        load(write_zip(tmp_path / "c.keras", with_config(valid_entries, edit)))


def _lying_weights(valid_bytes, lie):
    length = int.from_bytes(valid_bytes[:8], "little")
    header = json.loads(valid_bytes[8 : 8 + length])
    lie(header)
    raw = json.dumps(header).encode()
    return len(raw).to_bytes(8, "little") + raw + valid_bytes[8 + length :]


@pytest.mark.parametrize(
    ("lie", "message"),
    [
        (lambda h: h["dense/kernel"].update(shape=[8, 6]), "the model expects shape"),
        (lambda h: h["dense/kernel"].update(shape=[6, 9]), "need 216 bytes"),
        (lambda h: h["dense/kernel"].update(dtype="F64"), "need 384 bytes"),
        (lambda h: h["dense/kernel"].update(dtype="I32"), "expects dtype float32"),
        (lambda h: h["dense/kernel"].update(dtype="PICKLE"), "unknown dtype"),
        (lambda h: h["dense/bias"].update(data_offsets=[0, 32]), "overlaps|need"),
        (lambda h: h.update(__metadata__={"a": ["b"]}), "strings to strings"),
    ],
)
def test_safetensors_header_that_lies_is_refused(tmp_path, valid_entries, lie, message):
    entries = {**valid_entries, WEIGHTS: _lying_weights(valid_entries[WEIGHTS], lie)}
    with pytest.raises(ArchiveError, match=message):
        load(write_zip(tmp_path / "w.keras", entries))


def test_weights_that_do_not_fit_the_architecture_are_refused(tmp_path, valid_entries):
    last_dense = lambda c: c["config"]["layers"][-1]["config"]  # noqa: E731
    entries = with_config(valid_entries, lambda c: last_dense(c).update(units=5))
    with pytest.raises(ArchiveError, match=r"dense_1/kernel: the model expects shape \(8, 5\)"):
        load(write_zip(tmp_path / "w.keras", entries))


@pytest.mark.parametrize("fraction", [0.0, 0.1, 0.5, 0.9, 0.999])
def test_truncated_archive_is_refused(tmp_path, valid_entries, fraction):
    data = write_zip(tmp_path / "full.keras", valid_entries).read_bytes()
    path = tmp_path / "cut.keras"
    path.write_bytes(data[: int(len(data) * fraction)])
    with pytest.raises(ArchiveError, match="cut.keras"):
        load(path)


def test_truncated_weights_file_is_refused_and_the_model_is_untouched(tmp_path):
    model = make_functional()
    model.save_weights(tmp_path / "w.weights.safetensors")
    data = (tmp_path / "w.weights.safetensors").read_bytes()
    (tmp_path / "w.weights.safetensors").write_bytes(data[:-7])
    target = make_functional()
    before = weights_of(target)
    with pytest.raises(ArchiveError, match="truncated"):
        target.load_weights(tmp_path / "w.weights.safetensors")
    for old, new in zip(before, weights_of(target)):
        np.testing.assert_array_equal(new, old)


def test_loading_never_unpickles(tmp_path, valid_entries, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("pickle was used while loading")

    for name in ("load", "loads", "Unpickler"):
        monkeypatch.setattr(pickle, name, refuse)
    monkeypatch.setattr("torch.load", refuse)
    load(write_zip(tmp_path / "ok.keras", valid_entries))
    payload = {**valid_entries, WEIGHTS: pickle.dumps({"w": 1}, protocol=2)}
    with pytest.raises(ArchiveError, match=WEIGHTS):
        load(write_zip(tmp_path / "p.keras", payload))


LAMBDA_CODE_CONFIG = {
    "module": "tritonlayers.layers",
    "class_name": "Lambda",
    "registered_name": None,
    "config": {
        "name": "evil",
        "trainable": True,
        "dtype": "float32",
        "arguments": {},
        "function": {"class_name": "__lambda__", "config": {"value": "AAAA"}},
    },
}


def test_lambda_layer_code_is_refused_in_safe_mode(tmp_path, valid_entries):
    model = keras.Sequential([keras.Input((2,)), keras.layers.Lambda(lambda x: x + 1)])
    model.save(tmp_path / "lambda.keras")
    with pytest.raises(ArchiveError, match="safe_mode=False"):
        load(tmp_path / "lambda.keras")
    restored = load(tmp_path / "lambda.keras", safe_mode=False)
    np.testing.assert_array_equal(
        restored.predict(np.zeros((1, 2), "float32"), verbose=0), np.ones((1, 2), "float32")
    )


@pytest.mark.parametrize(
    "payload",
    [
        # CVE-2025-1550: config.json names an arbitrary module's function.
        lambda marker: {
            "module": "os",
            "class_name": "system",
            "registered_name": None,
            "config": {"command": f"touch {marker}"},
        },
        lambda marker: {
            "module": "builtins",
            "class_name": "exec",
            "registered_name": None,
            "config": {"source": f"open({str(marker)!r}, 'w')"},
        },
        lambda marker: {
            "module": "subprocess",
            "class_name": "Popen",
            "registered_name": None,
            "config": {"args": ["touch", str(marker)]},
        },
        # keras.utils.get_file-style gadget: a non-modeling function of the package itself.
        lambda marker: {
            "module": "tritonlayers.saving",
            "class_name": "save_model",
            "registered_name": None,
            "config": {"filepath": str(marker)},
        },
        lambda marker: {
            "module": "tritonlayers.saving.atomic",
            "class_name": "atomic_write",
            "registered_name": None,
            "config": {"path": str(marker)},
        },
    ],
)
def test_config_naming_an_arbitrary_callable_is_refused(tmp_path, valid_entries, payload):
    marker = tmp_path / "pwned"
    entries = {**valid_entries, "config.json": json.dumps(payload(marker)).encode()}
    with pytest.raises(ArchiveError):
        load(write_zip(tmp_path / "cve.keras", entries), safe_mode=True)
    with pytest.raises(ArchiveError):
        load(tmp_path / "cve.keras", safe_mode=False)
    assert not marker.exists()


@pytest.mark.parametrize(
    "activation",
    [
        # CVE-2025-1550: a nested function reference pointing outside the package.
        {"module": "os", "class_name": "function", "config": "system", "registered_name": None},
        {"module": "builtins", "class_name": "function", "config": "eval", "registered_name": None},
        {
            "module": "tritonlayers.saving",
            "class_name": "function",
            "config": "load_model",
            "registered_name": None,
        },
        {"module": None, "class_name": "function", "config": "get", "registered_name": None},
        # CVE-2024-3660: a Lambda's bytecode hidden as a nested object.
        {"class_name": "__lambda__", "config": {"value": "AAAA"}},
        LAMBDA_CODE_CONFIG,
    ],
)
def test_nested_reference_to_code_is_refused_in_both_modes_or_in_safe_mode(
    tmp_path, valid_entries, activation
):
    entries = with_config(valid_entries, lambda c: first_dense(c).update(activation=activation))
    with pytest.raises(ArchiveError, match="could not rebuild"):
        load(write_zip(tmp_path / "nested.keras", entries))


def test_cve_2024_3660_lambda_payload_does_not_run(tmp_path):
    marker = tmp_path / "ran"

    def payload(x):
        open(marker, "w").close()  # noqa: SIM115 - the side effect is the point
        return x

    model = keras.Sequential([keras.Input((2,)), keras.layers.Lambda(lambda x: payload(x))])
    model.save(tmp_path / "lambda.keras")
    marker.unlink(missing_ok=True)  # building the model ran the function once
    with pytest.raises(ArchiveError, match="safe_mode"):
        load(tmp_path / "lambda.keras")
    assert not marker.exists()


# Fuzzing: mutated valid archives load or raise ArchiveError, nothing else, and a model that
# load_weights rejects keeps its weights.


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_fuzzed_archive_bytes_give_only_archive_errors(tmp_path_factory, valid_entries, data):
    raw = bytearray(write_zip(tmp_path_factory.mktemp("f") / "a.keras", valid_entries).read_bytes())
    for _ in range(data.draw(st.integers(1, 4))):
        position = data.draw(st.integers(0, len(raw) - 1))
        raw[position] = data.draw(st.integers(0, 255))
    if data.draw(st.booleans()):
        raw = raw[: data.draw(st.integers(0, len(raw)))]
    path = tmp_path_factory.mktemp("f") / "fuzzed.keras"
    path.write_bytes(bytes(raw))
    with contextlib.suppress(ArchiveError):
        load(path)


json_leaves = st.one_of(
    st.none(),
    st.booleans(),
    st.one_of(st.integers(-3, 40), st.integers(2**20, 2**40)),
    st.floats(-2, 2),
    st.text(max_size=6),
    st.lists(st.integers(-1, 8), max_size=3),
    st.dictionaries(st.text(max_size=4), st.integers(0, 3), max_size=2),
)


def _paths(node, prefix=()):
    yield prefix
    children = (
        node.items()
        if isinstance(node, dict)
        else enumerate(node)
        if isinstance(node, list)
        else ()
    )
    for key, child in children:
        yield from _paths(child, (*prefix, key))


def _replace(node, path, value):
    if not path:
        return value
    node[path[0]] = _replace(node[path[0]], path[1:], value)
    return node


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_fuzzed_config_values_give_only_archive_errors(tmp_path_factory, valid_entries, data):
    entry = data.draw(st.sampled_from(["config.json", "metadata.json", "optimizer.json"]))
    tree = json.loads(valid_entries[entry])
    path = data.draw(st.sampled_from(list(_paths(tree))))
    mutated = _replace(tree, path, data.draw(json_leaves))
    entries = {**valid_entries, entry: json.dumps(mutated).encode()}
    with contextlib.suppress(ArchiveError):
        load(write_zip(tmp_path_factory.mktemp("f") / "c.keras", entries))


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_fuzzed_weights_file_leaves_a_rejecting_model_untouched(tmp_path_factory, data):
    folder = tmp_path_factory.mktemp("w")
    make_sequential().save_weights(folder / "w.weights.safetensors")
    raw = bytearray((folder / "w.weights.safetensors").read_bytes())
    length = int.from_bytes(raw[:8], "little")
    for _ in range(data.draw(st.integers(1, 3))):
        position = data.draw(st.integers(0, min(len(raw), length + 8 + 16) - 1))
        raw[position] = data.draw(st.integers(0, 255))
    (folder / "w.weights.safetensors").write_bytes(bytes(raw))
    target = make_sequential()
    before = weights_of(target)
    try:
        target.load_weights(folder / "w.weights.safetensors")
    except ArchiveError:
        for old, new in zip(before, weights_of(target)):
            np.testing.assert_array_equal(new, old)


def test_safetensors_writer_output_is_what_the_reader_validates(valid_entries):
    tensors, _ = safetensors_io.load(valid_entries[WEIGHTS])
    assert {"dense/kernel", "dense/bias", "dense_1/kernel", "dense_1/bias"} <= set(tensors)


def test_config_asking_for_more_memory_than_its_weights_is_refused_before_allocating(
    tmp_path, valid_entries
):
    entries = with_config(valid_entries, lambda c: first_dense(c).update(units=2**16))
    with pytest.raises(ArchiveError, match=r"shape \(6, 65536\) needs 1572864 bytes; only"):
        load(write_zip(tmp_path / "huge.keras", entries))
