"""`ModelBuilder`: sliders and dropdowns over a `DCRNConfig`, with its cost updated on every move.

Every change re-runs `models.summary` (analytic, ~1 ms), and that one summary is the source of
the three views: the totals, the layer table and the parameter/FLOP bars, all listing layers in
the order the model computes them. An invalid combination shows the config's own error message
instead of a traceback and greys out every view (they still show the last valid model, and say
so). `.config` and `.build_model()` hand the result back.
"""
from __future__ import annotations

import contextlib
import html

import ipywidgets as W
import pandas as pd
import plotly.graph_objects as go

from .. import models, viz
from ..viz.model import order_notes
from .html_table import html_table
from ..models.config import (ACTIVATIONS, CELLS, CNN_FIELDS, ENCODER_FIELDS, FRAME_ENCODERS, FRAME_READOUTS,
                             RNN_BIASES, TEMPORAL_FIELDS, TEMPORAL_READOUTS)

CHANNELS = (4, 8, 16, 24, 32, 48, 64, 96, 128, 192, 256)
HIDDEN = (8, 16, 32, 64, 96, 128, 192, 256, 384, 512)
HEAD = (0, 16, 32, 64, 128, 256)
HEADS = (1, 2, 4, 8, 16)
GAINS = (0.5, 0.9, 1.0, 1.1, 1.5, 2.0)
DEFAULT_GAIN = 0.0  # the recurrent-gain option that means None (PyTorch's initialisation); a gain is > 0
STALE = "labkit-stale"  # CSS class of a view that shows the last valid model, not the current controls
# (ipywidgets' Layout has no opacity: a class and this one style rule grey the views out)
STALE_STYLE = f"<style>.{STALE} {{opacity: 0.35; filter: grayscale(1);}}</style>"
SIZES = (16, 32, 48, 64, 96, 128)
TRAIN_BATCH = 32  # the batch the "training step" figure is quoted for
_WIDE = dict(style={"description_width": "110px"}, layout=W.Layout(width="330px"))


def _options(values, current) -> list:
    return sorted({*values, current})


def _gain_options(current) -> list:
    """(label, value) options of the recurrent gain; DEFAULT_GAIN stands for None."""
    gains = sorted({*GAINS, *([current] if current else [])})
    return [("PyTorch's init", DEFAULT_GAIN), *[(f"orthogonal x {g:g}", g) for g in gains]]


def _toggles(options, value, description: str) -> W.ToggleButtons:
    return W.ToggleButtons(options=options, value=value, description=description,
                           style={"description_width": "110px", "button_width": "auto"})


# the controls that set each config field a frame encoder may ignore (`DCRNConfig.unused_fields`);
# conv_channels is the block count plus `ModelBuilder.channel_controls`; stem_stride has no control
FIELD_CONTROLS = {"conv_channels": "blocks", **{f: f for f in CNN_FIELDS + ENCODER_FIELDS if f != "conv_channels"}}


def _encoder_options(current: str) -> list[str]:
    """The built-in frame encoders, and a user's ("package.module:qualname") when the config names one."""
    return [*FRAME_ENCODERS, *([current] if current not in FRAME_ENCODERS else [])]


def _cnn_controls(config: models.DCRNConfig, frames: int, max_blocks: int) -> dict:
    """The per-frame encoder's controls: which encoder, the hand-crafted ones' cell and bins, the
    CNN's layers (the channels per block are `ModelBuilder.channel_controls`)."""
    c = {}
    c["frame_encoder"] = _toggles(_encoder_options(config.frame_encoder), config.frame_encoder, "frame encoder")
    c["frame_encoder"].tooltip = ("cnn: learned conv blocks; sobel (edge energy), hog (oriented-gradient histograms), "
                                  "pixels (cell means): fixed, no parameters")
    c["encoder_cell"] = W.IntSlider(value=config.encoder_cell, min=1, max=max(16, config.encoder_cell),
                                    description="encoder cell", tooltip="sobel/hog/pixels: cell side in pixels",
                                    **_WIDE)
    c["hog_bins"] = W.IntSlider(value=config.hog_bins, min=2, max=max(18, config.hog_bins),
                                description="hog bins", tooltip="hog: orientation bins over 0..180 degrees", **_WIDE)
    c["img_size"] = W.Dropdown(options=_options(SIZES, config.img_size), value=config.img_size,
                               description="image size", **_WIDE)
    c["frames"] = W.IntSlider(value=frames, min=1, max=64, description="frames", **_WIDE)
    c["blocks"] = W.IntSlider(value=max(1, len(config.conv_channels)), min=1, max=max_blocks,
                              description="conv blocks", **_WIDE)
    c["kernel_size"] = W.IntSlider(value=config.kernel_size, min=1, max=9, step=1, description="kernel", **_WIDE)
    c["padding"] = W.IntSlider(value=config.padding, min=0, max=4, description="padding", **_WIDE)
    c["pool"] = W.Dropdown(options=[("none", 1), ("2x2", 2), ("3x3", 3), ("4x4", 4)], value=config.pool,
                           description="max pool", **_WIDE)
    c["batch_norm"] = W.Checkbox(value=config.batch_norm, description="batch norm", indent=False)
    c["activation"] = W.Dropdown(options=list(ACTIVATIONS), value=config.activation, description="activation", **_WIDE)
    c["frame_readout"] = _toggles(list(FRAME_READOUTS), config.frame_readout, "frame readout")
    return c


