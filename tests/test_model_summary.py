"""model.summary(): Keras 3's table, character for character."""

import tritonlayers as keras

SEQUENTIAL_TABLE = """\
Model: "mm"
┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━┓
┃ Layer (type)                    ┃ Output Shape           ┃       Param # ┃
┡━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━┩
│ d1 (Dense)                      │ (None, 4)              │            16 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ d2 (Dense)                      │ (None, 2)              │            10 │
└─────────────────────────────────┴────────────────────────┴───────────────┘
 Total params: 26 (104.00 B)
 Trainable params: 26 (104.00 B)
 Non-trainable params: 0 (0.00 B)"""

BRANCHING_TABLE = """\
Model: "multi"
┏━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━┓
┃ Layer (type)        ┃ Output Shape      ┃    Param # ┃ Connected to      ┃
┡━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━┩
│ a (InputLayer)      │ (None, 3)         │          0 │ -                 │
├─────────────────────┼───────────────────┼────────────┼───────────────────┤
│ b (InputLayer)      │ (None, 2)         │          0 │ -                 │
├─────────────────────┼───────────────────┼────────────┼───────────────────┤
│ cat (Concatenate)   │ (None, 5)         │          0 │ a[0][0], b[0][0]  │
├─────────────────────┼───────────────────┼────────────┼───────────────────┤
│ o1 (Dense)          │ (None, 4)         │         24 │ cat[0][0]         │
├─────────────────────┼───────────────────┼────────────┼───────────────────┤
│ o2 (Dense)          │ (None, 1)         │          6 │ cat[0][0]         │
└─────────────────────┴───────────────────┴────────────┴───────────────────┘
 Total params: 30 (120.00 B)
 Trainable params: 30 (120.00 B)
 Non-trainable params: 0 (0.00 B)"""


def _captured(model, **kwargs):
    printed = []
    model.summary(print_fn=printed.append, **kwargs)
    return printed[0]


def test_sequential_summary_matches_keras_table_at_76_columns():
    model = keras.Sequential(
        [keras.Input((3,)), keras.layers.Dense(4, name="d1"), keras.layers.Dense(2, name="d2")],
        name="mm",
    )
    assert _captured(model, line_length=76) == SEQUENTIAL_TABLE


def test_branching_functional_summary_has_connected_to_column():
    a, b = keras.Input(shape=(3,), name="a"), keras.Input(shape=(2,), name="b")
    joined = keras.layers.Concatenate(name="cat")([a, b])
    outputs = [keras.layers.Dense(4, name="o1")(joined), keras.layers.Dense(1, name="o2")(joined)]
    model = keras.Model([a, b], outputs, name="multi")
    assert _captured(model, line_length=76) == BRANCHING_TABLE


def test_unbuilt_layers_show_question_mark_and_unbuilt():
    model = keras.Sequential([keras.layers.Dense(2, name="d")])
    row = _captured(model, line_length=76).splitlines()[4]
    assert "?" in row and "0 (unbuilt)" in row


def test_non_trainable_weights_are_counted_separately():
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    model.layers[0].trainable = False
    lines = _captured(model).splitlines()
    assert lines[-2] == " Trainable params: 0 (0.00 B)"
    assert lines[-1] == " Non-trainable params: 8 (32.00 B)"


def test_subclassed_model_lists_its_sublayers_with_build_shapes():
    class Net(keras.Model):
        def __init__(self):
            super().__init__(name="net")
            self.dense = keras.layers.Dense(3, name="inner")

        def call(self, x):
            return self.dense(x)

    model = Net()
    model(keras.ops.ones((2, 5)))
    row = _captured(model).splitlines()[4]
    assert row.startswith("│ inner (Dense)") and "(2, 3)" in row and "18" in row


def test_show_trainable_adds_a_column_with_a_cut_header_and_y_flag():
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    lines = _captured(model, line_length=76, show_trainable=True).splitlines()
    assert lines[2].endswith("┃ Trai… ┃")
    assert lines[4].endswith("│   Y   │")


def test_long_cells_wrap_at_spaces_and_cut_long_words_like_rich():
    a, b = keras.Input((10,), name="title"), keras.Input((6,), name="body")
    t, u = keras.layers.Dense(8, name="dense")(a), keras.layers.Dense(8, name="dense_1")(b)
    x = keras.layers.Concatenate(name="concatenate")([t, u])
    x = keras.layers.Concatenate(name="concatenate_1")([x, t])
    model = keras.Model([a, b], keras.layers.Dense(1, name="priority")(x), name="m")
    lines = _captured(model, line_length=76).splitlines()
    assert lines[12:14] == [
        "│ concatenate         │ (None, 16)        │          0 │ dense[0][0],      │",
        "│ (Concatenate)       │                   │            │ dense_1[0][0]     │",
    ]
    assert lines[15:17] == [
        "│ concatenate_1       │ (None, 24)        │          0 │ concatenate[0][0… │",
        "│ (Concatenate)       │                   │            │ dense[0][0]       │",
    ]
    assert (
        lines[18] == "│ priority (Dense)    │ (None, 1)         │         25 │ concatenate_1[0]… │"
    )


def test_ops_on_keras_tensors_show_their_operation_as_the_type(capsys):
    inputs = keras.Input((4,))
    outputs = keras.ops.expand_dims(keras.ops.square(inputs), 1)
    keras.Model(inputs, outputs).summary()
    out = capsys.readouterr().out
    assert "(Square)" in out and "(ExpandDims)" in out and "OpLayer" not in out
