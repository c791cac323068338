"""Where a command's clips come from: `--data SPEC` with `--data-option KEY=VALUE`, or, for the
commands that take a run folder (`evaluate`, `explain`), the recipe the run recorded.

SPEC is `synthetic:NAME` (a built-in task), a folder `<root>/<class>/<clip>`, or a manifest `.csv`.
Data options are the task's options (gap=3, label=direction, ...) and `seed`, or a folder's
loading options (group_pattern, crop, on_error, classes).
"""
from __future__ import annotations

from labkit.errors import LabkitError
from .options import parse_pairs

SPLITS = ("val", "train", "fresh")


def add_data_arguments(p, run: bool) -> None:
    """--data, --data-option, --clips, --frames, --size (and --split for commands on a run)."""
    p.add_argument("--data", default=None,
                   help="synthetic:direction|order|digits, a folder <root>/<class>/<clip>, or a manifest .csv"
                        + ("; default: the data the run was trained on, rebuilt from its recipe" if run else
                           "; required for a new run"))
    p.add_argument("--data-option", action="append", default=[], metavar="KEY=VALUE",
                   help="repeatable: a task option (gap=3, label=direction, seed=4) or a folder option "
                        "(group_pattern=^(p\\d+)_, crop=center, on_error=skip); values are JSON where they parse")
    p.add_argument("--clips", type=int, default=None,
                   help="clips to generate for synthetic data (default: 2000" + (", or the run's)" if run else ")"))
    p.add_argument("--frames", type=int, default=None, help="frames per clip (default: " +
                   ("the run's)" if run else "16)"))
    p.add_argument("--size", type=int, default=None, help="frame side in pixels (default: " +
                   ("the run's)" if run else "64)"))
    if run:
        p.add_argument("--split", default="val", choices=SPLITS,
                       help="without --data: the run's validation clips (val, default), its training clips "
                            "(train), or new clips of the same synthetic task and options (fresh)")


def load_spec(spec: str, options: list[str], clips: int | None, frames: int, size: int, seed: int):
    """The dataset SPEC names, with its --data-option values; a folder or manifest loads with
    on_error="raise" unless an option says otherwise."""
    from labkit import data

    opts = parse_pairs(options, "--data-option", "gap=3")
    if spec.startswith("synthetic:"):
        return data.synthetic(spec.split(":", 1)[1], n=clips or 2000, frames=frames, size=size,
                              seed=opts.pop("seed", seed), **opts)
    if clips is not None:
        raise LabkitError(f"--clips {clips} only applies to synthetic data; {spec} is read as it is")
    load = data.manifest if spec.lower().endswith(".csv") else data.folder
    return load(spec, frames=frames, size=size, **opts)


def run_data(args, config: dict):
    """The clips a run command works on and how they were chosen: (dataset, "given" | split).

    With --data: that data, sized like the run's clips unless --frames/--size say otherwise,
    refused when its classes or frame size contradict the run's. Without: the run's own recipe
    (its validation or training split, or fresh clips of its synthetic task).
    """
    from labkit import data

    trained = (config.get("data") or {}).get("train") or {}
    shape = trained.get("clip_shape") or [16, 64, 64, 3]
    frames, size = args.frames or shape[0], args.size or shape[1]
    if args.data is not None:
        ds = load_spec(args.data, args.data_option, args.clips, frames, size, seed=1)
        _check_against_run(ds, trained, args.data)
        return ds, "given"
    if args.data_option or args.clips or args.frames or args.size:
        raise LabkitError("--data-option, --clips, --frames and --size describe data given with --data; "
                         "without --data the run's own recipe is used as recorded")
    return _from_run(trained, (config.get("data") or {}).get("val") or {}, args.split), args.split


def _from_run(trained: dict, validated: dict, split: str):
    from labkit import data

    recipe = (validated if split == "val" else trained).get("recipe")
    if recipe is None:
        raise LabkitError(f"the run does not record how its {'validation' if split == 'val' else 'training'} "
                         f"data was made (trained on clips built by hand, or with an older labkit); "
                         f"pass --data")
    if split == "fresh":
        root = recipe.get("of", recipe)
        recipe = data.fresh_recipe(recipe, seed=int(root.get("seed", 0)) + 1)
    return data.from_recipe(recipe, progress=False)


def _check_against_run(ds, trained: dict, spec: str) -> None:
    """Refuse data whose classes or frame size differ from what the run was trained on."""
    classes = trained.get("classes")
    if classes is not None and list(ds.classes) != list(classes):
        raise LabkitError(f"--data {spec} has classes {ds.classes} but the run was trained on {classes}; "
                         f"pass data with the run's classes (or leave out --data to use the run's own)")
    shape = trained.get("clip_shape")
    if shape is not None and list(ds[0][0].shape[1:]) != list(shape[1:]):
        raise LabkitError(f"--data {spec} gives frames of {list(ds[0][0].shape[1:])} (H, W, C) but the run "
                         f"was trained on {shape[1:]}; pass --size {shape[1]} (or leave out --data)")
