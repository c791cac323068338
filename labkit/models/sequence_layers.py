"""The modules of the newer temporal models: a causal TCN block, a transformer encoder over frames
and a convolutional LSTM. Plain nn.Modules with their shapes; what a DCRN does with them (lengths,
readout, parameters and FLOPs) is their stage's job in `stages.py`.
"""
from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

FFN_MULT = 4  # width of an encoder layer's feed-forward block, in hidden_size units (as in the transformer paper)


# ---- tcn: dilated causal convolution over frames ----------------------------------------------
class CausalConvBlock(nn.Module):
    """One residual TCN block: (B, C_in, T) -> (B, C_out, T), y = res(x) + drop(relu(conv(x))).

    `conv` is a dilated Conv1d fed only by zeros on the left, so frame t sees frames
    t - (kernel-1)*dilation .. t and never a later one: padding after a clip cannot reach its
    frames. `res` is a 1x1 Conv1d when the channel count changes, else the identity; the plain
    residual path keeps gradients flowing through deep stacks.
    """

    def __init__(self, c_in: int, c_out: int, kernel: int, dilation: int, drop: float):
        super().__init__()
        self.left = (kernel - 1) * dilation
        self.conv = nn.Conv1d(c_in, c_out, kernel, dilation=dilation)
        self.act = nn.ReLU()
        self.drop = nn.Dropout(drop)
        self.res = nn.Conv1d(c_in, c_out, 1) if c_in != c_out else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.conv(F.pad(x, (self.left, 0)))  # (B, C_out, T): zeros before frame 0 only
        return self.res(x) + self.drop(self.act(y))


# ---- attention: a transformer encoder over frames ---------------------------------------------
def sinusoids(frames: int, dim: int, device=None, dtype=torch.float32) -> torch.Tensor:
    """The transformer's sinusoidal positions (frames, dim): sin/cos pairs over geometric wavelengths.

    Computed for any clip length (nothing to learn, nothing sized at construction); an odd dim
    drops the last cosine.
    """
    half = (dim + 1) // 2
    freq = torch.exp(torch.arange(half, device=device, dtype=torch.float64) * (-math.log(10000.0) / half))
    angle = torch.arange(frames, device=device, dtype=torch.float64)[:, None] * freq  # (T, half)
    return torch.stack([angle.sin(), angle.cos()], dim=-1).flatten(1)[:, :dim].to(dtype)  # (T, dim)


