"""Controls for one attribution method, built from `explain.methods()` parameter specs
(as Captum Insights did): IntSlider / FloatSlider / Checkbox / Dropdown per ParamSpec; only the
methods that can explain the model at hand are offered (`offered_methods`)."""
from __future__ import annotations

import ipywidgets as W

from labkit.errors import LabkitError
from .. import explain

_STYLE = {"description_width": "90px"}
_LAYOUT = dict(width="360px")  # room for the longest method label beside its description
SLIDER_SPAN = 256  # int ranges wider than this get a text box instead of a slider


def param_widget(spec: explain.ParamSpec) -> W.Widget | None:
    """One widget for one ParamSpec; None for parameters labkit chooses itself (default None)."""
    kw = dict(description=spec.name, tooltip=spec.help or None, style=_STYLE,
              layout=W.Layout(**_LAYOUT))
    if spec.type == "bool":
        return W.Checkbox(value=bool(spec.default), indent=False, **kw)
    if spec.type == "choice":
        return W.Dropdown(options=list(spec.choices), value=spec.default, **kw)
    if spec.default is None:
        return None
    if spec.type == "int":
        low, high = int(spec.low), int(spec.high)
        if high - low > SLIDER_SPAN:
            return W.BoundedIntText(value=spec.default, min=low, max=high, **kw)
        return W.IntSlider(value=spec.default, min=low, max=high, continuous_update=False, **kw)
    if spec.type == "float":
        return W.FloatSlider(value=spec.default, min=spec.low, max=spec.high, step=(spec.high - spec.low) / 100,
                             continuous_update=False, **kw)
    raise LabkitError(f"parameter {spec.name!r} has unknown type {spec.type!r}")


def method_and_params(method) -> tuple[str, dict]:
    """(name, parameters) of `method`: a method name (its defaults), or controls with `.method` and
    `.params` (a MethodControls, read now, so a tool follows what the student picked)."""
    return (method, {}) if isinstance(method, str) else (method.method, dict(method.params))


def offered_methods(model) -> tuple[list, dict[str, str]]:
    """The method specs that can explain `model` (`MethodSpec.applies`), in display order, and
    {name: why not} for the others (e.g. DeepLift on a GRU)."""
    offered, refused = [], {}
    for spec in explain.methods():
        reason = spec.applies(model)
        if reason is None:
            offered.append(spec)
        else:
            refused[spec.name] = reason
    return offered, refused


class MethodControls(W.VBox):
    """A method dropdown and the controls of the chosen method's parameters.

    `.method` (name), `.params` (dict name -> value of the shown controls), `.dropdown`,
    `.widgets` (name -> widget of the current method); `on_change(fn)` calls fn() on any change.
    """

    def __init__(self, specs: list, method: str, description: str = "method"):
        self.specs = {s.name: s for s in specs}
        if method not in self.specs:
            raise LabkitError(f"unknown method {method!r}; choose one of {list(self.specs)}")
        self.dropdown = W.Dropdown(options=[(s.label, s.name) for s in specs], value=method,
                                   description=description, style=_STYLE, layout=W.Layout(**_LAYOUT))
        self.box = W.VBox()
        self.widgets: dict[str, W.Widget] = {}
        self._callbacks = []
        self._build()
        self.dropdown.observe(self._on_method, names="value")
        super().__init__([self.dropdown, self.box])

    @property
    def method(self) -> str:
        return self.dropdown.value

    @property
    def params(self) -> dict:
        return {name: w.value for name, w in self.widgets.items()}

    def on_change(self, fn) -> None:
        self._callbacks.append(fn)

    def _build(self) -> None:
        self.widgets = {}
        for spec in self.specs[self.method].params:
            w = param_widget(spec)
            if w is not None:
                w.observe(self._changed, names="value")
                self.widgets[spec.name] = w
        self.box.children = list(self.widgets.values())

    def _on_method(self, _change) -> None:
        self._build()
        self._changed()

    def _changed(self, *_) -> None:
        for fn in self._callbacks:
            fn()
