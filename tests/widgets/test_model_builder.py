"""ModelBuilder: controls drive the config; every change updates the cost; invalid shows a message."""
import json

import ipywidgets as W
import pytest
from ipywidgets.embed import embed_data

from labkit import models
from labkit.widgets import ModelBuilder


@pytest.fixture(scope="module")
def builder():
    return ModelBuilder("default", num_classes=8)


def test_starts_from_the_preset(builder):
    assert builder.config == models.preset_config("default", num_classes=8)
    assert builder.summary.totals["params"] == models.summary(builder.config).totals["params"]
    assert builder.error is None and builder.message.layout.display == "none"
    assert "blocks.0.0" in builder.table.value and "parameters" in builder.totals.value


def test_a_slider_move_updates_table_totals_and_figure(builder):
    builder.view.selected_index = 1  # the diagram tab
    before = (builder.summary.totals["params"], builder.table.value, builder.totals.value,
              tuple(builder.figure.data[0].y))
    builder.controls["hidden_size"].value = 256
    after = (builder.summary.totals["params"], builder.table.value, builder.totals.value,
             tuple(builder.figure.data[0].y))
    assert after[0] > before[0]
    assert all(a != b for a, b in zip(before, after))
    assert builder.config.hidden_size == 256 and builder.controls["preset"].value == "custom"


def test_blocks_and_channels_shape_the_cnn(builder):
    builder.controls["blocks"].value = 2
    builder.channel_controls[1].value = 128
    first = builder.channel_controls[0].value
    assert builder.config.conv_channels == (first, 128)
    assert builder.channel_controls[2].layout.display == "none"
    assert f"Conv2d {first}-&gt;128" in builder.table.value


def test_invalid_combination_shows_a_message_not_a_traceback():
    b = ModelBuilder("default", diagram=False)
    with b.hold_updates():
        b.controls["blocks"].value = 5
        b.controls["img_size"].value = 16
    assert b.summary is None and "shrinks a frame below 1 pixel" in b.error
    assert b.message.layout.display is None and "lower the number of blocks" in b.message.value
    with pytest.raises(ValueError, match="img_size=16"):
        b.config
    b.controls["img_size"].value = 64  # fixing it clears the message
    assert b.error is None and b.message.layout.display == "none"
    b.controls["padding"].value = 4  # padding >= kernel
    assert "padding" in b.error


def test_preset_dropdown_loads_a_preset_and_the_seed_has_its_keras_size():
    b = ModelBuilder(diagram=False)
    b.controls["preset"].value = "seed"
    assert b.summary.totals["params"] == 7_894_858
    b.controls["cell"].value = "none"  # frame-only: the recurrent controls grey out
    assert b.controls["hidden_size"].disabled and b.controls["preset"].value == "custom"


def test_build_model_and_on_change():
    b = ModelBuilder(models.preset_config("default", num_classes=3), diagram=False)
    seen = []
    b.on_change(lambda w: seen.append(w.error))
    b.controls["kernel_size"].value = 5
    model = b.build_model()
    assert isinstance(model, models.DCRN) and model.config.kernel_size == 5 and seen == [None]
    assert sum(p.numel() for p in model.parameters()) == b.summary.totals["params"]


def test_state_serialises(builder):
    assert isinstance(builder, W.VBox)
    state = embed_data(views=[builder])
    json.dumps(state["manager_state"])
    json.dumps(builder.get_state(), default=str)


def test_the_hidden_diagram_catches_up_when_shown():
    b = ModelBuilder("default")
    y0 = tuple(b.figure.data[0].y)
    b.controls["hidden_size"].value = 512  # diagram tab hidden: not redrawn yet
    assert tuple(b.figure.data[0].y) == y0
    b.view.selected_index = 1
    assert tuple(b.figure.data[0].y) != y0


