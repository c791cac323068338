"""labkit.widgets: ipywidgets apps over the lab's functions (no science inside).

    widgets.ModelBuilder("seed")                         # controls -> live shapes, params, FLOPs
    widgets.TrainingDashboard(builder_or_model, tr, va, epochs=5)   # start / stop / reset, live curves
    widgets.SaliencyExplorer(model, te)                  # clips x methods x frames, heatmaps
    widgets.RunsBoard("runs")                            # sortable runs table, two runs compared
"""
from .model_builder import ModelBuilder
from .runs_board import RunsBoard
from .saliency_explorer import SaliencyExplorer
from .training_dashboard import TrainingDashboard

__all__ = ["ModelBuilder", "RunsBoard", "SaliencyExplorer", "TrainingDashboard"]
