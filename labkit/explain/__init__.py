"""labkit.explain: where (pixels) and when (frames) a DCRN found its evidence, and whether to believe it.

    attr = explain.attribute(model, clip, method="integrated_gradients")   # maps (N, T, H, W), frame_scores (N, T)
    explain.methods()                                                      # specs for widgets and the CLI
    explain.gradient_flow(model, clip)                                     # gradient norm per frame
    report = explain.evaluate_faithfulness(model, ds, "integrated_gradients")  # a FaithfulnessReport
    explain.FaithfulnessReport.concat([report, other])                     # several methods, one report
    inside = explain.look_inside(model, clip)                              # conv maps, keypoints, states over time
    explain.export(clip, attr, "saliency.mp4")                             # heatmaps over the frames: .mp4 or .gif
    changed = explain.edit(clip, "drop", frames=[3, 4])                    # a counterfactual clip
    explain.smallest_flip(model, clip)                                     # fewest frames whose removal flips it
    explain.decision_frame(model.predict_prefixes(clip))                   # from which frame on it stays decided
    explain.when_decided(model, ds); explain.smallest_flips(model, ds)     # the same over clips, as tables
"""
from .attribution import COMPLETENESS_TOLERANCE, Attribution
from .baselines import BASELINES
from .core import attribute
from .decisions import decision_frame, smallest_flips, when_decided
from .deletion import curve_auc, deletion_insertion
from .edits import OPS as EDITS, edit, smallest_flip
from .faithfulness import FaithfulnessReport, evaluate_faithfulness
from .gradients import gradient_flow
from .overlay import export
from .internals import Internals, Keypoints, Series, look_inside
from .pointing import pointing_game
from .randomization import randomization_check
from .registry import MethodSpec, ParamSpec, methods
from .verdicts import bootstrap_ci

__all__ = ["Attribution", "BASELINES", "COMPLETENESS_TOLERANCE", "EDITS", "FaithfulnessReport", "Internals",
           "Keypoints", "MethodSpec", "ParamSpec", "Series", "attribute", "bootstrap_ci", "curve_auc", "decision_frame",
           "deletion_insertion", "edit", "evaluate_faithfulness", "export", "gradient_flow", "look_inside", "methods",
           "pointing_game", "randomization_check", "smallest_flip", "smallest_flips", "when_decided"]
