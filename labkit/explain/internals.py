"""A look inside a DCRN: what each stage computes for one clip, frame by frame.

    inside = explain.look_inside(model, clip)   # an `Internals`
    inside.block_maps[i]     # (T, C_i, h_i, w_i): conv block i's output for every frame
    inside.keypoints         # `Keypoints` (x, y, strength: (T, C) each) for the keypoints readout, else None
    inside.temporal          # [`Series`]: (T, K) each, in the order the model computes them
    inside.probabilities     # (K,): the model's class probabilities for the clip

Recurrent states and gates (nn.LSTM, nn.GRU, nn.RNN, the ConvLSTM) are recomputed step by
step from the layer's own weights with the equations PyTorch documents, because a fused
recurrent layer hands back only its hidden states; tests compare those with the layer's output.
The TCN, the attention encoder and the mean over time show their per-frame outputs (and the
encoder its attention weights). Everything runs in eval mode without gradients.
"""
from __future__ import annotations

import contextlib
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn as nn

from labkit.models.sequence_layers import sinusoids
from labkit.models.stages import keypoints as keypoint_readout

from .core import check_clips

MAX_SHOWN_FEATURES = 1024  # frame vectors wider than this (a flattened map) are not worth a heatmap


@dataclass(frozen=True)
class Series:
    """One quantity over time: `values` (T, K) for the T frames and K units (or channels, or frames).

    kind: "state" (signed: hidden and cell states, candidates, outputs), "gate" (a sigmoid,
    0..1), "weights" (attention: each row sums to 1 over the K = T frames) or "features"
    (the frame vectors the temporal model reads). `help` says what it is, in a sentence.
    """

    name: str
    values: np.ndarray
    kind: str = "state"
    help: str = ""


