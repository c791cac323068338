"""`ExportControls`: write the explanation on screen to a file for a talk or a paper — an MP4 or
GIF of the clip with its heatmap overlaid frame by frame (`explain.export`), or a standalone HTML
page (`viz.explanation_page`)."""
from __future__ import annotations

import html
from pathlib import Path

import ipywidgets as W

from labkit.errors import LabkitError
from .. import explain, viz

FORMATS = (".gif", ".mp4", ".html")


class ExportControls(W.HBox):
    """ExportControls(source): `source()` returns what is on screen as a dict with `clip` uint8
    (T, H, W, C), `attribution`, `probabilities` (K,), `classes`, `label` and `title` (or None when
    nothing is shown). `.path` (Text), `.fps` (FloatText), `.button`; `.status` says what was
    written (frames, size, bytes) or why not; `.written` is the last file written."""

    def __init__(self, source, path: str = "explained.gif", fps: float = 4.0):
        self._source, self.written = source, None
        self.path = W.Text(value=path, description="export to", placeholder="file.gif | file.mp4 | file.html",
                           style={"description_width": "70px"}, layout=W.Layout(width="320px"))
        self.fps = W.BoundedFloatText(value=fps, min=0.5, max=60, step=0.5, description="fps",
                                      style={"description_width": "30px"}, layout=W.Layout(width="110px"))
        self.button = W.Button(description="export", icon="download", button_style="primary",
                               tooltip="write the clip with its heatmap: GIF or MP4 (frame by frame) or an HTML page")
        self.status = W.HTML()
        self.button.on_click(lambda _: self.export())
        super().__init__([self.path, self.fps, self.button, self.status],
                         layout=W.Layout(flex_flow="row wrap", align_items="center"))

    def export(self) -> Path | None:
        """Write what `source()` shows to `.path`; returns the path (None on a problem, said in `.status`)."""
        shown = self._source()
        path = Path(self.path.value.strip()).expanduser()
        try:
            if shown is None or shown.get("attribution") is None:
                raise LabkitError("nothing to export: no heatmap is shown")
            if path.suffix.lower() not in FORMATS:
                raise LabkitError(f"{path.name or 'the file'}: name a {', '.join(FORMATS)} file")
            if path.suffix.lower() == ".html":
                page = viz.explanation_page(shown["clip"], shown["attribution"], shown["probabilities"],
                                            shown["classes"], label=shown.get("label"), title=shown.get("title", ""))
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(page, encoding="utf-8")
            else:
                explain.export(shown["clip"], shown["attribution"], path, fps=float(self.fps.value))
        except (LabkitError, OSError) as e:
            self.status.value = f'<span style="color:#a40000">⚠ {html.escape(str(e))}</span>'
            return None
        self.written = path
        T = len(shown["clip"])
        self.status.value = (f"<small>wrote <code>{html.escape(str(path))}</code>: {T} frames, "
                             f"{path.stat().st_size / 1024:.0f} KiB</small>")
        return path
