"""labkit.explain: where (pixels) and when (frames) a DCRN found its evidence, and whether to believe it.

    attr = explain.attribute(model, clip, method="integrated_gradients")   # maps (N, T, H, W), frame_scores (N, T)
    explain.methods()                                                      # specs for widgets and the CLI
    explain.gradient_flow(model, clip)                                     # gradient norm per frame
    report = explain.evaluate_faithfulness(model, ds, "integrated_gradients")  # a FaithfulnessReport
    explain.FaithfulnessReport.concat([report, other])                     # several methods, one report
    inside = explain.look_inside(model, clip)                              # conv maps, keypoints, states over time
"""
from .attribution import COMPLETENESS_TOLERANCE, Attribution
from .baselines import BASELINES
from .core import attribute
from .deletion import curve_auc, deletion_insertion
from .faithfulness import FaithfulnessReport, evaluate_faithfulness
from .gradients import gradient_flow
from .internals import Internals, Keypoints, Series, look_inside
from .pointing import pointing_game
from .randomization import randomization_check
from .registry import MethodSpec, ParamSpec, methods

__all__ = ["Attribution", "BASELINES", "COMPLETENESS_TOLERANCE", "FaithfulnessReport", "Internals", "Keypoints",
           "MethodSpec", "ParamSpec", "Series", "attribute", "curve_auc", "deletion_insertion",
           "evaluate_faithfulness", "gradient_flow", "look_inside", "methods", "pointing_game", "randomization_check"]