@dataclass(frozen=True)
class Keypoints:
    """Where each channel of the last conv block fires, per frame: what the `keypoints` readout
    passes on. x, y (T, C): soft-argmax position in map cells from the map's centre; strength
    (T, C): the channel's mean activation. map_shape: (h, w) of the map they were read from."""

    x: np.ndarray
    y: np.ndarray
    strength: np.ndarray
    map_shape: tuple[int, int]

    def in_pixels(self, frame_size: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
        """x, y (T, C) in the frame's pixel coordinates (frame_size = (H, W)): a map cell
        covers H/h x W/w pixels and its value sits at the centre of that patch."""
        (h, w), (H, W) = self.map_shape, frame_size
        return ((self.x + (w - 1) / 2 + 0.5) * (W / w) - 0.5,
                (self.y + (h - 1) / 2 + 0.5) * (H / h) - 0.5)


@dataclass(frozen=True)
class Internals:
    """Everything `look_inside` saw for one clip of T frames.

    clip: uint8 (T, H, W, C) as given; block_maps: [(T, C_i, h_i, w_i)] float32, one per conv
    block (after its pooling); block_names: their module names ("blocks.0", ...); keypoints: a
    `Keypoints` or None; temporal: [`Series`]; probabilities (K,); cell: the config's cell;
    notes: what is not shown and why (one sentence each).
    """

    clip: np.ndarray
    block_maps: list[np.ndarray]
    block_names: list[str]
    keypoints: Keypoints | None
    temporal: list[Series]
    probabilities: np.ndarray
    cell: str
    notes: list[str] = field(default_factory=list)

    @property
    def frames(self) -> int:
        return len(self.clip)

    def series(self, name: str) -> Series:
        """The temporal series called `name`; a KeyError lists the names."""
        for s in self.temporal:
            if s.name == name:
                return s
        raise KeyError(f"no series {name!r}; there are {[s.name for s in self.temporal]}")


@contextlib.contextmanager
def _inspecting(model: nn.Module):
    """Eval mode and no gradients for the call; the training flag is put back afterwards."""
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            yield model
    finally:
        model.train(was_training)


def look_inside(model, clip) -> Internals:
    """What `model` (a DCRN) computes for one uint8 clip (T, H, W, C), stage by stage.

    Returns an `Internals`: every conv block's maps per frame, the keypoints the readout passes
    on (for frame_readout="keypoints"), the temporal model's states over time and the class
    probabilities. A clip the model cannot take raises a LabkitError naming the fix.
    """
    x = check_clips(model, clip)[0]  # (T, C, H, W) normalised
    notes = []
    with _inspecting(model):
        maps = block_maps(model, x)  # [(T, C_i, h_i, w_i)]
        feats = model.frame_readout(maps[-1] if maps else x)  # (T, F): as encode_frames, the CNN run once
        probs = torch.softmax(model.forward_head(model.temporal(feats[None])).float(), -1)[0]
        temporal = temporal_series(model, feats)
    points = None
    if model.frame_readout.kind == "keypoints" and maps:
        points = keypoint_tracks(maps[-1])
    elif model.config.frame_readout == "keypoints" and model.config.cell == "convlstm":
        notes.append("the ConvLSTM reads keypoints from its hidden map after the last frame, not from every "
                     "frame's conv maps, so there are no per-frame keypoints to show")
    if feats.shape[1] > MAX_SHOWN_FEATURES:
        notes.append(f"the frame vectors ({feats.shape[1]:,} numbers per frame, a flattened map) are left out "
                     f"of the series: too many to read as a heatmap")
    return Internals(clip=np.asarray(clip), block_maps=[m.float().cpu().numpy() for m in maps],
                     block_names=[f"blocks.{i}" for i in range(len(maps))], keypoints=points,
                     temporal=temporal, probabilities=probs.cpu().numpy(), cell=model.config.cell, notes=notes)


def block_maps(model, x: torch.Tensor) -> list[torch.Tensor]:
    """Every conv block's output for frames x (T, C, H, W) (normalised): [(T, C_i, h_i, w_i)]."""
    out = []
    for block in model.blocks:
        x = block(x)
        out.append(x.contiguous())
    return out


def keypoint_tracks(maps) -> Keypoints:
    """Maps (T, C, h, w) -> `Keypoints`: the model's own `keypoints` readout, split into x, y, strength."""
    m = torch.as_tensor(maps)
    T, C, h, w = m.shape
    x, y, strength = keypoint_readout(m).float().cpu().numpy().reshape(T, 3, C).transpose(1, 0, 2)
    return Keypoints(x=x, y=y, strength=strength, map_shape=(h, w))


# ---- the temporal model ------------------------------------------------------------------------

def temporal_series(model, feats: torch.Tensor) -> list[Series]:
    """The temporal model's series for one clip's frame vectors feats (T, F), input first."""
    out = []
    if feats.shape[1] <= MAX_SHOWN_FEATURES:
        what = "the head reads their mean over time" if model.config.cell == "none" else "the temporal model reads them"
        out.append(Series("frame vectors (input)", _np(feats), "features",
                          f"one vector per frame from the frame readout; {what}"))
    module, cell = model.temporal_module, model.config.cell
    if cell in ("rnn", "lstm", "gru"):
        out += recurrent_series(module, feats)
    elif cell == "tcn":
        out += tcn_series(module, feats)
    elif cell == "attention":
        out += attention_series(module, feats)
    elif cell == "convlstm":
        C, h, w = module.map_shape
        out += convlstm_series(module, feats.unflatten(1, (h, w, C)).permute(0, 3, 1, 2))  # (T, C, h, w)
    return out


def _np(t: torch.Tensor) -> np.ndarray:
    return t.detach().float().cpu().numpy()


def _label(what: str, layer: int, layers: int, direction: str = "") -> str:
    """A series name: "hidden state h", "layer 2 · forget gate f", "layer 1 backward · hidden state h"."""
    where = " ".join(p for p in (f"layer {layer + 1}" if layers > 1 else "", direction) if p)
    return f"{where} · {what}" if where else what


LSTM_PARTS = (  # name, kind, help; in the order `lstm_steps` returns them
    ("hidden state h", "state", "h = o * tanh(c): what the layer passes on at each frame"),
    ("cell state c", "state", "c = f * c + i * g: the layer's memory"),
    ("input gate i", "gate", "how much of the new candidate g enters the memory (1: all)"),
    ("forget gate f", "gate", "how much of the memory is kept (1: kept, 0: wiped)"),
    ("cell input g", "state", "the candidate written into the memory, tanh of the input and h"),
    ("output gate o", "gate", "how much of the memory is shown as h"),
)
GRU_PARTS = (
    ("hidden state h", "state", "h = (1 - z) * n + z * h: the state passed on at each frame"),
    ("reset gate r", "gate", "how much of the old state feeds the candidate n"),
    ("update gate z", "gate", "how much of the old state is kept (1: kept, 0: replaced by n)"),
    ("candidate n", "state", "the new state proposed from the frame and the reset old state"),
)
RNN_PARTS = (("hidden state h", "state", "h = tanh(W x + U h + b): the whole state, rewritten at every frame"),)


def lstm_steps(gx: torch.Tensor, hidden_term) -> tuple[torch.Tensor, ...]:
    """An LSTM over time from its input projections gx (T, 4H, ...) (input, forget, cell, output
    gate blocks, PyTorch's order, bias included) and `hidden_term(h)` -> (4H, ...) (the hidden
    projection and its bias). State starts at zero. Returns h, c, i, f, g, o, each (T, H, ...)."""
    H = gx.shape[1] // 4
    h = c = gx.new_zeros(H, *gx.shape[2:])
    steps = []
    for t in range(gx.shape[0]):
        i, f, g, o = (gx[t] + hidden_term(h)).chunk(4)
        i, f, g, o = i.sigmoid(), f.sigmoid(), g.tanh(), o.sigmoid()
        c = f * c + i * g
        h = o * c.tanh()
        steps.append((h, c, i, f, g, o))
    return tuple(torch.stack(parts) for parts in zip(*steps))


def gru_steps(gx: torch.Tensor, w_hh: torch.Tensor, b_hh: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """A GRU over time from its input projections gx (T, 3H) (reset, update, new; bias b_ih
    included), w_hh (3H, H), b_hh (3H,). Returns h, r, z, n, each (T, H)."""
    h = gx.new_zeros(w_hh.shape[1])
    steps = []
    for t in range(gx.shape[0]):
        xr, xz, xn = gx[t].chunk(3)
        hr, hz, hn = (w_hh @ h + b_hh).chunk(3)
        r, z = (xr + hr).sigmoid(), (xz + hz).sigmoid()
        n = (xn + r * hn).tanh()
        h = (1 - z) * n + z * h
        steps.append((h, r, z, n))
    return tuple(torch.stack(parts) for parts in zip(*steps))


def rnn_steps(gx: torch.Tensor, w_hh: torch.Tensor, b_hh: torch.Tensor, act) -> tuple[torch.Tensor]:
    """A plain RNN over time: h = act(gx[t] + w_hh h + b_hh); gx (T, H) holds W_ih x + b_ih. Returns (h (T, H),)."""
    h = gx.new_zeros(w_hh.shape[1])
    out = []
    for t in range(gx.shape[0]):
        h = act(gx[t] + w_hh @ h + b_hh)
        out.append(h)
    return (torch.stack(out),)


def _weights(rnn: nn.RNNBase, layer: int, suffix: str) -> tuple[torch.Tensor, ...]:
    """w_ih, w_hh, b_ih, b_hh of one layer and direction (zeros where the layer has no bias;
    a fixed zero buffer, as labkit's single-bias layers hold b_hh, reads like any other)."""
    w_ih, w_hh = (getattr(rnn, f"weight_{k}_l{layer}{suffix}") for k in ("ih", "hh"))
    if not rnn.bias:
        zeros = w_ih.new_zeros(w_ih.shape[0])
        return w_ih, w_hh, zeros, zeros
    return w_ih, w_hh, getattr(rnn, f"bias_ih_l{layer}{suffix}"), getattr(rnn, f"bias_hh_l{layer}{suffix}")


def _direction(rnn: nn.RNNBase, x: torch.Tensor, layer: int, reverse: bool) -> tuple[torch.Tensor, ...]:
    """One layer, one direction over x (T, in): its parts in time order, as `*_steps` return them."""
    w_ih, w_hh, b_ih, b_hh = _weights(rnn, layer, "_reverse" if reverse else "")
    gx = x.flip(0) @ w_ih.T + b_ih if reverse else x @ w_ih.T + b_ih  # (T, G*H)
    if rnn.mode == "LSTM":
        parts = lstm_steps(gx, lambda h: w_hh @ h + b_hh)
    elif rnn.mode == "GRU":
        parts = gru_steps(gx, w_hh, b_hh)
    else:
        parts = rnn_steps(gx, w_hh, b_hh, torch.tanh if rnn.mode == "RNN_TANH" else torch.relu)
    return tuple(p.flip(0) for p in parts) if reverse else parts


def recurrent_series(rnn: nn.RNNBase, feats: torch.Tensor) -> list[Series]:
    """States and gates of every layer and direction of an nn.LSTM / nn.GRU / nn.RNN (batch_first,
    no projection) over one clip's frame vectors feats (T, F); the hidden states of the last layer
    (forward then backward) equal the layer's own output (T, dirs*H)."""
    table = {"LSTM": LSTM_PARTS, "GRU": GRU_PARTS}.get(rnn.mode, RNN_PARTS)
    dirs = 2 if rnn.bidirectional else 1
    x, out = feats, []
    for layer in range(rnn.num_layers):
        hidden = []
        for d in range(dirs):
            parts = _direction(rnn, x, layer, reverse=d == 1)
            direction = ("forward", "backward")[d] if dirs == 2 else ""
            out += [Series(_label(name, layer, rnn.num_layers, direction), _np(p), kind, help)
                    for (name, kind, help), p in zip(table, parts)]
            hidden.append(parts[0])
        x = torch.cat(hidden, dim=1)  # (T, dirs*H): the next layer's input (no dropout in eval mode)
    return out


def tcn_series(tcn: nn.Sequential, feats: torch.Tensor) -> list[Series]:
    """Each causal conv block's output over one clip's frame vectors feats (T, F): [(T, H)]."""
    x, out, field_ = feats.T[None], [], 1  # (1, F, T)
    for i, block in enumerate(tcn):
        x = block(x)
        field_ += block.left
        out.append(Series(_label("block output", i, len(tcn)), _np(x[0].T), "state",
                          f"frame t's output sees frames t-{field_ - 1}..t (causal: never a later one)"))
    return out


def attention_series(encoder: nn.Module, feats: torch.Tensor) -> list[Series]:
    """Per layer of a `FrameTransformer`: its attention weights (T, T), the mean over heads of
    how much each frame (row) reads every frame (column), and its output (T, D); then the final
    layer norm's output (T, D), which the readout reads."""
    x = encoder.proj(feats[None])  # (1, T, D)
    T, D = x.shape[1:]
    x = x + sinusoids(T, D, x.device, x.dtype)  # the encoder's own positions
    out, layers = [], len(encoder.layers)
    for i, layer in enumerate(encoder.layers):
        q, k, _ = layer.qkv(layer.norm1(x)).view(1, T, 3, layer.heads, D // layer.heads).permute(2, 0, 3, 1, 4)
        weights = ((q @ k.transpose(-2, -1)) * (D // layer.heads) ** -0.5).softmax(-1)  # (1, heads, T, T)
        out.append(Series(_label("attention weights", i, layers), _np(weights[0].mean(0)), "weights",
                          "row t: how much frame t reads each frame (columns), mean over heads"))
        x = layer(x)
        out.append(Series(_label("layer output", i, layers), _np(x[0]), "state",
                          "each frame's vector after attending to the whole clip"))
    out.append(Series("output (layer norm)", _np(encoder.norm(x)[0]), "state", "what the readout reads"))
    return out


def convlstm_series(convlstm: nn.Module, maps: torch.Tensor) -> list[Series]:
    """States and gates of every ConvLSTM layer over one clip's feature maps (T, C, h, w), each
    averaged over the map's positions -> (T, H); the top layer's hidden maps equal the module's output."""
    out, layers = [], len(convlstm.cells)
    for i, cell in enumerate(convlstm.cells):
        gx = cell.x(maps)  # (T, 4H, h, w)
        parts = lstm_steps(gx, lambda h, cell=cell: cell.h(h[None])[0])
        out += [Series(_label(name + " (mean over the map)", i, layers), _np(p.mean((2, 3))), kind, help)
                for (name, kind, help), p in zip(LSTM_PARTS, parts)]
        maps = parts[0]  # (T, H, h, w): the next layer's input
    return out
