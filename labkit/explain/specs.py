"""Parameter and method specs: what `explain.methods()` lists so widgets and the CLI can build controls."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable


@dataclass(frozen=True)
class ParamSpec:
    """One tunable parameter of an attribution method.

    `type` is "int", "float", "bool" or "choice"; `low`/`high` bound numbers (inclusive),
    `choices` lists the values a "choice" takes. `default=None` on an int means "chosen for you".
    """

    name: str
    type: str
    default: Any
    low: float | None = None
    high: float | None = None
    choices: tuple | None = None
    help: str = ""

    def coerce(self, value: Any, method: str) -> Any:
        """Check one value (strings from the command line are converted) and return it typed."""
        where = f"{method}: parameter {self.name!r}"
        if value is None and self.default is None:
            return None
        try:
            if self.type == "int":
                if isinstance(value, float) and not value.is_integer():
                    raise ValueError
                value = int(value)
            elif self.type == "float":
                value = float(value)
            elif self.type == "bool":
                if isinstance(value, str):
                    if value.lower() not in ("true", "false", "1", "0", "yes", "no"):
                        raise ValueError
                    value = value.lower() in ("true", "1", "yes")
                value = bool(value)
        except (TypeError, ValueError):
            raise ValueError(f"{where} must be of type {self.type}; got {value!r}") from None
        if self.choices is not None and value not in self.choices:
            raise ValueError(f"{where} must be one of {list(self.choices)}; got {value!r}")
        if self.low is not None and value < self.low or self.high is not None and value > self.high:
            raise ValueError(f"{where} must lie in [{self.low}, {self.high}]; got {value!r}")
        return value


@dataclass(frozen=True)
class MethodSpec:
    """One attribution method: its name, a human label, its parameters and how it runs.

    `reduce` says how the (N, T, C, H, W) attribution is folded over channels: "sum" for
    additive methods (gradients, integrated gradients), "mean" for perturbation methods whose
    value is shared by every channel of the perturbed region. `frame_score` says how frame
    importance is read: "abs_mass" (sum of |map| over the frame), "signed_mass" (sum of the
    signed map: for methods that add up to the logit difference, the frame's share of it),
    "mean" (mean signed map) or "drop" (the frame's ablation value itself).
    """

    name: str
    label: str
    params: tuple[ParamSpec, ...]
    description: str = ""
    reduce: str = "sum"
    frame_score: str = "abs_mass"
    run: Callable | None = field(default=None, repr=False, compare=False)

    def resolve(self, params: dict) -> dict:
        """Defaults filled in, every value checked; unknown names raise a ValueError listing the valid ones."""
        names = {p.name: p for p in self.params}
        unknown = sorted(set(params) - set(names))
        if unknown:
            raise ValueError(f"{self.name}: unknown parameter(s) {unknown}; valid: {sorted(names) or 'none'}")
        return {n: p.coerce(params.get(n, p.default), self.name) for n, p in names.items()}
