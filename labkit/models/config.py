"""`DCRNConfig`: every knob of a deep convolutional recurrent network, in one dataclass."""
from __future__ import annotations

import dataclasses
import numbers
from dataclasses import dataclass

from labkit.errors import LabkitError, SettingError

CELLS = ("lstm", "gru", "rnn", "tcn", "attention", "convlstm", "none")
# the per-frame stage: the learned CNN, or a fixed hand-crafted one (no parameters); a user's own
# nn.Module is named by its factory instead, "package.module:qualname" (see `user_encoder.py`)
FRAME_ENCODERS = ("cnn", "sobel", "hog", "pixels")
HAND_CRAFTED = ("sobel", "hog", "pixels")
CNN_FIELDS = ("conv_channels", "kernel_size", "padding", "stem_stride", "pool", "batch_norm", "activation")
ENCODER_FIELDS = ("encoder_cell", "hog_bins", "encoder_kwargs")
_ENCODER_USES = {"cnn": CNN_FIELDS, "sobel": ("encoder_cell",), "hog": ("encoder_cell", "hog_bins"),
                 "pixels": ("encoder_cell",)}
RECURRENT_CELLS = ("lstm", "gru", "rnn")  # PyTorch's nn.RNNBase layers: the only ones with a backward direction
FRAME_READOUTS = ("flatten", "gap", "keypoints")
TEMPORAL_READOUTS = ("last", "mean")
ACTIVATIONS = ("relu", "gelu", "elu", "tanh")
# non-decreasing activations commute with max pooling, pool(act(x)) == act(pool(x)), so a
# ConvBlock may pool first (see dcrn.ConvBlock)
MONOTONE_ACTIVATIONS = ("relu", "elu", "tanh")
RNN_BIASES = ("single", "double")
TEMPORAL_FIELDS = ("hidden_size", "num_layers", "bidirectional", "rnn_bias", "temporal_readout", "temporal_kernel",
                   "num_heads", "recurrent_gain")
_SIZE = ("hidden_size", "num_layers")
CELL_FIELDS = {  # the temporal fields each cell uses (see DCRNConfig.unused_fields)
    **{cell: (*_SIZE, "bidirectional", "rnn_bias", "temporal_readout", "recurrent_gain") for cell in RECURRENT_CELLS},
    "tcn": (*_SIZE, "temporal_readout", "temporal_kernel"),
    "attention": (*_SIZE, "temporal_readout", "num_heads"),
    "convlstm": (*_SIZE, "rnn_bias", "temporal_readout", "temporal_kernel"),
    "none": (),
}


