"""Widget responsiveness: how long one control change takes to redraw, and how heavy the
figures a notebook carries are. Measured in-process (no browser); the CPU is shared, so each
latency is the median of several moves."""
from __future__ import annotations

import numpy as np

from .timing import median_seconds


def rows(quick: bool = False) -> list[dict]:
    from labkit import viz
    from labkit.widgets import ModelBuilder

    n = 5 if quick else 25
    builder = ModelBuilder("default")
    hidden = builder.controls["hidden_size"]
    options = hidden.options

    def move(i):
        hidden.value = options[i % len(options)]

    table_ms = 1000 * median_seconds(move, n)
    builder.view.selected_index = 1  # diagram tab: the plotly figure is redrawn too
    diagram_ms = 1000 * median_seconds(move, n)
    rng = np.random.default_rng(0)
    clip = rng.integers(0, 256, (16, 64, 64, 3), dtype=np.uint8)  # noise: the worst case for PNG
    maps = rng.normal(size=(16, 64, 64))
    overlay_kb = len(viz.saliency_overlay(clip, maps).to_json()) / 1024
    player_kb = len(viz.clip_player(clip).to_json()) / 1024
    return [
        dict(name="ModelBuilder slider move (layer table)", value=round(table_ms, 1), unit="ms", target="<= 50",
             ok=table_ms <= 50, note="models.summary + HTML table + totals"),
        dict(name="ModelBuilder slider move (diagram tab)", value=round(diagram_ms, 1), unit="ms", target="<= 150",
             ok=diagram_ms <= 150, note="plus the plotly bars of params/FLOPs"),
        dict(name="saliency_overlay figure, 16x64x64 noise clip", value=round(overlay_kb), unit="kB",
             target="<= 600", ok=overlay_kb <= 600, note="PNG frames + int8 heatmaps, animated"),
        dict(name="clip_player figure, 16x64x64 noise clip", value=round(player_kb), unit="kB",
             target="<= 400", ok=player_kb <= 400, note="PNG frames"),
    ]
