"""StringLookup, IntegerLookup, Hashing, TextVectorization and the string hashes.

Expected numbers come from the examples in Keras 3.15's docstrings (keras/src/layers/
preprocessing/*.py) and TensorFlow's `to_hash_bucket_fast` docs: Keras's lookup layers need
TensorFlow, which is not installed here, so they cannot be run side by side.
"""

import math

import numpy as np
import pytest
import torch

import tritonlayers as keras
from tritonlayers.layers._string_hashing import fingerprint64, hash_buckets, siphash64

VOCAB = ["a", "b", "c", "d"]
INT_VOCAB = [12, 36, 1138, 42]


# ----------------------------------------------------------------------------- hashes


def test_siphash_matches_the_reference_vectors():
    # SipHash paper, appendix A: key 00..0f; messages 00..(n-1).
    key = [int.from_bytes(bytes(range(8)), "little"), int.from_bytes(bytes(range(8, 16)), "little")]
    assert siphash64(key, b"") == 0x726FDB47DD0E0E31
    assert siphash64(key, bytes(range(15))) == 0xA129CA6149BE45E5


def test_fingerprint64_of_empty_string_is_k2():
    assert fingerprint64(b"") == 0x9AE16A3B2F90404F


def test_fast_hash_buckets_match_tensorflow_docs():
    # tf.strings.to_hash_bucket_fast(["Hello", "TensorFlow", "2.x"], 3) -> [0, 2, 2]
    assert hash_buckets(["Hello", "TensorFlow", "2.x"], 3).tolist() == [0, 2, 2]


@pytest.mark.parametrize("length", [17, 40, 64, 65, 200])
def test_fingerprint64_long_inputs_are_deterministic_and_length_sensitive(length):
    data = bytes(range(256))[:length]
    assert fingerprint64(data) == fingerprint64(bytes(data))
    assert fingerprint64(data) != fingerprint64(data[:-1])


# ------------------------------------------------------------------------ StringLookup


def test_string_lookup_known_vocabulary():
    layer = keras.layers.StringLookup(vocabulary=VOCAB)
    out = layer([["a", "c", "d"], ["d", "z", "b"]])
    assert out.dtype == torch.int64 and out.device == keras.config.device()
    assert out.tolist() == [[1, 3, 4], [4, 0, 2]]


def test_string_lookup_adapt_orders_by_count_then_token_descending():
    layer = keras.layers.StringLookup()
    data = [["a", "c", "d"], ["d", "z", "b"]]
    layer.adapt(data)
    assert layer.get_vocabulary() == ["[UNK]", "d", "z", "c", "b", "a"]
    assert layer(data).tolist() == [[5, 3, 1], [1, 2, 4]]
    assert layer.vocabulary_size() == 6


def test_string_lookup_hashes_oov_into_several_indices():
    layer = keras.layers.StringLookup(vocabulary=VOCAB, num_oov_indices=2)
    assert layer([["a", "c", "d"], ["m", "z", "b"]]).tolist() == [[2, 4, 5], [0, 1, 3]]


def test_string_lookup_mask_token_takes_index_zero():
    layer = keras.layers.StringLookup(vocabulary=VOCAB, mask_token="")
    assert layer.get_vocabulary() == ["", "[UNK]", "a", "b", "c", "d"]
    assert layer([["a", ""], ["z", "d"]]).tolist() == [[2, 0], [1, 5]]


def test_string_lookup_one_hot_multi_hot_count():
    one_hot = keras.layers.StringLookup(vocabulary=VOCAB, output_mode="one_hot")
    np.testing.assert_array_equal(
        one_hot(["a", "b", "c", "d", "z"]).numpy(), np.eye(5)[[1, 2, 3, 4, 0]]
    )
    data = [["a", "c", "d", "d"], ["d", "z", "b", "z"]]
    multi = keras.layers.StringLookup(vocabulary=VOCAB, output_mode="multi_hot")
    assert multi(data).tolist() == [[0, 1, 0, 1, 1], [1, 0, 1, 0, 1]]
    count = keras.layers.StringLookup(vocabulary=VOCAB, output_mode="count")
    assert count(data).tolist() == [[0, 1, 0, 1, 2], [2, 0, 1, 0, 1]]


def test_string_lookup_multi_hot_drops_the_mask_token():
    layer = keras.layers.StringLookup(vocabulary=VOCAB, mask_token="", output_mode="count")
    assert layer([["a", "", ""]]).tolist() == [[0, 1, 0, 0, 0]]


