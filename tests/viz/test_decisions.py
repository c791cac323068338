"""viz.decision_curve: one line per leading class after each prefix, importance bars on the same axis."""
import numpy as np

from labkit import viz


def test_lines_bars_cursor_and_a_dashed_comparison():
    p = np.array([[0.5, 0.3, 0.2], [0.4, 0.5, 0.1], [0.2, 0.7, 0.1], [0.1, 0.85, 0.05]])
    fig = viz.decision_curve(p, ["a", "b", "c"], frame_scores=[0.1, 0.5, 0.3, 0.1], compare={"edited": p[:2]},
                             decided=1, frame=2, top=2)
    assert fig.data[0].type == "bar" and list(fig.data[0].y) == [0.1, 0.5, 0.3, 0.1]
    lines = [t for t in fig.data[1:-1]]
    assert [t.name for t in lines] == ["b", "a", "b (edited)", "a (edited)"]
    assert [t.line.dash for t in lines] == ["solid", "solid", "dash", "dash"]
    assert list(fig.data[-1].x) == [2, 2] and fig.data[-1].visible
    assert any("decided at frame 1" in (a.text or "") for a in fig.layout.annotations)
    assert fig.layout.width <= 460


def test_without_importance_it_is_one_panel():
    fig = viz.decision_curve(np.full((3, 2), 0.5), ["x", "y"])
    assert all(t.type == "scatter" for t in fig.data) and fig.data[-1].visible is False