def test_new_cells_and_their_controls():
    b = ModelBuilder("default", diagram=False)
    assert set(b.controls["cell"].options) >= {"tcn", "attention", "convlstm"}
    assert b.controls["temporal_kernel"].disabled and b.controls["num_heads"].disabled  # a GRU uses neither
    b.controls["cell"].value = "tcn"
    assert not b.controls["temporal_kernel"].disabled and b.controls["num_heads"].disabled
    b.controls["temporal_kernel"].value = 5
    assert b.config.temporal_kernel == 5 and "sees 5 frames" in b.table.value
    b.controls["cell"].value = "attention"
    assert b.controls["temporal_kernel"].disabled and not b.controls["num_heads"].disabled
    b.controls["num_heads"].value = 8
    assert b.config.num_heads == 8 and "attention.layers.0" in b.table.value
    b.controls["cell"].value = "convlstm"  # its kernel of 5 is odd: valid
    assert b.error is None and "convlstm.readout" in b.table.value
    assert sum(p.numel() for p in b.build_model().parameters()) == b.summary.totals["params"]


def test_invalid_new_cell_settings_show_the_config_s_message():
    b = ModelBuilder("default", diagram=False)
    with b.hold_updates():
        b.controls["cell"].value = "attention"
        b.controls["hidden_size"].value = 8
        b.controls["num_heads"].value = 16
    assert b.summary is None and "hidden_size=8 is not divisible by num_heads=16" in b.error
    b.controls["num_heads"].value = 8
    assert b.error is None
    with b.hold_updates():
        b.controls["cell"].value = "convlstm"
        b.controls["temporal_kernel"].value = 4
    assert "temporal_kernel=4 is even" in b.error and "use temporal_kernel=3 or 5" in b.message.value
    b.controls["temporal_kernel"].value = 3
    b.controls["cell"].value = "lstm"
    b.controls["bidirectional"].value = True
    b.controls["cell"].value = "tcn"  # refused: the box stays enabled so it can be unchecked
    assert "bidirectional=True" in b.error and not b.controls["bidirectional"].disabled
    b.controls["bidirectional"].value = False
    assert b.error is None and b.controls["bidirectional"].disabled


def test_a_new_cell_config_round_trips_through_the_controls():
    cfg = models.preset_config("default", num_classes=3, cell="attention", num_heads=2, temporal_kernel=5)
    b = ModelBuilder(cfg, diagram=False)
    assert b.config == cfg


def test_the_diagram_lists_layers_in_the_order_the_model_computes_after_any_change():
    b = ModelBuilder("default", diagram=True)
    b.view.selected_index = 1
    b.controls["blocks"].value = 3  # new blocks.2.x layers: they must come before the head, not after it
    layers = list(b.summary.table["layer"])
    assert list(b.figure.data[0].x) == list(range(len(layers))) == list(b.figure.data[1].x)
    assert list(b.figure.layout.xaxis.ticktext) == layers == list(b.figure.layout.xaxis2.ticktext)
    assert layers.index("blocks.2.0") < layers.index("head.0")
    assert b.shown is b.summary and f"{b.summary.totals['params']:,}" in b.totals.value
    params = dict(zip(b.summary.table["layer"], b.summary.table["params"]))
    labels = dict(zip(b.figure.layout.xaxis2.ticktext, b.figure.data[0].text))
    assert labels["blocks.0.0"] == "216" and "×" not in "".join(labels.values())  # counts, not shapes
    assert params["blocks.0.0"] == 216


def test_an_invalid_configuration_greys_every_view_and_they_keep_one_model():
    b = ModelBuilder("default", diagram=True)
    b.controls["hidden_size"].value = 128  # a valid change while the diagram tab is hidden
    valid = b.summary
    b.controls["padding"].value = 4  # invalid: padding >= kernel
    assert b.summary is None and b.shown is valid and "padding" in b.message.value
    assert "last valid model" in b.message.value
    assert all("labkit-stale" in v._dom_classes for v in (b.totals, b.table, b.diagram))
    b.view.selected_index = 1  # the diagram drawn now shows the model the table shows: the last valid one
    assert list(b.figure.layout.xaxis2.ticktext) == list(valid.table["layer"])
    assert f"{valid.totals['params']:,}" in b.totals.value
    b.controls["padding"].value = 1
    assert not any("labkit-stale" in v._dom_classes for v in (b.totals, b.table, b.diagram))


def test_the_table_says_where_the_computed_order_differs_from_print_model():
    b = ModelBuilder("seed", diagram=False)  # relu then 2x2 max pool: the block pools first
    printed = str(b.build_model())
    assert printed.index("ReLU") < printed.index("MaxPool2d")
    table = b.table.value
    assert table.index("MaxPool2d") < table.index(">relu<")
    assert "print(model) lists it after" in table and "print(model) lists it before" in table
    b.controls["activation"].value = "gelu"  # not monotone: relu... gelu runs first, no note
    assert "print(model)" not in b.table.value


