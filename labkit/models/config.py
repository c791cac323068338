"""`DCRNConfig`: every knob of a deep convolutional recurrent network, in one dataclass."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

CELLS = ("lstm", "gru", "rnn", "none")
FRAME_READOUTS = ("flatten", "gap")
TEMPORAL_READOUTS = ("last", "mean")
ACTIVATIONS = ("relu", "gelu", "elu", "tanh")


@dataclass
class DCRNConfig:
    """A CNN on every frame -> a recurrent layer over frames -> a classifier.

    Input clips are (B, T, C, H, W) floats after `DCRN.preprocess`; `cell="none"` replaces the
    recurrence with a mean over time (the frame-only baseline).
    """

    num_classes: int = 10
    in_chans: int = 3
    img_size: int = 64
    # per-frame CNN: one block = conv -> [batch norm] -> activation -> [max pool]
    conv_channels: tuple[int, ...] = (32,)
    kernel_size: int = 3
    padding: int = 0
    pool: int = 2  # max-pool window and stride after each block; 1 = no pooling
    batch_norm: bool = False
    activation: str = "relu"
    frame_readout: str = "flatten"  # "flatten" (the Keras seed) or "gap" (global average pool)
    # recurrence over frames
    cell: str = "lstm"
    hidden_size: int = 64
    num_layers: int = 1
    bidirectional: bool = False
    rnn_bias: str = "single"  # "single": one bias per gate as in Keras; "double": PyTorch's b_ih + b_hh
    temporal_readout: str = "last"  # "last" valid state, or "mean" over valid frames
    drop_rate: float = 0.0
    # classifier head: [Linear(head_hidden) -> ReLU] -> Linear(num_classes); head_hidden=0 drops the hidden layer
    head_hidden: int = 64
    # input normalisation applied by DCRN.preprocess after scaling uint8 to [0, 1]
    mean: tuple[float, ...] = (0.5, 0.5, 0.5)
    std: tuple[float, ...] = (0.25, 0.25, 0.25)
    max_frames: int | None = None  # longest clip the model accepts (None: any length)

    def to_dict(self) -> dict:
        """Plain JSON-ready dict (tuples become lists)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "DCRNConfig":
        """Inverse of `to_dict`; unknown keys raise a TypeError naming them."""
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(d) - names)
        if unknown:
            raise TypeError(f"unknown DCRNConfig field(s) {unknown}; valid fields: {sorted(names)}")
        d = dict(d)
        for k in ("conv_channels", "mean", "std"):
            if k in d and d[k] is not None:
                d[k] = tuple(d[k])
        return cls(**d)

    def replace(self, **changes) -> "DCRNConfig":
        """A copy with some fields changed."""
        return dataclasses.replace(self, **changes)