def test_string_lookup_tf_idf_with_given_weights():
    data = [["a", "c", "d", "d"], ["d", "z", "b", "z"]]
    layer = keras.layers.StringLookup(output_mode="tf_idf")
    layer.set_vocabulary(VOCAB, idf_weights=[0.25, 0.75, 0.6, 0.4])
    expected = [[0, 0.25, 0, 0.6, 0.8], [1.0, 0, 0.75, 0, 0.4]]  # OOV weight: the mean
    np.testing.assert_allclose(layer(data).numpy(), expected, rtol=1e-6)
    full = keras.layers.StringLookup(output_mode="tf_idf")
    full.set_vocabulary(["[UNK]"] + VOCAB, idf_weights=[0.9, 0.25, 0.75, 0.6, 0.4])
    np.testing.assert_allclose(full(data).numpy()[1], [1.8, 0, 0.75, 0, 0.4], rtol=1e-6)


def test_string_lookup_adapted_tf_idf_weights():
    layer = keras.layers.StringLookup(output_mode="tf_idf")
    layer.adapt([["a", "a", "b"], ["b", "c", "c"]])  # 2 documents
    idf = {"a": math.log(1 + 2 / 2), "b": math.log(1 + 2 / 3), "c": math.log(1 + 2 / 2)}
    assert layer.get_vocabulary() == ["[UNK]", "c", "b", "a"]
    out = layer([["a", "b", "b"]]).numpy()
    np.testing.assert_allclose(out[0, 1:], [0.0, 2 * idf["b"], idf["a"]], rtol=1e-6)


def test_string_lookup_invert_gives_strings():
    layer = keras.layers.StringLookup(vocabulary=VOCAB, invert=True)
    out = layer([[1, 3, 4], [4, 0, 2]])
    assert out.tolist() == [["a", "c", "d"], ["d", "[UNK]", "b"]]


def test_string_lookup_max_tokens_truncates_and_pads():
    layer = keras.layers.StringLookup(max_tokens=3, output_mode="multi_hot", pad_to_max_tokens=True)
    layer.adapt(["x", "x", "y", "z", "z", "z"])
    assert layer.get_vocabulary() == ["[UNK]", "z", "x"]
    padded = keras.layers.StringLookup(
        vocabulary=["p"], max_tokens=4, pad_to_max_tokens=True, output_mode="count"
    )
    assert padded([["p", "q"]]).tolist() == [[1, 1, 0, 0]]
    assert padded.compute_output_shape((None, 2)) == (None, 4)


def test_string_lookup_config_round_trip_keeps_adapted_vocabulary():
    layer = keras.layers.StringLookup(num_oov_indices=2, mask_token="")
    layer.adapt([["a", "b", "b"], ["c", "", "b"]])
    config = layer.get_config()
    restored = keras.layers.StringLookup.from_config(config)
    assert restored.get_vocabulary() == layer.get_vocabulary()
    data = [["a", "q", ""], ["b", "c", "r"]]
    assert torch.equal(restored(data), layer(data))


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"max_tokens": 1}, "max_tokens"),
        ({"num_oov_indices": -1}, "num_oov_indices"),
        ({"output_mode": "bad"}, "output_mode"),
        ({"invert": True, "output_mode": "count"}, "invert"),
        ({"vocabulary": ["a", "a"]}, "repeated"),
        ({"pad_to_max_tokens": True}, "max_tokens"),
        ({"vocabulary": ["a"], "output_mode": "tf_idf"}, "idf_weights"),
    ],
)
def test_string_lookup_bad_arguments_name_the_layer(kwargs, message):
    with pytest.raises(ValueError, match=f"StringLookup.*{message}|{message}.*StringLookup"):
        keras.layers.StringLookup(**kwargs)


def test_string_lookup_rejects_numbers_and_oov_without_oov_indices():
    with pytest.raises(ValueError, match="StringLookup: expected string"):
        keras.layers.StringLookup(vocabulary=VOCAB)(np.array([1.0, 2.0]))
    with pytest.raises(ValueError, match="num_oov_indices=0"):
        keras.layers.StringLookup(vocabulary=VOCAB, num_oov_indices=0)(["z"])


