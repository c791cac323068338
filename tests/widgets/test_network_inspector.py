"""NetworkInspector: feature maps, keypoints and temporal states of one clip, following a frame
slider and the model (a DCRN, a ModelBuilder's settings, a TrainingDashboard's training)."""
import numpy as np
import pytest
from ipywidgets.embed import embed_data

from labkit import explain, models
from labkit.widgets import ModelBuilder, NetworkInspector, TrainingDashboard


@pytest.fixture(scope="module")
def model(tiny_config):
    return models.build(tiny_config.replace(num_classes=2), seed=0).eval()


@pytest.fixture
def inspector(model, tiny_order):
    return NetworkInspector(model, tiny_order, index=3)


def test_opens_with_every_view_drawn(inspector, tiny_order):
    inside = inspector.inside
    assert inspector.clip.value == 3 and inspector.frame.max == 7
    np.testing.assert_array_equal(inside.clip, tiny_order[3][0])
    assert [t.type for t in inspector.maps_figure.data] == ["image"]
    assert inspector.block.options == (("blocks.0", 0), ("blocks.1", 1)) and inspector.block.value == 1
    assert inspector.channels.value == tuple(range(15))  # the first 15 of 16 channels
    assert inspector.keypoints_figure.data[0].type == "image" and len(inspector.keypoints_figure.data) == 22
    assert (inspector.series_a.value, inspector.series_b.value) == ("hidden state h", "update gate z")
    assert inspector.state_a.data[0].type == "heatmap" and inspector.state_a.layout.title.text == "hidden state h"
    assert "<b>gru</b> model" in inspector.status.value and "8 frames" in inspector.status.value


def test_the_frame_slider_moves_every_view(inspector, tiny_order):
    def now():
        return (inspector.maps_figure.data[0].source, tuple(inspector.keypoints_figure.data[-3].x),
                tuple(inspector.state_a.data[1].x), tuple(inspector.state_b.data[1].x))

    flash = int(np.flatnonzero(tiny_order.evidence_frames[3])[-1])  # a frame unlike frame 0
    before = now()
    inspector.frame.value = flash
    after = now()
    assert after[0] != before[0] and after[1] != before[1]  # the maps and the keypoint dots of that frame
    assert after[2] == after[3] == (flash, flash)  # the cursors on both heatmaps


def test_blocks_channels_and_series_are_chosen(inspector):
    inspector.block.value = 0
    assert inspector.channels.options == tuple(range(8))
    inspector.channels.value = (1, 2)
    labels = [a.text for a in inspector.maps_figure.layout.annotations]
    assert labels == ["frame", "ch 1", "ch 2"] and "blocks.0" in inspector.maps_figure.layout.title.text
    inspector.series_b.value = "frame vectors (input)"
    heat = inspector.state_b.data[0]
    assert np.asarray(heat.z).shape == (48, 8)  # 3 x 16 keypoint numbers per frame, over 8 frames
    inspector.clip.value = 4  # another clip keeps the choices
    assert inspector.block.value == 0 and inspector.channels.value == (1, 2)
    assert inspector.series_b.value == "frame vectors (input)"
    np.testing.assert_allclose(inspector.state_b.data[0].z,
                               inspector.inside.series("frame vectors (input)").values.T, rtol=1e-6)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru", "tcn", "attention", "convlstm", "none"])
def test_every_temporal_model(cell, tiny, tiny_order):
    inspector = NetworkInspector(tiny("default", num_classes=2, cell=cell), tiny_order)
    assert "⚠" not in inspector.status.value
    names = [s.name for s in inspector.inside.temporal]
    assert list(inspector.series_a.options) == names and inspector.series_a.value in names
    if cell == "convlstm":
        assert not inspector.keypoints_figure.data and "hidden map" in inspector.keypoints_figure.layout.annotations[0].text
    else:
        assert inspector.keypoints_figure.data[0].type == "image"
    if cell == "none":
        assert inspector.series_b.value is None and "no temporal model" in inspector.state_b.layout.annotations[0].text
    else:
        assert inspector.state_b.data[0].type == "heatmap"
    expected_b = {"lstm": "forget gate f", "gru": "update gate z", "attention": "attention weights"}
    if cell in expected_b:
        assert inspector.series_b.value == expected_b[cell]


def test_follows_a_model_builder(tiny_config, tiny_order):
    builder = ModelBuilder(tiny_config.replace(num_classes=2), frames=8)
    inspector = NetworkInspector(builder, tiny_order[0][0])  # one clip: no clip list
    assert inspector.clip.layout.display == "none" and inspector.inside.cell == "gru"
    assert "untrained" in inspector.status.value
    builder.set_config(tiny_config.replace(num_classes=2, cell="lstm"))
    assert inspector.inside.cell == "lstm" and "forget gate f" in inspector.series_b.options
    builder.set_config(tiny_config.replace(num_classes=2, conv_channels=(8,) * 7))  # shrinks the frame away
    assert inspector.inside is None and "not a valid model" in inspector.status.value
    assert not inspector.maps_figure.data and not inspector.state_a.data  # nothing stale
    builder.set_config(tiny_config.replace(num_classes=2))
    assert inspector.inside.cell == "gru" and len(inspector.maps_figure.data) == 1


def test_follows_a_training_dashboard(tiny_config, tiny_order):
    model = models.build(tiny_config.replace(num_classes=2), seed=0)
    dashboard = TrainingDashboard(model, tiny_order, epochs=2, batch_size=32, lr=1e-2, seed=0, augment=False,
                                  device="cpu")
    inspector = NetworkInspector(dashboard, tiny_order)
    before = inspector.inside.series("hidden state h").values.copy()
    redraws = []
    dashboard.fit_kwargs["callbacks"].append(type("Spy", (), {
        "on_train_begin": lambda *a: None, "on_batch_end": lambda *a: None, "on_train_end": lambda *a: None,
        "on_epoch_end": lambda self, state: redraws.append(inspector.status.value)})())
    dashboard.start()
    dashboard.wait()
    assert dashboard.error is None
    assert [("after epoch 1" in s, "after epoch 2" in s) for s in redraws] == [(True, False), (False, True)]
    after = inspector.inside.series("hidden state h").values
    assert not np.allclose(before, after)  # the trained weights are the ones shown
    np.testing.assert_allclose(after, explain.look_inside(dashboard.model, tiny_order[0][0])
                               .series("hidden state h").values, atol=1e-5)


def test_a_dashboard_without_a_model_yet_and_a_wrong_source(tiny_config, tiny_order):
    builder = ModelBuilder(tiny_config.replace(num_classes=2), frames=8)
    inspector = NetworkInspector(TrainingDashboard(builder, tiny_order), tiny_order)
    assert inspector.inside is None and "press Start" in inspector.status.value
    with pytest.raises(TypeError, match="NetworkInspector needs a models.DCRN"):
        NetworkInspector("default", tiny_order)


def test_state_serialises(inspector):
    import json

    json.dumps(embed_data(views=[inspector])["manager_state"])
