"""labkit.viz: plotly figure builders — pure functions, data in, `go.Figure` out.

    viz.clip_strip(clips) / viz.clip_player(clip)             # frames side by side / animated
    viz.class_examples(ds, per_class=2)                       # a few clips of every class
    viz.training_curves(result.history)                       # loss & accuracy, train vs val
    viz.confusion_matrix(ev.confusion, normalize="true"); viz.per_class_bars(ev.per_class)
    viz.model_diagram(models.summary(cfg)); viz.layer_table(...); viz.cost_comparison({...})
    viz.saliency_overlay(clip, attr); viz.saliency_strip(clip, {"IG": attr1, "occlusion": attr2})
    viz.feature_maps(inside.block_maps[0], frame=3, clip=clip); viz.keypoint_tracks(inside.keypoints, clip)
    viz.state_heatmap(inside.series("hidden state h"), frame=3)   # inside = explain.look_inside(model, clip)
    viz.decision_curve(model.predict_prefixes(clip), classes, attr.frame_scores[0])  # when did it decide
    viz.frame_importance(attr.frame_scores[0], evidence); viz.class_probabilities(probs, classes, target=1)
    viz.explanation_page(clip, attr, probs, classes)         # one standalone HTML page (a str)
    viz.gradient_flow({"rnn": df1, "lstm": df2})              # per-frame gradient norm, log-y
    viz.faithfulness_summary(report); viz.deletion_insertion_curves(report); viz.randomization_cascade(report)
    viz.runs_scatter(table, x="hidden_size"); viz.runs_parallel(table, ["lr", "cell"])
    viz.span_curves(lesson.summary); viz.summary_bars(...); viz.curves_with_bands(...); viz.batch_gradients(...)
"""
from .clips import class_examples, clip_player, clip_strip
from .decisions import decision_curve
from .evaluation import class_probabilities, confusion_matrix, per_class_bars
from .faithfulness import deletion_insertion_curves, faithfulness_summary, randomization_cascade
from .gradients import gradient_flow
from .internals import feature_maps, keypoint_tracks, state_heatmap
from .lessons import batch_gradients, curves_with_bands, span_curves, summary_bars
from .model import cost_comparison, format_count, layer_table, model_diagram
from .page import explanation_page
from .runs import runs_parallel, runs_scatter, score_column
from .saliency import frame_importance, saliency_overlay, saliency_strip
from .timelines import timeline
from .training import training_curves

__all__ = ["decision_curve", "timeline", "batch_gradients", "curves_with_bands", "span_curves", "summary_bars", "class_examples", "class_probabilities", "clip_player", "clip_strip", "confusion_matrix", "per_class_bars",
           "deletion_insertion_curves", "explanation_page", "faithfulness_summary", "feature_maps", "keypoint_tracks",
           "state_heatmap", "frame_importance",
           "randomization_cascade", "gradient_flow", "cost_comparison", "format_count", "layer_table", "model_diagram",
           "runs_parallel", "runs_scatter", "score_column", "saliency_overlay", "saliency_strip", "training_curves"]