def test_lookup_reads_a_vocabulary_file_but_configs_may_not_name_one(tmp_path):
    path = tmp_path / "vocab.txt"
    path.write_text("a\nb\n", encoding="utf-8")
    assert keras.layers.StringLookup(vocabulary=str(path))(["b", "q"]).tolist() == [2, 0]
    config = keras.layers.StringLookup().get_config() | {"vocabulary": str(path)}
    with pytest.raises(ValueError, match="StringLookup: requested the loading of a vocabulary"):
        keras.layers.StringLookup.from_config(config)
    with pytest.raises(ValueError, match="TextVectorization: requested the loading"):
        keras.layers.TextVectorization.from_config(
            keras.layers.TextVectorization().get_config() | {"vocabulary": str(path)}
        )


def test_lookup_adapt_after_static_vocabulary_is_an_error():
    with pytest.raises(ValueError, match="Cannot adapt"):
        keras.layers.StringLookup(vocabulary=VOCAB).adapt(["a"])


# ----------------------------------------------------------------------- IntegerLookup


def test_integer_lookup_known_vocabulary_with_tensor_input():
    layer = keras.layers.IntegerLookup(vocabulary=INT_VOCAB)
    out = layer(torch.tensor([[12, 1138, 42], [42, 1000, 36]]))
    assert out.tolist() == [[1, 3, 4], [4, 0, 2]]


def test_integer_lookup_adapt():
    layer = keras.layers.IntegerLookup()
    data = np.array([[12, 1138, 42], [42, 1000, 36]])
    layer.adapt(data)
    assert layer.get_vocabulary() == [-1, 42, 1138, 1000, 36, 12]
    assert layer(data).tolist() == [[5, 2, 1], [1, 3, 4]]


def test_integer_lookup_oov_floormod_and_farmhash():
    layer = keras.layers.IntegerLookup(vocabulary=INT_VOCAB, num_oov_indices=2)
    assert layer(np.array([[12, 1138, 42], [37, 1000, 36]])).tolist() == [[2, 4, 5], [1, 0, 3]]
    oov = np.array([100, 300, 700, 1100, 1700, 2000])
    floormod = keras.layers.IntegerLookup(vocabulary=[10, 20, 30], num_oov_indices=4)
    farmhash = keras.layers.IntegerLookup(
        vocabulary=[10, 20, 30], num_oov_indices=4, oov_method="farmhash"
    )
    assert floormod(oov).tolist() == [0, 0, 0, 0, 0, 0]
    assert farmhash(oov).tolist() == [3, 3, 2, 2, 0, 1]


def test_integer_lookup_invert_and_one_hot():
    inverse = keras.layers.IntegerLookup(vocabulary=INT_VOCAB, invert=True)
    assert inverse(np.array([[1, 3, 4], [4, 0, 2]])).tolist() == [[12, 1138, 42], [42, -1, 36]]
    one_hot = keras.layers.IntegerLookup(vocabulary=INT_VOCAB, output_mode="one_hot")
    out = one_hot(np.array([12, 36, 1138, 42, 7]))
    np.testing.assert_array_equal(out.numpy(), np.eye(5)[[1, 2, 3, 4, 0]])
    assert one_hot.compute_output_shape((5,)) == (5, 5)


def test_integer_lookup_config_round_trip():
    layer = keras.layers.IntegerLookup(vocabulary=INT_VOCAB, mask_token=0, output_mode="int")
    config = layer.get_config()
    assert config["vocabulary"] == [0, -1] + INT_VOCAB and config["vocabulary_dtype"] == "int64"
    restored = keras.layers.IntegerLookup.from_config(config)
    data = np.array([[0, 12, 5]])
    assert restored(data).tolist() == layer(data).tolist() == [[0, 2, 1]]


def test_integer_lookup_bad_arguments():
    with pytest.raises(ValueError, match="IntegerLookup.*salt"):
        keras.layers.IntegerLookup(salt=3)
    with pytest.raises(ValueError, match="IntegerLookup.*vocabulary_dtype"):
        keras.layers.IntegerLookup(vocabulary_dtype="int32")
    with pytest.raises(ValueError, match="IntegerLookup: expected integer"):
        keras.layers.IntegerLookup(vocabulary=INT_VOCAB)(np.array([1.5]))