class EncoderLayer(nn.Module):
    """A pre-norm transformer encoder layer: (B, T, D), keep (B, T) bool or None -> (B, T, D).

    x + attention(norm(x)), then x + feed-forward(norm(x)). Written out instead of
    nn.TransformerEncoderLayer: in eval mode without gradients (predict_proba) that layer takes
    a fused fast path (nested tensors for masked batches) that torch's FLOP counter sees as 0
    FLOPs and that zeroes padded frames, while with gradients (training, attribution) it runs
    the plain ops: two code paths for one model. Here every matmul is one visible op, the same
    in every mode, and `models.summary` counts exactly what the FLOP counter sees.
    """

    def __init__(self, dim: int, heads: int, drop: float):
        super().__init__()
        self.heads = heads
        self.norm1 = nn.LayerNorm(dim)
        self.qkv = nn.Linear(dim, 3 * dim)
        self.out = nn.Linear(dim, dim)
        self.norm2 = nn.LayerNorm(dim)
        self.ff = nn.Sequential(nn.Linear(dim, FFN_MULT * dim), nn.GELU(), nn.Linear(FFN_MULT * dim, dim))
        self.drop = nn.Dropout(drop)

    def attend(self, x: torch.Tensor, keep: torch.Tensor | None) -> torch.Tensor:
        """Multi-head self-attention; padded frames (keep False) are never attended to."""
        B, T, D = x.shape
        q, k, v = self.qkv(x).view(B, T, 3, self.heads, D // self.heads).permute(2, 0, 3, 1, 4)  # 3 x (B, h, T, d)
        scores = (q @ k.transpose(-2, -1)) * (D // self.heads) ** -0.5  # (B, h, T, T)
        if keep is not None:  # a -inf score is an exact 0 weight: padding adds nothing to any sum
            scores = scores.masked_fill(~keep[:, None, None, :], float("-inf"))
        y = scores.softmax(-1) @ v  # (B, h, T, d)
        return self.out(y.transpose(1, 2).reshape(B, T, D))  # (B, T, D)

    def forward(self, x: torch.Tensor, keep: torch.Tensor | None = None) -> torch.Tensor:
        x = x + self.drop(self.attend(self.norm1(x), keep))
        return x + self.drop(self.ff(self.norm2(x)))


class FrameTransformer(nn.Module):
    """Frame vectors (B, T, F) [+ keep (B, T)] -> encoded frames (B, T, D).

    A linear projection to D, sinusoidal positions added, `layers` encoder layers, a final
    layer norm (pre-norm layers leave their sum unnormalised).
    """

    def __init__(self, in_dim: int, dim: int, heads: int, layers: int, drop: float):
        super().__init__()
        self.proj = nn.Linear(in_dim, dim)
        self.drop = nn.Dropout(drop)
        self.layers = nn.ModuleList([EncoderLayer(dim, heads, drop) for _ in range(layers)])
        self.norm = nn.LayerNorm(dim)

    def forward(self, feats: torch.Tensor, keep: torch.Tensor | None = None) -> torch.Tensor:
        x = self.proj(feats)  # (B, T, D)
        x = self.drop(x + sinusoids(x.shape[1], x.shape[2], x.device, x.dtype))
        for layer in self.layers:
            x = layer(x, keep)
        return self.norm(x)


# ---- convlstm: an LSTM whose state is a feature map --------------------------------------------
class ConvLSTMCell(nn.Module):
    """A convolutional LSTM layer over a sequence of maps: (B, T, C, h, w) -> hidden maps (B, T, H, h, w).

    The gates (i, f, g, o, PyTorch's order) are `x(x_t) + h(h_{t-1})`, two k x k convolutions
    with "same" padding: the input's share runs once on all B*T frames (one large conv instead
    of T small ones), the hidden map's share once per frame. `h` has a bias only for
    rnn_bias="double" (then each gate has two, as nn.LSTM). State starts at zero.
    """

    def __init__(self, c_in: int, hidden: int, kernel: int, hidden_bias: bool):
        super().__init__()
        self.hidden = hidden
        self.x = nn.Conv2d(c_in, 4 * hidden, kernel, padding=kernel // 2)
        self.h = nn.Conv2d(hidden, 4 * hidden, kernel, padding=kernel // 2, bias=hidden_bias)

    def forward(self, xs: torch.Tensor) -> torch.Tensor:
        B, T, _, height, width = xs.shape
        gx = self.x(xs.flatten(0, 1)).unflatten(0, (B, T))  # (B, T, 4H, h, w)
        h = c = gx.new_zeros(B, self.hidden, height, width)  # (B, H, h, w)
        out = []
        for t in range(T):
            i, f, g, o = (gx[:, t] + self.h(h)).chunk(4, dim=1)  # 4 x (B, H, h, w)
            c = f.sigmoid() * c + i.sigmoid() * g.tanh()
            h = o.sigmoid() * c.tanh()
            out.append(h)
        return torch.stack(out, dim=1)  # (B, T, H, h, w)


class ConvLSTM(nn.Module):
    """Stacked ConvLSTM layers over feature maps (B, T, C, h, w) -> the top layer's maps (B, T, H, h, w).

    `readout` (a frame readout, map (N, H, h, w) -> vector) is kept here for the stage to apply
    after choosing the frame(s) to read; `map_shape` is the (C, h, w) of the input maps.
    Dropout between layers, as nn.LSTM.
    """

    def __init__(self, map_shape: tuple[int, int, int], hidden: int, kernel: int, layers: int,
                 hidden_bias: bool, drop: float, readout: nn.Module):
        super().__init__()
        self.map_shape = map_shape
        chans = (map_shape[0], *[hidden] * layers)
        self.cells = nn.ModuleList([ConvLSTMCell(a, hidden, kernel, hidden_bias) for a in chans[:-1]])
        self.drop = nn.Dropout(drop if layers > 1 else 0.0)
        self.readout = readout

    def forward(self, maps: torch.Tensor) -> torch.Tensor:
        for i, cell in enumerate(self.cells):
            maps = cell(self.drop(maps) if i else maps)  # (B, T, H, h, w)
        return maps
