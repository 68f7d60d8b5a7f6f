"""What fit, evaluate and predict accept: arrays, structures, Datasets, DataLoaders, generators."""

import numpy as np
import pytest
import torch

import tritonlayers as keras
from tritonlayers.models.data_adapters import (
    ArrayDataAdapter,
    class_weight_to_sample_weight,
    get_data_adapter,
    train_validation_split,
    unpack_x_y_sample_weight,
)


def _rows(x):
    return x[:, 0].tolist()


def test_unshuffled_arrays_come_in_order_with_a_partial_last_batch():
    x = np.arange(10, dtype="float32")[:, None]
    batches = list(get_data_adapter(x, x * 2, batch_size=4, shuffle=False).epoch())
    assert [_rows(bx) for bx, _, _ in batches] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert all(torch.equal(by, bx * 2) for bx, by, _ in batches)


def test_shuffled_epoch_is_a_permutation_that_keeps_x_and_y_aligned():
    x = np.arange(50, dtype="float32")[:, None]
    adapter = get_data_adapter(x, x + 100, batch_size=8, shuffle=True)
    seen = []
    for bx, by, _ in adapter.epoch():
        assert torch.equal(by, bx + 100)
        seen += _rows(bx)
    assert sorted(seen) == list(range(50))
    assert seen != list(range(50))


def test_array_data_lives_on_the_configured_device_once():
    x = np.ones((6, 2))
    adapter = ArrayDataAdapter(x, batch_size=4, device="cpu")
    bx, _, _ = next(adapter.epoch())
    assert bx.device.type == "cpu"
    assert bx.dtype == torch.float32


def test_float64_numpy_becomes_float32_and_ints_stay_int64():
    x, y = np.ones((4, 2), dtype="float64"), np.arange(4)
    bx, by, _ = next(get_data_adapter(x, y, batch_size=4).epoch())
    assert (bx.dtype, by.dtype) == (torch.float32, torch.int64)


def test_same_array_as_x_and_y_is_gathered_once_and_shared():
    x = np.random.rand(16, 3).astype("float32")
    bx, by, _ = next(get_data_adapter(x, x, batch_size=16, shuffle=True).epoch())
    assert bx is by


def test_dict_and_list_inputs_keep_their_structure():
    a, b = np.zeros((6, 2)), np.ones((6, 3))
    adapter = get_data_adapter({"a": a, "b": [b, b]}, a, batch_size=4)
    bx, by, _ = next(adapter.epoch())
    assert sorted(bx) == ["a", "b"]
    assert tuple(bx["b"][1].shape) == (4, 3)
    assert tuple(by.shape) == (4, 2)


def test_mismatched_sample_counts_raise_keras_cardinality_error():
    with pytest.raises(
        ValueError, match="(?s)Data cardinality is ambiguous.*'x' sizes: 5.*'y' sizes: 4"
    ):
        get_data_adapter(np.zeros((5, 2)), np.zeros((4, 1)))


def test_class_weight_becomes_per_sample_weights():
    y = np.array([0, 1, 2, 1])
    _, _, sw = next(
        get_data_adapter(np.zeros((4, 1)), y, batch_size=4, class_weight={1: 3.0}).epoch()
    )
    assert sw.tolist() == [1.0, 3.0, 1.0, 3.0]


def test_class_weight_reads_one_hot_labels_by_argmax():
    table = torch.tensor([2.0, 5.0])
    y = torch.tensor([[0.0, 1.0], [1.0, 0.0]])
    assert class_weight_to_sample_weight(y, table).tolist() == [5.0, 2.0]


def test_class_weight_multiplies_given_sample_weights():
    y, sw = np.array([0, 1]), np.array([0.5, 2.0])
    adapter = get_data_adapter(np.zeros((2, 1)), y, sw, batch_size=2, class_weight={0: 4.0})
    _, _, weights = next(adapter.epoch())
    assert weights.tolist() == [2.0, 2.0]


def test_validation_split_takes_the_last_fraction():
    x = np.arange(10)
    (tx, _, _), (vx, _, _) = train_validation_split((x, x, None), 0.2)
    assert tx.tolist() == list(range(8))
    assert vx.tolist() == [8, 9]


def test_validation_split_refuses_generators():
    with pytest.raises(ValueError, match="only supported for tensors or NumPy arrays"):
        train_validation_split((iter([1]), None, None), 0.5)


def test_validation_split_too_large_for_the_data_raises():
    with pytest.raises(ValueError, match="not sufficient to split"):
        train_validation_split((np.zeros((1, 2)), None, None), 0.5)


def test_generator_of_pairs_and_triples_is_unpacked_onto_the_device():
    def pairs():
        yield np.ones((2, 3)), np.zeros((2, 1))
        yield np.ones((2, 3)), np.zeros((2, 1)), np.full((2,), 0.5)

    batches = list(get_data_adapter(pairs()).epoch())
    assert batches[0][2] is None
    assert batches[1][2].tolist() == [0.5, 0.5]
    assert isinstance(batches[0][0], torch.Tensor)


def test_generator_with_steps_per_epoch_continues_across_epochs():
    adapter = get_data_adapter(np.full((1, 1), i) for i in range(5))
    first = [int(x) for x, _, _ in adapter.steps(2)]
    second = [int(x) for x, _, _ in adapter.steps(2)]
    assert (first, second) == ([0, 1], [2, 3])


def test_exhausted_generator_warns_that_input_ran_out():
    adapter = get_data_adapter(iter([np.zeros((1, 1))]))
    with pytest.warns(UserWarning, match="ran out of data"):
        assert len(list(adapter.steps(3))) == 1
    assert adapter.exhausted


def test_one_shot_validation_generator_is_evaluated_on_every_epoch():
    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1, kernel_initializer="ones")])
    model.compile("sgd", "mse")
    validation = ((np.full((2, 1), i, "float32"), np.zeros((2, 1), "float32")) for i in (1, 2))
    history = model.fit(
        np.zeros((4, 1)), np.zeros((4, 1)), epochs=3, verbose=0, validation_data=validation
    )
    # The zero inputs leave the weights alone: every epoch sees (1 + 4) / 2 = 2.5.
    assert history.history["val_loss"] == pytest.approx([2.5, 2.5, 2.5])


def test_arrays_with_steps_per_epoch_restart_when_a_pass_ends():
    adapter = get_data_adapter(np.arange(3.0)[:, None], batch_size=2)
    assert [len(x) for x, _, _ in adapter.steps(3)] == [2, 1, 2]


def test_torch_dataset_is_batched_and_dataloader_is_used_as_given():
    dataset = torch.utils.data.TensorDataset(torch.ones(10, 3), torch.zeros(10, 1))
    assert get_data_adapter(dataset, batch_size=4).num_batches == 3
    loader = torch.utils.data.DataLoader(dataset, batch_size=5)
    adapter = get_data_adapter(loader)
    assert [tuple(x.shape) for x, _, _ in adapter.epoch()] == [(5, 3), (5, 3)]


def test_dataset_with_separate_y_is_refused_with_keras_message():
    dataset = torch.utils.data.TensorDataset(torch.ones(4, 3))
    with pytest.raises(ValueError, match="`y` should not be passed"):
        get_data_adapter(dataset, np.zeros((4, 1)))


def test_unpack_rejects_tuples_longer_than_three():
    with pytest.raises(ValueError, match=r"\(x, y, sample_weight\)"):
        unpack_x_y_sample_weight((1, 2, 3, 4))


def test_unknown_data_type_names_what_was_received():
    with pytest.raises(ValueError, match="Unrecognized data type: x holds a object"):
        get_data_adapter(object())
