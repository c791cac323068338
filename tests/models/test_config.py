"""DCRNConfig: round trips, and `validate` names the parameter and the largest valid value."""
import pytest

from labkit.models import DCRN, DCRNConfig, PRESETS, preset_config


def test_presets_validate_and_round_trip():
    for name in PRESETS:
        cfg = preset_config(name)
        assert cfg.validate() is cfg
        assert DCRNConfig.from_dict(cfg.to_dict()) == cfg


def test_from_dict_names_unknown_keys():
    with pytest.raises(TypeError, match="conv_chanels"):
        DCRNConfig.from_dict({"conv_chanels": [8]})


def test_frame_sides_follow_conv_and_pool():
    assert DCRNConfig(conv_channels=(32,)).frame_sides() == [(62, 31)]
    assert DCRNConfig(conv_channels=(8, 8), padding=1, pool=2).frame_sides(size=32) == [(32, 16), (16, 8)]
    assert DCRNConfig(conv_channels=(8, 8), padding=1, stem_stride=2).frame_sides() == [(32, 16), (16, 8)]


@pytest.mark.parametrize("changes, words", [
    (dict(conv_channels=(8,) * 5), ["conv_channels has 5 blocks", "at most 4", "number of blocks to <= 4",
                                    "img_size to >= 94"]),
    (dict(kernel_size=70), ["at most 0", "kernel_size to <= 63"]),
    (dict(conv_channels=(8, 0)), ["conv_channels", ">= 1"]),
    (dict(conv_channels=(-3,)), ["conv_channels", ">= 1"]),
    (dict(in_chans=0), ["in_chans=0", "smallest valid value is 1"]),
    (dict(num_classes=1), ["num_classes=1", "smallest valid value is 2"]),
    (dict(hidden_size=0), ["hidden_size=0", "smallest valid value is 1"]),
    (dict(num_layers=0), ["num_layers=0", "smallest valid value is 1"]),
    (dict(kernel_size=0), ["kernel_size=0"]),
    (dict(pool=0), ["pool=0"]),
    (dict(hidden_size=2.5), ["hidden_size must be a whole number"]),
    (dict(cell="transformer"), ["unknown cell 'transformer'", "lstm"]),
    (dict(frame_readout="max"), ["unknown frame_readout", "gap"]),
    (dict(temporal_readout="first"), ["unknown temporal_readout"]),
    (dict(activation="swish"), ["unknown activation 'swish'"]),
    (dict(rnn_bias="none"), ["unknown rnn_bias"]),
    (dict(cell="none", bidirectional=True), ["bidirectional=True", "cell='none'"]),
    (dict(drop_rate=1.0), ["drop_rate=1.0", "[0, 1)"]),
    (dict(drop_rate=-0.1), ["drop_rate=-0.1"]),
    (dict(mean=(0.5,)), ["mean has 1 values but in_chans=3"]),
    (dict(std=(0.2, 0.0, 0.2)), ["std must be > 0"]),
    (dict(padding=3), ["padding=3", "largest valid padding is 2"]),
    (dict(max_frames=0), ["max_frames=0"]),
    (dict(head_hidden=-1), ["head_hidden=-1", "smallest valid value is 0"]),
    (dict(conv_channels=(8,) * 4, stem_stride=2), ["supports at most 3", "stem_stride to <= 1", "img_size to >= 89"]),
    (dict(frame_readout="keypoints", conv_channels=(4,) * 7, padding=1), ["at most 6"]),
    (dict(cell="tcn", bidirectional=True), ["bidirectional=True", "cell='tcn'", "set bidirectional=False"]),
    (dict(cell="attention", bidirectional=True), ["bidirectional=True", "cell='attention'"]),
    (dict(cell="convlstm", bidirectional=True), ["bidirectional=True", "cell='convlstm'"]),
    (dict(cell="attention", hidden_size=64, num_heads=3), ["hidden_size=64 is not divisible by num_heads=3",
                                                           "num_heads in [1, 2, 4, 8, 16]", "hidden_size=66"]),
    (dict(cell="attention", num_heads=0), ["num_heads=0", "smallest valid value is 1"]),
    (dict(cell="convlstm", temporal_kernel=4), ["temporal_kernel=4 is even", "temporal_kernel=3 or 5"]),
    (dict(cell="tcn", temporal_kernel=0), ["temporal_kernel=0", "smallest valid value is 1"]),
    (dict(cell="tcn", temporal_kernel=2.5), ["temporal_kernel must be a whole number"]),
])
def test_invalid_configs_raise_readable_errors(changes, words):
    cfg = DCRNConfig(**changes)
    with pytest.raises(ValueError) as err:
        cfg.validate()
    for w in words:
        assert w in str(err.value), str(err.value)
    with pytest.raises(ValueError):
        DCRN(cfg)