def test_adapted_integer_lookup_inside_a_saved_model(tmp_path):
    lookup = keras.layers.IntegerLookup(output_mode="tf_idf")
    lookup.adapt(np.array([[12, 7, 42], [42, 42, 5]]))
    model = keras.Sequential([lookup, keras.layers.Dense(2)])
    x = np.array([[12, 7, 42], [3, 5, 5]])
    before = model(x)
    model.save(tmp_path / "m.keras")
    restored = keras.saving.load_model(tmp_path / "m.keras")
    assert restored.layers[0].get_vocabulary() == lookup.get_vocabulary()
    torch.testing.assert_close(restored(x), before, rtol=0, atol=0)


# ----------------------------------------------------------------------------- Hashing


def test_hashing_farmhash_bins_match_keras():
    inputs = [["A"], ["B"], ["C"], ["D"], ["E"]]
    assert keras.layers.Hashing(num_bins=3)(inputs).tolist() == [[1], [0], [1], [1], [2]]


def test_hashing_mask_value_takes_bin_zero():
    layer = keras.layers.Hashing(num_bins=3, mask_value="")
    assert layer([["A"], ["B"], [""], ["C"], ["D"]]).tolist() == [[1], [1], [0], [2], [2]]


def test_hashing_salted_siphash_bins_match_keras():
    inputs = [["A"], ["B"], ["C"], ["D"], ["E"]]
    pair = keras.layers.Hashing(num_bins=3, salt=[133, 137])
    assert pair(inputs).tolist() == [[1], [2], [1], [0], [2]]
    single = keras.layers.Hashing(num_bins=3, salt=133)
    assert single(inputs).tolist() == [[0], [0], [2], [1], [0]]


def test_hashing_integers_hash_as_decimal_text():
    ints = keras.layers.Hashing(num_bins=7)(torch.tensor([[3, 150]]))
    texts = keras.layers.Hashing(num_bins=7)([["3", "150"]])
    assert ints.tolist() == texts.tolist()


def test_hashing_multi_hot_and_output_shape():
    layer = keras.layers.Hashing(num_bins=3, output_mode="multi_hot")
    assert layer([["A", "B", "E"]]).tolist() == [[1.0, 1.0, 1.0]]
    assert layer.compute_output_shape((None, 3)) == (None, 3)


def test_hashing_config_round_trip_and_bad_arguments():
    layer = keras.layers.Hashing(num_bins=5, salt=7, mask_value="-")
    restored = keras.layers.Hashing.from_config(layer.get_config())
    assert restored.salt == [7, 7]
    assert torch.equal(restored([["x", "-"]]), layer([["x", "-"]]))
    with pytest.raises(ValueError, match="Hashing.*num_bins"):
        keras.layers.Hashing(num_bins=0)
    with pytest.raises(ValueError, match="Hashing.*salt"):
        keras.layers.Hashing(num_bins=2, salt="s")


# -------------------------------------------------------------------- TextVectorization


def test_text_vectorization_adapt_and_pad_to_sequence_length():
    layer = keras.layers.TextVectorization(max_tokens=5000, output_sequence_length=4)
    layer.adapt(["foo bar", "bar baz", "baz bada boom"])
    assert layer([["foo qux bar"], ["qux baz"]]).tolist() == [[4, 1, 3, 0], [1, 2, 0, 0]]


def test_text_vectorization_vocabulary_argument_adds_padding_and_oov():
    layer = keras.layers.TextVectorization(vocabulary=["earth", "wind", "and", "fire"])
    assert layer.get_vocabulary() == ["", "[UNK]", "earth", "wind", "and", "fire"]
    assert layer(["Wind, and FIRE!", "earth"]).tolist() == [[3, 4, 5], [2, 0, 0]]


def test_text_vectorization_standardize_lowers_ascii_only_and_strips_punctuation():
    # tf.strings.lower without an encoding leaves non-ASCII letters as they are.
    layer = keras.layers.TextVectorization(split=None, vocabulary=["hÉllo", "École"])
    assert layer(["HÉllo!?", "ÉCOLE", "héllo"]).tolist() == [[2], [3], [1]]


def test_text_vectorization_ngrams_and_character_split():
    layer = keras.layers.TextVectorization(ngrams=2, standardize=None)
    layer.adapt(["a b c"])
    assert sorted(layer.get_vocabulary(False)) == ["a", "a b", "b", "b c", "c"]
    chars = keras.layers.TextVectorization(split="character", vocabulary=["a", "b"])
    assert chars(["abz"]).tolist() == [[2, 3, 1]]