def _temporal_controls(config: models.DCRNConfig) -> dict:
    """The controls of the temporal model and the classifier head."""
    c = {}
    c["cell"] = _toggles(list(CELLS), config.cell, "cell")
    c["hidden_size"] = W.SelectionSlider(options=_options(HIDDEN, config.hidden_size), value=config.hidden_size,
                                         description="hidden size", **_WIDE)
    c["num_layers"] = W.IntSlider(value=config.num_layers, min=1, max=4, description="layers", **_WIDE)
    c["bidirectional"] = W.Checkbox(value=config.bidirectional, description="bidirectional", indent=False)
    c["temporal_readout"] = _toggles(list(TEMPORAL_READOUTS), config.temporal_readout, "temporal readout")
    c["temporal_kernel"] = W.IntSlider(value=config.temporal_kernel, min=1, max=9, description="temporal kernel",
                                       tooltip="tcn: frames per causal convolution; convlstm: k x k (odd)", **_WIDE)
    c["num_heads"] = W.Dropdown(options=_options(HEADS, config.num_heads), value=config.num_heads,
                                description="attention heads", **_WIDE)
    c["rnn_bias"] = _toggles(list(RNN_BIASES), config.rnn_bias, "gate biases")
    c["rnn_bias"].tooltip = "single: one bias per gate (Keras); double: PyTorch's b_ih + b_hh"
    c["recurrent_gain"] = W.Dropdown(options=_gain_options(config.recurrent_gain),
                                     value=config.recurrent_gain or DEFAULT_GAIN, description="recurrent gain",
                                     tooltip="rnn/lstm/gru: hidden-to-hidden weights orthogonal x gain", **_WIDE)
    c["drop_rate"] = W.FloatSlider(value=config.drop_rate, min=0.0, max=0.9, step=0.05, description="dropout",
                                   readout_format=".2f", **_WIDE)
    c["head_hidden"] = W.Dropdown(options=_options(HEAD, config.head_hidden), value=config.head_hidden,
                                  description="head hidden", **_WIDE)
    c["num_classes"] = W.BoundedIntText(value=config.num_classes, min=2, max=10_000, description="classes", **_WIDE)
    return c


