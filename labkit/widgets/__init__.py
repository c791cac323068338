"""labkit.widgets: ipywidgets apps over the lab's functions (no science inside).

    widgets.ModelBuilder("seed")                         # controls -> live shapes, params, FLOPs
    widgets.TrainingDashboard(builder_or_model, tr, va, epochs=5)   # start / stop / reset, live curves
    widgets.SaliencyExplorer(model, te)                  # clips x methods x frames, heatmaps, decisions, export
    widgets.ClipEditor(model, te, index=0)               # what if the clip were different? (also in the explorer)
    widgets.NetworkInspector(model_builder_or_dashboard, te)  # feature maps, keypoints, states over time
    widgets.RunsBoard("runs")                            # sortable runs table, two runs compared
"""
from .clip_editor import ClipEditor
from .model_builder import ModelBuilder
from .network_inspector import NetworkInspector
from .runs_board import RunsBoard
from .saliency_explorer import SaliencyExplorer
from .training_dashboard import TrainingDashboard

__all__ = ["ClipEditor", "ModelBuilder", "NetworkInspector", "RunsBoard", "SaliencyExplorer", "TrainingDashboard"]
