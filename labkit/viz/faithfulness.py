"""Are the explanations faithful? Deletion/insertion curves, the randomisation cascade and the
summary of `explain.evaluate_faithfulness`, as figures.

Each takes a `FaithfulnessReport`, a list of them (one line or bar per method, as
`FaithfulnessReport.concat` would combine them) or the DataFrame of the table it draws.
"""
from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from labkit.errors import LabkitError
from .. import explain

ATTR_COLOR, RANDOM_COLOR = "#d62728", "#7f7f7f"
METHOD_COLORS = ("#1f77b4", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf")
CURVES = ("deletion", "insertion")
RANDOM = "random order (mean)"  # the reference line's name, and its key among the methods' lines
CHECK_OF = {"curves": "deletion", "randomization": "randomization"}  # the check that makes a table


def _table(source, name: str) -> pd.DataFrame:
    """A DataFrame as it is, or the `name` table of a FaithfulnessReport or of several
    (concatenated), with a `method` column ("" where a bare table had none)."""
    if not isinstance(source, pd.DataFrame):
        reports = [source] if isinstance(source, explain.FaithfulnessReport) else list(source)
        report = explain.FaithfulnessReport.concat(reports)
        source = getattr(report, name)
        if source is None:
            raise LabkitError(f"the report of {report.method} has no {name} table: run evaluate_faithfulness "
                             f"with {CHECK_OF[name]!r} among its checks")
    return source if "method" in source else source.assign(method="")


def _method_color(methods: list, k: int, single: str) -> str:
    """Colour of the k-th method's line or bar: `single` when there is one method."""
    return single if len(methods) == 1 else METHOD_COLORS[k % len(METHOD_COLORS)]


def _band(x, mean, std, color, name, showlegend, row, col, fig, dash="solid"):
    """A mean line with a shaded mean ± std band (std across clips)."""
    fig.add_trace(go.Scatter(x=list(x) + list(x)[::-1], y=list(mean + std) + list(mean - std)[::-1],
                             fill="toself", fillcolor=color, opacity=0.15, line=dict(width=0),
                             hoverinfo="skip", showlegend=False, legendgroup=name), row=row, col=col)
    fig.add_trace(go.Scatter(x=x, y=mean, name=name, mode="lines", line=dict(color=color, dash=dash),
                             legendgroup=name, showlegend=showlegend,
                             hovertemplate=name + "<br>fraction %{x:.2f}<br>p %{y:.3f}<extra></extra>"), row=row, col=col)


def _auc_title(auc: pd.DataFrame, over: str, curve: str) -> str:
    """A subplot's title: the curve, and each method's AUC (✓ where it beats random) against random's."""
    rows = auc[(auc["over"] == over) & (auc["curve"] == curve)]
    title = f"{curve} over {over}"
    if rows.empty:
        return title
    if len(rows) == 1:
        r = rows.iloc[0]
        return title + (f"<br><sup>AUC {r['auc_attribution']:.3f} vs random {r['auc_random']:.3f}"
                        f"{' ✓' if r['passed'] else ' ✗'}</sup>")
    each = " · ".join(f"{r.method} {r.auc_attribution:.2f}{' ✓' if r.passed else ' ✗'}" for r in rows.itertuples())
    return title + f"<br><sup>AUC {each} · random {rows['auc_random'].mean():.2f}</sup>"


def deletion_insertion_curves(curves, title: str | None = None) -> go.Figure:
    """Target probability as frames/pixels are deleted (left) or inserted (right) in attribution
    order, against random orders; one row per `over` ("frames", "pixels").

    curves: a `FaithfulnessReport` (or a list of them: one line per method), or a table from
    `explain.deletion_insertion(...)`: [method,] clip, over, curve, order ("attribution"|"random"),
    fraction, probability. Lines are means over clips with a ±1 std band; the random orders
    make one reference line, averaged over the methods (they agree for methods evaluated on the
    same clips with the same seed); subplot titles carry the AUCs (`explain.curve_auc`).
    A faithful map: deletion falls below random, insertion rises above it.
    """
    curves = _table(curves, "curves")
    need = {"over", "curve", "order", "fraction", "probability"}
    if not need <= set(curves.columns):
        raise LabkitError(f"curves need columns {sorted(need)} (from explain.deletion_insertion); "
                         f"got {list(curves.columns)}")
    methods = list(dict.fromkeys(curves["method"]))
    overs = [o for o in ("frames", "pixels") if o in set(curves["over"])]
    auc = explain.curve_auc(curves).sort_values("method", key=lambda m: m.map(methods.index), kind="stable")
    fig = make_subplots(rows=len(overs), cols=2, subplot_titles=[_auc_title(auc, o, c) for o in overs for c in CURVES],
                        vertical_spacing=0.2, horizontal_spacing=0.08)
    lines = curves.assign(method=curves["method"].where(curves["order"] == "attribution", RANDOM))
    # per clip first, so the random line's band is a spread across clips, not across methods
    per_clip = lines.groupby(["method", "over", "curve", "clip", "fraction"])["probability"].mean()
    stats = per_clip.groupby(["method", "over", "curve", "fraction"]).agg(["mean", "std"]).fillna(0.0)
    styles = [(RANDOM, RANDOM_COLOR, "dash", RANDOM)] + [
        (m, _method_color(methods, k, ATTR_COLOR), "solid", "attribution order" if len(methods) == 1 else m)
        for k, m in enumerate(methods)]
    for i, o in enumerate(overs, start=1):
        for j, c in enumerate(CURVES, start=1):
            for key, color, dash, name in styles:
                if (key, o, c) not in stats.index.droplevel("fraction"):
                    continue
                s = stats.loc[(key, o, c)]
                _band(s.index.to_numpy(), s["mean"].to_numpy(), s["std"].to_numpy(), color, name,
                      i == 1 and j == 1, i, j, fig, dash)
    fig.update_xaxes(title_text="fraction removed / inserted", range=[0, 1])
    fig.update_yaxes(range=[0, 1.02])
    fig.update_yaxes(title_text="target probability", col=1)
    fig.update_layout(title=title or "deletion and insertion", template="plotly_white",
                      height=120 + 300 * len(overs), legend=dict(orientation="h", y=-0.12),
                      margin=dict(l=60, r=10, t=110, b=60))
    return fig


def randomization_cascade(randomization, threshold: float = 0.3, title: str | None = None) -> go.Figure:
    """Rank correlation between the original maps and the maps of ever more randomised models
    (Adebayo et al., 2018), per cascade step, mean ± std over clips; a dotted line at
    `threshold`. A faithful method falls towards 0: the maps depend on the weights.

    randomization: a `FaithfulnessReport` (or a list of them: lines per method), or a table from
    `explain.randomization_check(...)`: [method,] clip, step, layer, spearman[, spearman_signed].
    """
    randomization = _table(randomization, "randomization")
    if not {"step", "layer", "spearman"} <= set(randomization.columns):
        raise LabkitError(f"randomization needs columns step, layer, spearman (from explain.randomization_check); "
                         f"got {list(randomization.columns)}")
    fig = go.Figure()
    methods = list(dict.fromkeys(randomization["method"]))
    cols = [c for c in ("spearman", "spearman_signed") if c in randomization]
    for k, method in enumerate(methods):
        rows = randomization[randomization["method"] == method]
        for col, color, dash, label in zip(cols, ("#1f77b4", "#9467bd"), ("solid", "dot"), ("|maps|", "signed maps")):
            s = rows.groupby(["step", "layer"], sort=True)[col].agg(["mean", "std"]).reset_index()
            fig.add_trace(go.Scatter(x=[f"{r.step}: {r.layer}" if r.step else "original" for r in s.itertuples()],
                                     y=s["mean"], error_y=dict(array=s["std"].fillna(0.0), visible=True),
                                     mode="lines+markers",
                                     name=f"Spearman, {label}" if len(methods) == 1 else f"{method}: {label}",
                                     line=dict(color=_method_color(methods, k, color),
                                               dash="solid" if len(methods) == 1 else dash)))
    fig.add_hline(y=threshold, line=dict(dash="dot", color="#d62728"),
                  annotation_text=f"threshold {threshold:g}", annotation_position="top right")
    fig.update_yaxes(title_text="rank correlation with the original maps", range=[-0.2, 1.05])
    fig.update_xaxes(title_text="re-initialised so far (top of the model first)")
    fig.update_layout(title=title or "model-parameter randomisation", template="plotly_white", height=380,
                      margin=dict(l=60, r=10, t=50, b=60))
    return fig


_COLOUR = {True: "#2ca02c", False: "#d62728", None: "#fdae61"}  # passed, failed, inconclusive (amber)
_MARK = {True: "", False: " ✗", None: " ?"}
_HATCH = {True: "", False: "x", None: "."}


def _outcome(passed) -> bool | None:
    """passed as True / False, or None for an inconclusive verdict (its interval overlaps the reference)."""
    return None if passed is None or passed != passed else bool(passed)


def _interval(rows: pd.DataFrame) -> dict | None:
    """Error bars: the bootstrap 95% interval of the per-clip difference, drawn around the value."""
    if not {"difference", "ci_low", "ci_high"} <= set(rows.columns):
        return None
    up, down = rows["ci_high"] - rows["difference"], rows["difference"] - rows["ci_low"]
    return dict(type="data", array=up.fillna(0).tolist(), arrayminus=down.fillna(0).tolist(), color="#444",
                thickness=1.2, width=4)


def faithfulness_summary(summary, title: str | None = None) -> go.Figure:
    """`explain.evaluate_faithfulness(...)` as bars: each measurement's value next to its
    reference (random order, threshold or chance).

    summary: a `FaithfulnessReport`, a list of them, or a summary table ([method,] check, over,
    value, reference, passed). One method: its bars are green where the check passed, red where
    not. Several methods: one coloured bar per method, failed checks hatched and marked with a
    cross, and the references averaged over the methods' rows (they agree when the methods
    were evaluated on the same clips with the same seed).
    """
    summary = _table(summary, "summary")
    if not {"check", "over", "value", "reference", "passed"} <= set(summary.columns):
        raise LabkitError("summary needs columns check, over, value, reference, passed "
                         "(from explain.evaluate_faithfulness)")
    judged = summary[summary["reference"].notna()]
    methods = list(dict.fromkeys(judged["method"]))
    keys = list(dict.fromkeys(zip(judged["check"], judged["over"])))  # (check, over) in order of appearance
    labels = [f"{c}<br>{o}" for c, o in keys]
    by_key = judged.set_index(["check", "over"])
    fmt = "{:.3f}" if len(methods) == 1 else "{:.2f}"  # narrower bars, shorter labels
    bars = []
    for i, method in enumerate(methods):
        rows = by_key[by_key["method"] == method].reindex(keys)
        values, passed = rows["value"].tolist(), [_outcome(p) for p in rows["passed"]]
        text = [("" if v != v else fmt.format(v) + _MARK[p]) for v, p in zip(values, passed)]
        if len(methods) == 1:
            marker = dict(color=[_COLOUR[p] for p in passed])
        else:
            marker = dict(color=METHOD_COLORS[i % len(METHOD_COLORS)], pattern=dict(shape=[_HATCH[p] for p in passed]))
        bars.append(go.Bar(x=labels, y=values, name=method or "method", marker=marker, text=text,
                           textposition="outside", error_y=_interval(rows)))
    reference = judged.groupby(["check", "over"], sort=False)["reference"].mean().reindex(keys)
    bars.append(go.Bar(x=labels, y=reference.tolist(), name="reference", marker_color="#c7c7c7",
                       text=[fmt.format(v) for v in reference], textposition="outside"))
    fig = go.Figure(bars)
    default = f"faithfulness of {methods[0]}".strip() if len(methods) == 1 else "faithfulness: " + " vs ".join(methods)
    fig.update_layout(barmode="group", title=title or default, template="plotly_white",
                      height=380, yaxis_title="value", margin=dict(l=60, r=10, t=50, b=60),
                      legend=dict(orientation="h", y=1.08))
    return fig