def test_cell_none_shows_the_readout_the_table_shows():
    b = ModelBuilder("default", diagram=False)
    b.controls["cell"].value = "none"
    assert b.controls["temporal_readout"].layout.display == "none"
    assert b.fixed_readout.layout.display is None and b.fixed_readout.disabled
    assert b.fixed_readout.value == "mean over time" and "mean over time" in b.table.value
    b.controls["cell"].value = "gru"
    assert b.fixed_readout.layout.display == "none" and b.controls["temporal_readout"].layout.display is None


def test_every_cell_with_the_controls_it_uses_including_the_recurrent_gain():
    b = ModelBuilder("default", diagram=False)
    assert list(b.controls["cell"].options) == list(models.config.CELLS)
    for cell in models.config.CELLS:
        b.controls["cell"].value = cell
        unused = b.config.unused_fields()
        for name in models.config.TEMPORAL_FIELDS:
            assert b.controls[name].disabled == (name in unused), (cell, name)
    b.controls["cell"].value = "rnn"
    b.controls["recurrent_gain"].value = 1.5
    b.controls["rnn_bias"].value = "single"
    assert b.config.recurrent_gain == 1.5 and b.config.rnn_bias == "single"
    b.controls["recurrent_gain"].value = 0.0  # PyTorch's initialisation
    assert b.config.recurrent_gain is None
    cfg = models.preset_config("default", num_classes=3, cell="lstm", recurrent_gain=0.7, rnn_bias="single")
    assert ModelBuilder(cfg, diagram=False).config == cfg


def test_every_frame_encoder_with_the_controls_it_uses_and_views_that_agree():
    b = ModelBuilder("default", diagram=True)
    b.view.selected_index = 1
    assert list(b.controls["frame_encoder"].options) == list(models.config.FRAME_ENCODERS)
    cnn_controls = ("blocks", "kernel_size", "padding", "pool", "batch_norm", "activation")
    for encoder in models.config.FRAME_ENCODERS:
        b.controls["frame_encoder"].value = encoder
        cfg = b.config
        assert cfg.frame_encoder == encoder and b.error is None
        hand_crafted = encoder != "cnn"
        assert all(b.controls[n].disabled == hand_crafted for n in cnn_controls), encoder
        assert all(w.disabled == hand_crafted for w in b.channel_controls), encoder
        assert b.controls["encoder_cell"].disabled == (not hand_crafted)
        assert b.controls["hog_bins"].disabled == (encoder != "hog")
        expected = models.summary(cfg, frames=b.frames)
        layers = list(expected.table["layer"])
        assert list(b.summary.table["layer"]) == layers
        assert list(b.figure.layout.xaxis2.ticktext) == layers  # the diagram shows the same model
        assert f"{expected.totals['params']:,}" in b.totals.value
        assert sum(p.numel() for p in b.build_model().parameters()) == expected.totals["params"]
        assert ("blocks.0.0" in b.table.value) == (not hand_crafted)
    b.controls["frame_encoder"].value = "hog"
    b.controls["hog_bins"].value = 6
    b.controls["encoder_cell"].value = 8
    assert (b.config.hog_bins, b.config.encoder_cell) == (6, 8) and "6 bins" in b.table.value
    assert "8x8 cells" in b.table.value
    with b.hold_updates():  # hand-crafted encoders have no conv geometry to break...
        b.controls["img_size"].value = 16
        b.controls["encoder_cell"].value = 16
    assert b.error is None
    b.controls["encoder_cell"].max = 32
    b.controls["encoder_cell"].value = 32  # ... but a cell larger than the frame is refused
    assert "encoder_cell=32 is larger" in b.error and "labkit-stale" in b.table._dom_classes


def test_a_hand_crafted_encoder_config_round_trips_through_the_controls():
    cfg = models.preset_config("default", num_classes=3, frame_encoder="hog", encoder_cell=8, hog_bins=6)
    b = ModelBuilder(cfg, diagram=False)
    assert b.config == cfg and b.controls["frame_encoder"].value == "hog" and b.controls["kernel_size"].disabled