class ModelBuilder(W.VBox):
    """Build a DCRN with controls; see its cost (layer shapes, parameters, FLOPs, memory) live.

    ModelBuilder(config=None, num_classes=None, frames=16, max_blocks=5, diagram=True)
    config: a DCRNConfig, a preset name ("seed", "default", "frame-only") or None (= "default").
    The cell control offers every cell; the controls a cell does not use are disabled
    (`DCRNConfig.unused_fields`). With cell "none" the temporal readout shows what the model does
    (a mean over time).
    Attributes: `.config` (DCRNConfig; raises ValueError while the controls are invalid),
    `.summary` (ModelSummary or None), `.error` (str or None), `.controls` (name -> widget),
    `.table` (HTML), `.totals` (HTML), `.message` (HTML), `.figure` (FigureWidget or None; redrawn
    while its tab in `.view` is selected), `.diagram` (the Box holding it), `.shown` (the
    ModelSummary the three views show: the last valid one; greyed out while the controls are invalid).
    `.build_model()` -> DCRN; `.set_config(cfg)` loads a config into the controls;
    `.on_change(fn)` calls fn(builder) after every update.
    """

    def __init__(self, config=None, num_classes: int | None = None, frames: int = 16,
                 max_blocks: int = 5, diagram: bool = True):
        preset = (config or "default") if isinstance(config, str) or config is None else "custom"
        if preset != "custom":
            config = models.preset_config(preset)
        if num_classes is not None:
            config = config.replace(num_classes=num_classes)
        self._base = config  # fields without a control (mean/std, max_frames, ...) come from here
        self._holding = False
        self._callbacks = []
        self.summary, self.error, self._shown, self._diagram_stale = None, None, None, False
        c = self.controls = {"preset": W.Dropdown(options=["custom", *models.PRESETS], value=preset,
                                                  description="preset", **_WIDE)}
        c.update(_cnn_controls(config, frames, max_blocks))
        c.update(_temporal_controls(config))
        self.channel_controls = [W.Dropdown(options=list(CHANNELS), value=32, description=f"block {i + 1}",
                                            style={"description_width": "50px"}, layout=W.Layout(width="125px"))
                                 for i in range(max_blocks)]
        # what cell "none" does instead of a readout, in place of the (unused) readout buttons
        self.fixed_readout = _toggles(["mean over time"], "mean over time", "temporal readout")
        self.fixed_readout.disabled = True
        self.totals = W.HTML()
        self.message = W.HTML(layout=W.Layout(display="none"))
        self.table = W.HTML(layout=W.Layout(overflow="auto"))
        self.figure = go.FigureWidget(viz.model_diagram(models.summary(config, frames=frames))) if diagram else None
        self.diagram = W.Box([self.figure]) if diagram else None
        self.view = W.Tab(children=[self.table] + ([self.diagram] if diagram else []),
                          titles=["layers", "diagram"][:1 + diagram])
        super().__init__([W.HTML(STALE_STYLE), c["preset"], self._control_panel(), self.message, self.totals,
                          self.view])
        self.add_class("labkit-model-builder")
        for view, name in ((self.message, "message"), (self.totals, "totals"), (self.table, "layer-table"),
                           (self.diagram, "diagram")):
            if view is not None:
                view.add_class(f"labkit-builder-{name}")  # for the browser tests and custom CSS

        self.set_config(config)
        for name, w in c.items():
            w.observe(self._on_preset if name == "preset" else self._on_control, names="value")
        for w in self.channel_controls:
            w.observe(self._on_control, names="value")
        self.view.observe(lambda _: self._draw_diagram(), names="selected_index")

    def _control_panel(self) -> W.HBox:
        """The CNN's controls (left) beside the temporal model's and the classifier's (right)."""
        c = self.controls
        cnn = W.VBox([W.HTML("<b>per-frame encoder</b>"), c["img_size"], c["frames"], c["frame_encoder"],
                      c["encoder_cell"], c["hog_bins"], c["blocks"],
                      W.HBox(self.channel_controls, layout=W.Layout(flex_flow="row wrap", width="330px")),
                      c["kernel_size"], c["padding"], c["pool"], c["activation"], c["batch_norm"], c["frame_readout"]])
        rnn = W.VBox([W.HTML("<b>over time</b>"), c["cell"], c["hidden_size"], c["num_layers"], c["bidirectional"],
                      c["temporal_readout"], self.fixed_readout, c["temporal_kernel"], c["num_heads"], c["rnn_bias"],
                      c["recurrent_gain"], W.HTML("<b>classifier</b>"), c["drop_rate"], c["head_hidden"],
                      c["num_classes"]])
        return W.HBox([cnn, rnn])

    # ---- reading and writing the controls -----------------------------------------------------
    def _read(self) -> models.DCRNConfig:
        c = self.controls
        chans = tuple(w.value for w in self.channel_controls[:c["blocks"].value])
        gain = c["recurrent_gain"].value
        return self._base.replace(
            frame_encoder=c["frame_encoder"].value, encoder_cell=c["encoder_cell"].value,
            hog_bins=c["hog_bins"].value, img_size=c["img_size"].value, conv_channels=chans, kernel_size=c["kernel_size"].value,
            padding=c["padding"].value, pool=c["pool"].value, batch_norm=c["batch_norm"].value,
            activation=c["activation"].value, frame_readout=c["frame_readout"].value, cell=c["cell"].value,
            hidden_size=c["hidden_size"].value, num_layers=c["num_layers"].value,
            bidirectional=c["bidirectional"].value, temporal_readout=c["temporal_readout"].value,
            temporal_kernel=c["temporal_kernel"].value, num_heads=c["num_heads"].value,
            rnn_bias=c["rnn_bias"].value, recurrent_gain=None if gain == DEFAULT_GAIN else gain,
            drop_rate=round(c["drop_rate"].value, 4), head_hidden=c["head_hidden"].value,
            num_classes=c["num_classes"].value)

    @contextlib.contextmanager
    def hold_updates(self):
        """Change several controls, then update once: `with builder.hold_updates(): ...`."""
        held, self._holding = self._holding, True
        try:
            yield self
        finally:
            self._holding = held
            if not held:
                self._update()

    def set_config(self, config: models.DCRNConfig) -> None:
        """Load a config into the controls (its other fields, e.g. mean/std, are kept too)."""
        self._base = config
        c = self.controls
        with self.hold_updates():
            c["img_size"].options = _options(SIZES, config.img_size)
            c["blocks"].max = max(c["blocks"].max, len(config.conv_channels))
            c["blocks"].value = len(config.conv_channels)
            for w, ch in zip(self.channel_controls, config.conv_channels):
                w.options = _options(CHANNELS, ch)
                w.value = ch
            c["hidden_size"].options = _options(HIDDEN, config.hidden_size)
            c["head_hidden"].options = _options(HEAD, config.head_hidden)
            c["num_heads"].options = _options(HEADS, config.num_heads)
            c["recurrent_gain"].options = _gain_options(config.recurrent_gain)
            c["recurrent_gain"].value = config.recurrent_gain or DEFAULT_GAIN
            c["frame_encoder"].options = _encoder_options(config.frame_encoder)
            for name, w in (("encoder_cell", c["encoder_cell"]), ("hog_bins", c["hog_bins"])):
                w.max = max(w.max, getattr(config, name))
            for name in ("frame_encoder", "encoder_cell", "hog_bins", "img_size", "kernel_size", "padding", "pool",
                         "batch_norm", "activation", "frame_readout",
                         "cell", "hidden_size", "num_layers", "bidirectional", "temporal_readout", "temporal_kernel",
                         "num_heads", "rnn_bias", "drop_rate", "head_hidden", "num_classes"):
                c[name].value = getattr(config, name)

    def _on_preset(self, change) -> None:
        if change["new"] != "custom":
            self.set_config(models.preset_config(change["new"], num_classes=self.controls["num_classes"].value))

    def _on_control(self, change) -> None:
        if not self._holding:
            self.controls["preset"].unobserve(self._on_preset, names="value")
            self.controls["preset"].value = "custom"  # a hand-made change leaves the preset
            self.controls["preset"].observe(self._on_preset, names="value")
        self._update()

    # ---- the live view --------------------------------------------------------------------------
    @property
    def shown(self):
        """The ModelSummary the totals, the table and the diagram show (None before any valid one)."""
        return None if self._shown is None else self._shown[0]

    def _update(self) -> None:
        if self._holding:
            return
        c = self.controls
        for i, w in enumerate(self.channel_controls):
            w.layout.display = None if i < c["blocks"].value else "none"
        self._grey_out_unused()
        try:
            config = self._read()
            summary = models.summary(config, frames=c["frames"].value)
        except (ValueError, TypeError) as e:
            self.summary, self.error = None, str(e)
            self._show_invalid(str(e))
        else:
            self.summary, self.error = summary, None
            self._shown = (summary, config, c["frames"].value)
            self._show_valid()
        self._show_readout()
        for fn in self._callbacks:
            fn(self)

    def _show_valid(self) -> None:
        """Totals, table and (when shown) diagram from the one new summary, at full strength."""
        summary, config, frames = self._shown
        self.message.layout.display = "none"
        self.message.value = ""
        self.totals.value = _totals_html(summary, config, frames)
        self.table.value = _table_html(summary)
        self._diagram_stale = True
        self._grey_views(False)
        self._draw_diagram()

    def _show_invalid(self, error: str) -> None:
        """The config's message; every view greyed out (they show the last valid model)."""
        stale = " The greyed-out figures below are the last valid model's, not these settings." \
            if self._shown is not None else ""
        self.message.value = (f'<div style="color:#a40000;background:#fdecea;border-left:4px solid #a40000;'
                              f'padding:6px 10px">⚠ {html.escape(error)}<i>{stale}</i></div>')
        self.message.layout.display = None
        self._grey_views(True)

    def _grey_views(self, grey: bool) -> None:
        for view in (self.totals, self.table, self.diagram):
            if view is not None:
                (view.add_class if grey else view.remove_class)(STALE)

    def _show_readout(self) -> None:
        """Cell "none" has no readout choice: show what its summary says it does instead."""
        c = self.controls
        fixed = c["cell"].value == "none"
        c["temporal_readout"].layout.display = "none" if fixed else None
        self.fixed_readout.layout.display = None if fixed else "none"
        if fixed and self.summary is not None:
            rows = self.summary.table[self.summary.table["layer"] == "temporal"]
            if len(rows):
                self.fixed_readout.options = [str(rows["type"].iloc[0])]

    def _grey_out_unused(self) -> None:
        """Disable the controls the chosen cell and frame encoder ignore (`DCRNConfig.unused_fields`):
        a hand-crafted encoder has no conv blocks, the CNN no encoder cell. A checked
        "bidirectional" stays enabled: the cell refuses it, and the message asks to uncheck it."""
        c = self.controls
        unused = self._read().unused_fields()
        for name in TEMPORAL_FIELDS:
            c[name].disabled = name in unused and not (name == "bidirectional" and c[name].value)
        for field, name in FIELD_CONTROLS.items():
            if name in c:
                c[name].disabled = field in unused
        for w in self.channel_controls:
            w.disabled = "conv_channels" in unused

    def _draw_diagram(self) -> None:
        """Redraw the diagram from `.shown` only while its tab shows: plotly's validation costs
        ~50 ms, the table ~2 ms, and sliders fire on every step of a drag."""
        if self.figure is None or self._shown is None or not self._diagram_stale or self.view.selected_index != 1:
            return
        fresh = viz.model_diagram(self._shown[0])
        with self.figure.batch_update():
            for old, new in zip(self.figure.data, fresh.data):
                old.update(x=new.x, y=new.y, text=new.text, customdata=new.customdata)
            self.figure.layout.title = fresh.layout.title
            for axis in ("xaxis", "xaxis2"):  # bars at 0, 1, ...: the layer names are the tick labels
                self.figure.layout[axis].update(tickvals=fresh.layout[axis].tickvals,
                                                ticktext=fresh.layout[axis].ticktext)
        self._diagram_stale = False

    def on_change(self, fn) -> None:
        """Call `fn(builder)` after every update (valid or not)."""
        self._callbacks.append(fn)

    # ---- results --------------------------------------------------------------------------------
    @property
    def frames(self) -> int:
        return self.controls["frames"].value

    @property
    def config(self) -> models.DCRNConfig:
        """The DCRNConfig the controls describe; ValueError (the config's message) while invalid."""
        return self._read().validate()

    def build_model(self, seed: int | None = None) -> models.DCRN:
        """A fresh DCRN of the current config; `seed` makes its initial weights reproducible."""
        return models.build(self.config, seed=seed)


