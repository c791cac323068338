"""One standalone HTML page for one explained clip, composed from viz figures: the frames with
their heatmaps (`saliency_strip`), frame importance (`frame_importance`) and the prediction
(`class_probabilities`). Plotly's JavaScript is inlined once, so the page opens anywhere with
no network and no server.
"""
from __future__ import annotations

import html

import numpy as np

from .evaluation import class_probabilities
from .saliency import frame_importance, saliency_strip

PAGE_COLUMNS = 8  # frames per row at most: a 16-frame clip wraps onto two rows that fit a page


def explanation_page(clip: np.ndarray, attribution, probabilities: np.ndarray, classes: list[str],
                     label: int | None = None, evidence_frames: np.ndarray | None = None, title: str = "") -> str:
    """The whole page as one HTML string, for `labkit explain` and for sharing from a notebook.

    clip: uint8 (T, H, W, C); attribution: an `explain.Attribution` of that one clip;
    probabilities (K,): the model's class probabilities for it; classes: K names; label: the
    true class index; evidence_frames (T,) bool: frames known to carry the class (drawn red).
    The page states the method and its parameters, the explained, predicted and true class,
    the probability and, for methods with a convergence delta, how well the attributions add up.
    """
    target = int(attribution.target[0])
    rows = -(-len(clip) // PAGE_COLUMNS)  # balanced rows: 10 frames wrap as 5 + 5, not 8 + 2
    figures = [saliency_strip(clip, {attribution.method: attribution}, columns=-(-len(clip) // rows),
                              title="where: |attribution| on every frame (% of the clip's peak)"),
               frame_importance(attribution.frame_scores[0], evidence_frames),
               class_probabilities(probabilities, classes, target=target, label=label)]
    parts = [fig.to_html(full_html=False, include_plotlyjs="inline" if i == 0 else False)
             for i, fig in enumerate(figures)]
    heading = html.escape(title or "labkit explanation")
    return ("<!DOCTYPE html><html><head><meta charset='utf-8'>"
            f"<title>{heading}</title></head><body style='font-family: sans-serif; margin: 1em 2em'>"
            f"<h2>{heading}</h2><p>{_facts(attribution, classes, label)}</p>"
            + "\n".join(parts) + "</body></html>")


def _facts(attribution, classes: list[str], label: int | None) -> str:
    """The page's line of facts about the explanation, as escaped HTML."""
    params = ", ".join(f"{k}={v}" for k, v in attribution.params.items() if v is not None)
    target, predicted = int(attribution.target[0]), int(attribution.predicted[0])
    facts = (f"method <b>{html.escape(attribution.method)}</b> ({html.escape(params)}); "
             f"explained class <b>{html.escape(classes[target])}</b>; predicted "
             f"<b>{html.escape(classes[predicted])}</b> with probability {attribution.probability[0]:.3f}")
    if label is not None:
        facts += f"; true class <b>{html.escape(classes[label])}</b>"
    if note := attribution.completeness_note():  # integrated gradients, DeepLift: do they add up?
        facts += f"<br><small>{html.escape(note)}</small>"
    return facts
