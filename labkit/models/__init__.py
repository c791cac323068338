"""Models: `DCRNConfig`, `DCRN`, presets, `summary()`, frame encoders (learned, hand-crafted or your
own module), smaller, faster copies (`quantize`, `prune`, `compression_table`), and `export` to
TorchScript or ONNX."""
from .compression import compression_table, prune, quantize, size_on_disk
from .config import FRAME_ENCODERS, DCRNConfig
from .cpu import keep_freed_memory
from .dcrn import DCRN
from .presets import PRESETS, build, preset, preset_config
from .cost_summary import ModelSummary, summary, training_flops
from .portable import ExportReport, export, load_exported
from .reuse import copy_body, with_head

__all__ = ["DCRNConfig", "DCRN", "FRAME_ENCODERS", "PRESETS", "build", "preset", "preset_config", "ModelSummary",
           "summary", "training_flops", "keep_freed_memory", "quantize", "prune", "compression_table", "size_on_disk",
           "with_head", "copy_body", "export", "load_exported", "ExportReport"]
