"""Models: `DCRNConfig`, `DCRN`, presets and `summary()`."""
from .config import DCRNConfig
from .cpu import keep_freed_memory
from .dcrn import DCRN
from .presets import PRESETS, build, preset, preset_config
from .cost_summary import ModelSummary, summary, training_flops

__all__ = ["DCRNConfig", "DCRN", "PRESETS", "build", "preset", "preset_config", "ModelSummary", "summary",
           "training_flops", "keep_freed_memory"]