@dataclass
class DCRNConfig:
    """A CNN on every frame -> a temporal model over frames -> a classifier.

    Input clips are (B, T, C, H, W) floats after `DCRN.preprocess`. `cell` picks the temporal
    model: "lstm", "gru", "rnn" (PyTorch's recurrent layers), "tcn" (dilated causal temporal
    convolution), "attention" (a small transformer encoder over frames), "convlstm" (a
    convolutional LSTM over the frames' feature maps) or "none" (a mean over time: the
    frame-only baseline). `unused_fields()` names the fields a cell ignores.
    """

    num_classes: int = 10
    in_chans: int = 3
    img_size: int = 64
    # what turns a frame into a feature map: "cnn" (the learned blocks below), a fixed
    # hand-crafted "sobel" (edge energy), "hog" (histograms of oriented gradients) or "pixels"
    # (the frame averaged over cells), or a user's module: "package.module:qualname", the
    # factory that builds it, called with encoder_kwargs (`models.build(cfg, frame_encoder=m)`)
    frame_encoder: str = "cnn"
    encoder_cell: int = 4  # sobel/hog/pixels: side in pixels of the square cells a frame is pooled over
    hog_bins: int = 9  # hog: orientation bins over 0..180 degrees
    encoder_kwargs: dict | None = None  # a user's encoder: keyword arguments of its factory (JSON values)
    # per-frame CNN: one block = conv -> [batch norm] -> activation -> [max pool]
    conv_channels: tuple[int, ...] = (32,)
    kernel_size: int = 3
    padding: int = 0
    stem_stride: int = 1  # stride of the first block's conv; 2 halves the frame at once (a cheap stem)
    pool: int = 2  # max-pool window and stride after each block; 1 = no pooling
    batch_norm: bool = False
    activation: str = "relu"
    # "flatten" (the Keras seed), "gap" (global average pool: what, not where) or "keypoints"
    # (per channel: where it fires, as a soft-argmax (x, y), and how much, its mean: 3 numbers)
    frame_readout: str = "flatten"
    # recurrence over frames
    cell: str = "lstm"
    hidden_size: int = 64
    num_layers: int = 1
    bidirectional: bool = False
    rnn_bias: str = "single"  # "single": one bias per gate as in Keras; "double": PyTorch's b_ih + b_hh
    temporal_readout: str = "last"  # "last" valid state, or "mean" over valid frames
    temporal_kernel: int = 3  # tcn: frames per causal convolution; convlstm: k x k gate convolutions (odd)
    num_heads: int = 4  # attention: heads per encoder layer (hidden_size must be divisible by it)
    # rnn/lstm/gru: None keeps PyTorch's uniform initialisation of the hidden-to-hidden weights; a
    # number draws each gate's (H, H) block as a random orthogonal matrix times it, so every
    # eigenvalue has that modulus: below 1 the memory fades, above 1 it (and the gradient) explodes
    recurrent_gain: float | None = None
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
            raise SettingError(f"unknown DCRNConfig field(s) {unknown}; valid fields: {sorted(names)}")
        d = dict(d)
        for k in ("conv_channels", "mean", "std"):
            if k in d and d[k] is not None:
                d[k] = tuple(d[k])
        return cls(**d)

    def replace(self, **changes) -> "DCRNConfig":
        """A copy with some fields changed."""
        return dataclasses.replace(self, **changes)

    # ---- geometry -----------------------------------------------------------------------------
    def frame_sides(self, size: int | None = None) -> list[tuple[int, int]]:
        """Side of a frame after each block's conv and after its pool: [(conv_side, pooled_side), ...].

        Frames are square (img_size x img_size, or `size` x `size`). Sides below 1 mean the block
        shrank the frame away; `validate` reports that.
        """
        return _sides(self.img_size if size is None else size, len(self.conv_channels),
                      self.kernel_size, self.padding, self.pool, self.stem_stride)

    # ---- checking -----------------------------------------------------------------------------
    def problems(self) -> list[str]:
        """Everything wrong with this config, one readable sentence each (empty when valid)."""
        out: list[str] = []
        ints = dict(num_classes=2, in_chans=1, img_size=1, kernel_size=1, padding=0, pool=1, stem_stride=1,
                    hidden_size=1, num_layers=1, head_hidden=0, temporal_kernel=1, num_heads=1)
        for name, low in ints.items():
            v = getattr(self, name)
            if not _is_int(v):
                out.append(f"{name} must be a whole number; got {v!r}")
            elif v < low:
                out.append(f"{name}={v} is too small; the smallest valid value is {low}")
        for name, choices in (("cell", CELLS), ("frame_readout", FRAME_READOUTS), ("activation", ACTIVATIONS),
                              ("temporal_readout", TEMPORAL_READOUTS), ("rnn_bias", RNN_BIASES)):
            if getattr(self, name) not in choices:
                out.append(f"unknown {name} {getattr(self, name)!r}; choose one of {list(choices)}")
        bad = [c for c in self.conv_channels if not _is_int(c) or c < 1]
        if bad:
            out.append(f"conv_channels must all be whole numbers >= 1; got {list(self.conv_channels)}")
        g = self.recurrent_gain
        if g is not None and (isinstance(g, bool) or not isinstance(g, numbers.Real) or not 0 < g <= 10):
            out.append(f"recurrent_gain={g!r} must be None (PyTorch's initialisation) or a number in (0, 10]")
        if not isinstance(self.drop_rate, numbers.Real) or not 0.0 <= self.drop_rate < 1.0:
            out.append(f"drop_rate={self.drop_rate!r} is outside [0, 1); use a value such as 0.0-0.5")
        out += self._temporal_problems() + self._encoder_problems()
        if self.max_frames is not None and (not isinstance(self.max_frames, numbers.Integral)
                                            or self.max_frames < 1):
            out.append(f"max_frames={self.max_frames!r} must be None or a whole number >= 1")
        for name in ("mean", "std"):
            v = getattr(self, name)
            if isinstance(self.in_chans, numbers.Integral) and len(v) != self.in_chans:
                out.append(f"{name} has {len(v)} values but in_chans={self.in_chans}; give one value per channel")
        if any(s <= 0 for s in self.std):
            out.append(f"std must be > 0 for every channel; got {list(self.std)}")
        if not out and self.frame_encoder == "cnn":  # geometry only makes sense once the numbers are valid
            out += self._geometry_problems()
        return out

    def unused_fields(self) -> tuple[str, ...]:
        """The temporal fields this config's cell ignores (a builder greys their controls out).

        rnn_bias counts the biases of gated cells (rnn, lstm, gru, convlstm): one per gate as in
        Keras, or two as in PyTorch. tcn and attention have no gates, so they accept both values
        and ignore them; refusing one would make e.g. preset("default", cell="tcn") invalid,
        since "default" uses "double" and "seed" "single".
        """
        uses = CELL_FIELDS.get(self.cell, ())
        encoder = _ENCODER_USES.get(self.frame_encoder, ("encoder_kwargs",))  # a user's: only its kwargs
        return tuple(f for f in TEMPORAL_FIELDS if f not in uses) + \
            tuple(f for f in CNN_FIELDS + ENCODER_FIELDS if f not in encoder)

    @property
    def user_encoder(self) -> bool:
        """frame_encoder names a user's factory ("package.module:qualname"), not a built-in encoder."""
        return self.frame_encoder not in FRAME_ENCODERS

    def _encoder_problems(self) -> list[str]:
        """A frame encoder that cannot be built as configured, with the fix."""
        out, enc = [], self.frame_encoder
        if not isinstance(enc, str) or enc not in FRAME_ENCODERS and enc.count(":") != 1:
            return [f"unknown frame_encoder {enc!r}; choose one of {list(FRAME_ENCODERS)}, or pass your own "
                    f"nn.Module: models.build(config, frame_encoder=module)"]
        if enc in HAND_CRAFTED:
            for name, low in (("encoder_cell", 1), ("hog_bins", 2)):
                v = getattr(self, name)
                if not _is_int(v) or v < low:
                    out.append(f"{name}={v!r} must be a whole number >= {low}")
            if not out and _is_int(self.img_size) and self.encoder_cell > self.img_size:
                out.append(f"encoder_cell={self.encoder_cell} is larger than the {self.img_size}-pixel frame; "
                           f"use encoder_cell <= {self.img_size}")
        if self.encoder_kwargs is not None and not isinstance(self.encoder_kwargs, dict):
            out.append(f"encoder_kwargs={self.encoder_kwargs!r} must be None or a dict of the factory's arguments")
        return out

    def _temporal_problems(self) -> list[str]:
        """What the chosen cell cannot do with the other temporal fields, each with its fix.

        bidirectional is refused by every cell but rnn/lstm/gru (tcn and convlstm are causal,
        attention already sees every frame); temporal_readout "last"/"mean" is honoured by
        every cell but "none" (always a mean); rnn_bias: see `unused_fields`.
        """
        out = []
        k, heads, hidden = self.temporal_kernel, self.num_heads, self.hidden_size
        if self.bidirectional and self.cell not in RECURRENT_CELLS:
            out.append(f"bidirectional=True needs a recurrent cell but cell={self.cell!r}; "
                       "set bidirectional=False or pick cell 'lstm', 'gru' or 'rnn'")
        if self.cell == "convlstm" and _is_int(k) and k >= 1 and k % 2 == 0:
            out.append(f"temporal_kernel={k} is even, but cell='convlstm' pads its {k}x{k} gate convolutions "
                       f"to keep the map's size, which needs an odd kernel; use temporal_kernel={k - 1} or {k + 1}")
        if self.cell == "attention" and _is_int(heads) and _is_int(hidden) and \
                heads >= 1 and hidden >= 1 and hidden % heads:
            fits = [h for h in range(1, min(hidden, 16) + 1) if hidden % h == 0]
            out.append(f"hidden_size={hidden} is not divisible by num_heads={heads} (each head takes "
                       f"hidden_size / num_heads channels); use num_heads in {fits} "
                       f"or hidden_size={-(-hidden // heads) * heads}")
        return out

    def validate(self) -> "DCRNConfig":
        """Raise ValueError listing every problem (naming the parameter and its valid range); else self."""
        problems = self.problems()
        if problems:
            raise LabkitError("invalid DCRNConfig: " + "; ".join(problems))
        return self

    def _geometry_problems(self) -> list[str]:
        """Convolutions and pools must leave every frame at least 1x1 pixel."""
        if self.padding >= self.kernel_size:
            return [f"padding={self.padding} is too large for kernel_size={self.kernel_size}; "
                    f"the largest valid padding is {self.kernel_size - 1}"]
        n, size, k, pad, pool, stem = (len(self.conv_channels), self.img_size, self.kernel_size,
                                       self.padding, self.pool, self.stem_stride)
        sides = self.frame_sides()
        if all(p >= 1 for _, p in sides):
            return []
        fits = next(i for i, (_, p) in enumerate(sides) if p < 1)  # blocks that still fit
        geo = f"img_size={size} with kernel_size {k}, padding {pad}, pool {pool}" + \
            (f", stem_stride {stem}" if stem > 1 else "")
        fixes = [f"lower the number of blocks to <= {fits}" if fits else None,
                 f"raise img_size to >= {_smallest_size(n, k, pad, pool, stem)}"]

        def ok(**change) -> bool:  # does every frame survive with one setting changed?
            now = dict(size=size, blocks=n, kernel=k, padding=pad, pool=pool, stem_stride=stem)
            return all(p >= 1 for _, p in _sides(**{**now, **change}))

        best_k = max((kk for kk in range(pad + 1, k) if ok(kernel=kk)), default=None)
        if best_k is not None:
            fixes.append(f"lower kernel_size to <= {best_k}")
        best_pool = max((q for q in range(1, pool) if ok(pool=q)), default=None)
        if best_pool is not None:
            fixes.append(f"lower pool to <= {best_pool}")
        best_stem = max((s for s in range(1, stem) if ok(stem_stride=s)), default=None)
        if best_stem is not None:
            fixes.append(f"lower stem_stride to <= {best_stem}")
        return [f"conv_channels has {n} block{'s' if n != 1 else ''} but {geo} supports at most {fits}: "
                f"block {fits + 1} shrinks a frame below 1 pixel; " + " or ".join(f for f in fixes if f)]


def _is_int(v) -> bool:
    """v is a whole number (and not a bool)."""
    return isinstance(v, numbers.Integral) and not isinstance(v, bool)


def _sides(size: int, blocks: int, kernel: int, padding: int, pool: int,
           stem_stride: int = 1) -> list[tuple[int, int]]:
    """[(conv_side, pooled_side)] per block for a square frame of `size` pixels."""
    out = []
    for i in range(blocks):
        span = size + 2 * padding - kernel  # conv output side is span // stride + 1
        conv = span // (stem_stride if i == 0 else 1) + 1 if span >= 0 else 0
        size = conv // pool
        out.append((conv, size))
    return out


def _smallest_size(blocks: int, kernel: int, padding: int, pool: int, stem_stride: int = 1) -> int:
    """The smallest img_size whose frames survive `blocks` conv+pool blocks (walking back from 1 pixel)."""
    side = 1
    for i in reversed(range(blocks)):
        stride = stem_stride if i == 0 else 1
        side = max((side * pool - 1) * stride + kernel - 2 * padding, 1)
    return side
