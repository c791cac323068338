"""`Layer`: one row of a stage's plan, and of `models.summary`'s table."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Layer:
    """One row of `models.summary`: a layer's output shape and its counts for the whole batch.

    `stored`: its output is a new tensor kept for backward (False for views and the last-state
    readout, which cost no activation memory)."""

    name: str
    type: str
    output_shape: tuple
    params: int = 0
    matmul_flops: int = 0
    elementwise_flops: int = 0
    stored: bool = True