def _totals_html(summary, config, frames: int) -> str:
    t = summary.totals
    train = models.training_flops(config, batch=TRAIN_BATCH, frames=frames)
    cells = [("parameters", f"{t['params']:,}", f"{viz.format_count(t['param_bytes'], 'B')} in fp32"),
             ("forward FLOPs", viz.format_count(t["flops_per_clip"]), f"per {frames}-frame clip"),
             ("training FLOPs", viz.format_count(train), f"per step, batch {TRAIN_BATCH}"),
             ("activations", viz.format_count(t["activation_bytes"], "B"), "per clip, forward"),
             ("frame vector", f"{t['frame_dim']:,}", "features per frame into the temporal model")]
    boxes = "".join(f'<div style="padding:4px 14px;border-right:1px solid #ddd"><div style="font-size:11px;'
                    f'color:#666">{k}</div><div style="font-size:18px;font-weight:600">{v}</div>'
                    f'<div style="font-size:11px;color:#888">{n}</div></div>' for k, v, n in cells)
    return f'<div style="display:flex;flex-wrap:wrap;margin:6px 0">{boxes}</div>'


def _table_html(summary) -> str:
    """The layer table, in the order the model computes; a note where print(model) lists otherwise."""
    t = summary.table
    table = pd.DataFrame({
        "layer": t["layer"], "type": t["type"],
        "output shape": ["×".join(map(str, s[1:])) for s in t["output_shape"]],  # drop the batch dim
        "parameters": t["params"],
        "FLOPs": [viz.format_count(v) for v in t["flops"]],
        "activations": [viz.format_count(v, "B") for v in t["activation_bytes"]],
    })
    notes = order_notes(summary)
    if any(notes):
        table["note: computed order vs print(model)"] = notes
    return html_table(table, nowrap=("layer", "type", "output shape", "FLOPs", "activations"))  # notes wrap