def test_every_problem_is_listed_at_once():
    problems = DCRNConfig(drop_rate=2.0, cell="none", bidirectional=True, mean=(0.1,)).problems()
    assert len(problems) == 3


def test_the_new_cells_accept_what_they_can_honour():
    # temporal_readout: every cell reads "last" or "mean"; rnn_bias: gated cells honour it, the others ignore it
    for cell in ("tcn", "attention", "convlstm"):
        for readout in ("last", "mean"):
            for bias in ("single", "double"):
                assert DCRNConfig(cell=cell, temporal_readout=readout, rnn_bias=bias).problems() == []
    assert DCRNConfig(cell="tcn", temporal_kernel=2).problems() == []  # only the ConvLSTM's "same" padding needs odd
    assert DCRNConfig(cell="lstm", num_heads=3, temporal_kernel=4).problems() == []  # fields it does not use


ENCODER = ("encoder_cell", "hog_bins", "encoder_kwargs")  # what the CNN ignores


def test_unused_fields_name_what_each_cell_ignores():
    assert DCRNConfig(cell="gru").unused_fields() == ("temporal_kernel", "num_heads", *ENCODER)
    assert DCRNConfig(cell="tcn").unused_fields() == ("bidirectional", "rnn_bias", "num_heads", "recurrent_gain",
                                                      *ENCODER)
    assert DCRNConfig(cell="attention").unused_fields() == ("bidirectional", "rnn_bias", "temporal_kernel",
                                                            "recurrent_gain", *ENCODER)
    assert DCRNConfig(cell="convlstm").unused_fields() == ("bidirectional", "num_heads", "recurrent_gain", *ENCODER)
    assert "hidden_size" in DCRNConfig(cell="none").unused_fields()


def test_unused_fields_name_what_each_frame_encoder_ignores():
    cnn = ("conv_channels", "kernel_size", "padding", "stem_stride", "pool", "batch_norm", "activation")

    def unused(encoder):
        return DCRNConfig(frame_encoder=encoder).unused_fields()[2:]  # after the GRU's two

    assert unused("sobel") == (*cnn, "hog_bins", "encoder_kwargs")
    assert unused("hog") == (*cnn, "encoder_kwargs")
    assert unused("pixels") == (*cnn, "hog_bins", "encoder_kwargs")
    assert unused("my.pkg:Net") == (*cnn, "encoder_cell", "hog_bins")


def test_suggested_limits_are_exactly_the_largest_valid_values():
    base = DCRNConfig(conv_channels=(8,) * 5)  # 64 px, kernel 3, pool 2: 4 blocks fit
    assert DCRNConfig(conv_channels=(8,) * 4).problems() == []
    assert base.replace(img_size=94).problems() == []
    assert base.replace(img_size=93).problems() != []
    stem = DCRNConfig(conv_channels=(8,) * 4, stem_stride=2)
    assert stem.replace(img_size=89).problems() == [] != stem.replace(img_size=88).problems()
    one = DCRNConfig(kernel_size=70)
    assert one.replace(kernel_size=63).problems() == []
    assert one.replace(kernel_size=64).problems() != []


def test_validation_is_cheap_enough_for_a_slider():
    import time
    cfg = DCRNConfig(conv_channels=(8,) * 6)
    start = time.perf_counter()
    for _ in range(200):
        cfg.problems()
    assert (time.perf_counter() - start) / 200 < 0.005


def test_recurrent_gain_sets_the_spectrum_of_the_recurrence():
    """recurrent_gain=g: each gate's hidden-to-hidden block is orthogonal times g (every
    singular value g), so g > 1 makes the linearised recurrence, and its gradient, grow."""
    import torch

    from labkit.models import build

    model = build(DCRNConfig(cell="gru", hidden_size=8, recurrent_gain=1.5), seed=0)
    for block in model.rnn.weight_hh_l0.split(8):
        torch.testing.assert_close(torch.linalg.svdvals(block), torch.full((8,), 1.5))
    assert build(DCRNConfig(cell="gru", hidden_size=8, recurrent_gain=1.5), seed=0).state_dict().keys() == \
        model.state_dict().keys()
    assert "recurrent_gain" in DCRNConfig(recurrent_gain=0).problems()[0]
