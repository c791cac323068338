"""labkit.explain: where (pixels) and when (frames) a DCRN found its evidence, and whether to believe it.

    attr = explain.attribute(model, clip, method="integrated_gradients")   # maps (N, T, H, W), frame_scores (N, T)
    explain.methods()                                                      # specs for widgets and the CLI
    explain.gradient_flow(model, clip)                                     # gradient norm per frame
    explain.evaluate_faithfulness(model, ds, "integrated_gradients")       # deletion/insertion, randomisation, pointing
"""
from .attribution import COMPLETENESS_TOLERANCE, Attribution
from .baselines import BASELINES
from .core import attribute
from .deletion import curve_auc, deletion_insertion
from .faithfulness import evaluate_faithfulness
from .gradient_flow import gradient_flow
from .methods import METHODS
from .pointing import pointing_game
from .randomization import randomization_check
from .specs import MethodSpec, ParamSpec


def methods() -> list[MethodSpec]:
    """Every attribution method with its parameter specs, in display order."""
    return list(METHODS)


__all__ = ["Attribution", "BASELINES", "COMPLETENESS_TOLERANCE", "MethodSpec", "ParamSpec", "attribute", "curve_auc",
           "deletion_insertion", "evaluate_faithfulness", "gradient_flow", "methods", "pointing_game",
           "randomization_check"]