def test_text_vectorization_tf_idf_matches_formula():
    layer = keras.layers.TextVectorization(output_mode="tf_idf")
    layer.adapt(["the cat", "the dog", "a cat"])
    vocab = layer.get_vocabulary()
    out = layer(["cat cat zebra"]).numpy()[0]
    idf_cat = math.log(1 + 3 / (1 + 2))
    idfs = [math.log(1 + 3 / (1 + c)) for c in (2, 2, 1, 1)]  # the, cat, dog, a
    assert out[vocab.index("cat")] == pytest.approx(2 * idf_cat, rel=1e-6)
    assert out[0] == pytest.approx(np.mean(np.float32(idfs)), rel=1e-6)  # one OOV: mean idf


def test_text_vectorization_multi_hot_shape_and_config_round_trip():
    layer = keras.layers.TextVectorization(
        max_tokens=6, output_mode="multi_hot", pad_to_max_tokens=True
    )
    layer.adapt(["x y", "y z"])
    out = layer(["y y q"])
    assert out.tolist() == [[1, 1, 0, 0, 0, 0]]
    assert layer.compute_output_shape((None,)) == (None, 6)
    restored = keras.layers.TextVectorization.from_config(layer.get_config())
    assert restored.get_vocabulary() == layer.get_vocabulary()
    assert torch.equal(restored(["z x q"]), layer(["z x q"]))


def test_text_vectorization_registered_callable_standardize_round_trips():
    @keras.saving.register_keras_serializable(package="text_test")
    def upper(texts):
        return np.char.upper(texts)

    layer = keras.layers.TextVectorization(standardize=upper, vocabulary=["A", "B"])
    assert layer(["a b c"]).tolist() == [[2, 3, 1]]
    restored = keras.layers.TextVectorization.from_config(layer.get_config())
    assert restored(["b a"]).tolist() == [[3, 2]]


def test_text_vectorization_count_of_empty_string_is_zero():
    layer = keras.layers.TextVectorization(output_mode="count")
    layer.adapt(["x y", "y"])
    assert layer.get_vocabulary() == ["[UNK]", "y", "x"]
    assert layer(["", "y y"]).tolist() == [[0, 0, 0], [0, 2, 0]]


def test_lookup_adapt_on_iterable_of_batches_counts_documents_per_batch_row():
    layer = keras.layers.StringLookup(output_mode="tf_idf")
    layer.adapt(iter([np.array(["a", "b"]), np.array(["b"])]))  # two 1-D batches: 2 documents
    assert layer.get_vocabulary() == ["[UNK]", "b", "a"]
    idf = np.float32([math.log(1 + 2 / 3), math.log(1 + 2 / 2)])
    np.testing.assert_allclose(layer._idf_weights, [idf.mean(), *idf], rtol=1e-6)


def test_text_vectorization_bad_arguments():
    with pytest.raises(ValueError, match="TextVectorization.*standardize"):
        keras.layers.TextVectorization(standardize="upper")
    with pytest.raises(ValueError, match="TextVectorization.*output_sequence_length"):
        keras.layers.TextVectorization(output_mode="count", output_sequence_length=3)
    with pytest.raises(ValueError, match="TextVectorization.*ngrams"):
        keras.layers.TextVectorization(ngrams="2")
    with pytest.raises(ValueError, match="TextVectorization.*rank"):
        keras.layers.TextVectorization(vocabulary=["a"])([["a", "b"]])


def test_text_vectorization_feeds_a_trainable_classifier():
    texts = [
        "good great fine",
        "great good",
        "bad awful",
        "awful bad poor",
        "good fine",
        "poor bad",
    ]
    labels = np.array([[1.0], [1.0], [0.0], [0.0], [1.0], [0.0]], dtype="float32")
    vectorize = keras.layers.TextVectorization(max_tokens=20, output_sequence_length=4)
    vectorize.adapt(texts)
    x = vectorize(texts)  # vectorized before fit, as with `dataset.map`
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.layers.Embedding(vectorize.vocabulary_size(), 8),
            keras.layers.GlobalAveragePooling1D(),
            keras.layers.Dense(1, activation="sigmoid"),
        ]
    )
    model.compile(optimizer=keras.optimizers.Adam(0.05), loss="binary_crossentropy")
    history = model.fit(x, labels, epochs=40, batch_size=6, verbose=0)
    assert history.history["loss"][-1] < 0.5 * history.history["loss"][0]
    predictions = model.predict(vectorize(["fine great", "awful poor"]), verbose=0)
    assert predictions[0, 0] > 0.5 > predictions[1, 0]
