"""`labkit train` and `labkit evaluate`: train a preset on synthetic or folder data into a run
folder, or evaluate a run. Both print progress, then the metrics as ONE JSON object on the last
line of stdout (so scripts can `tail -n1 | jq`).

The training options are generated from `train.TrainConfig`'s fields (names, help, choices), and
the model options from `--set KEY=VALUE` over `models.DCRNConfig`, so neither is declared twice.
"""
from __future__ import annotations

import dataclasses
import json

from labkit.errors import LabkitError
from .data_source import add_data_arguments, load_spec, run_data
from .options import dataclass_overrides, output_file, parse_value


def _print_json(obj: dict) -> None:
    """The one machine-readable line: strict JSON (NaN/inf become null)."""
    from labkit.runs.record import json_ready

    print(json.dumps(json_ready(obj), default=str), flush=True)


def _is_main_process() -> bool:
    """Under torchrun only rank 0 speaks, so the last line stays one JSON object."""
    from labkit.train.distributed import from_env

    return from_env().is_main


def add_config_arguments(p, cls) -> None:
    """One option per field of dataclass `cls` (`--batch-size` for batch_size), its help and
    choices from the field's metadata; a bool field gets --name / --no-name. Values parse as
    JSON where they can (`--grad-clip 1.0`, `--momentum none` is None) and are checked by
    `cls.validate`, whose message names the setting and the fix."""
    for f in dataclasses.fields(cls):
        flag, meta = "--" + f.name.replace("_", "-"), f.metadata
        choices = meta.get("choices")
        shown = f"; one of {', '.join(str(c).lower() for c in choices)}" if choices else ""
        help_ = f"{meta.get('help', '')}{shown} (default: {str(f.default).lower()})"
        if isinstance(f.default, bool):
            p.add_argument(flag, action="store_true", default=None, help=help_)
            p.add_argument("--no-" + flag[2:], dest=f.name, action="store_false", default=None,
                           help=f"turn {flag} off")
        else:
            p.add_argument(flag, type=_value, default=None, metavar=f.name.upper(), help=help_)


def _value(text: str):
    """A command-line value: JSON where it parses, 'none' for None, else the text."""
    return None if text.lower() == "none" else parse_value(text)


def config_from_args(args, cls):
    """`cls()` with every option the user gave."""
    given = {f.name: getattr(args, f.name) for f in dataclasses.fields(cls) if getattr(args, f.name) is not None}
    return cls(**given).validate()


def _train(args) -> int:
    from labkit import train
    from labkit.train.devices import resolve_device

    if args.resume:
        model, tr, va, cfg, overrides = _resumed(args)
    else:
        cfg, overrides = config_from_args(args, train.TrainConfig), {}
        resolve_device(cfg.device)  # refuse a device this machine lacks before making any data
        model, tr, va = _new_run(args, cfg)
    if _is_main_process():
        print(f"training {'(resumed) ' if args.resume else ''}on {len(tr)} train / {len(va)} val clips of "
              f"{tr.name} -> {args.out}", flush=True)
    result = train.fit(model, tr, va, cfg, run_dir=args.out, resume=args.out if args.resume else None,
                       progress=not args.no_progress, **overrides)
    if _is_main_process():
        _print_json({**result.metrics, "run_dir": str(result.run_dir)})
    return 0


def _new_run(args, cfg):
    """(model, train split, val split) of a new run: --data split by --val-split, --preset with --set."""
    from labkit import data, models

    if args.data is None:
        raise LabkitError("--data is required for a new run: synthetic:NAME, a folder of clips or a manifest .csv "
                          "(or --resume to continue the run in --out)")
    if not 0 < args.val_split < 1:
        raise LabkitError(f"--val-split {args.val_split}: the share of clips held out for validation must lie "
                          f"between 0 and 1, e.g. --val-split 0.15")
    overrides = dataclass_overrides(models.DCRNConfig, args.set, "--set", "hidden_size=32")
    for key, fix in (("num_classes", "it is the number of classes in --data"),
                     ("img_size", "set the frame size of the data with --size, and the model follows")):
        if key in overrides:
            raise LabkitError(f"--set {key}: not a setting here; {fix}")
    ds = load_spec(args.data, args.data_option, args.clips, args.frames or 16, args.size or 64, cfg.seed)
    tr, va = data.split(ds, (1 - args.val_split, args.val_split), seed=cfg.seed)
    model = models.preset(args.preset or "default", num_classes=ds.num_classes, seed=cfg.seed,
                          img_size=int(ds[0][0].shape[1]), **overrides)
    return model, tr, va


def _resumed(args):
    """(model, train split, val split, None, training overrides) to continue the run in --out: its
    own model and data (rebuilt from the recipes it recorded), its own settings, and the training
    options given again, which must match the run's unless --override asks to change them."""
    from labkit import data, models, runs, train

    config = runs.read_config(args.out)
    given = [flag for flag, value in (("--data", args.data), ("--data-option", args.data_option),
                                      ("--clips", args.clips), ("--frames", args.frames), ("--size", args.size),
                                      ("--preset", args.preset), ("--set", args.set)) if value]
    if given:
        raise LabkitError(f"--resume continues the run in {args.out} with its own model and data; leave out "
                          f"{', '.join(given)} (or train a new run into another --out)")
    recipes = [((config.get("data") or {}).get(part) or {}).get("recipe") for part in ("train", "val")]
    if None in recipes:
        raise LabkitError(f"{args.out} does not record how its data was made, so it cannot be resumed from the "
                          f"command line; resume it in Python with train.fit(..., resume={args.out!r})")
    saved = train.TrainConfig.from_dict({k: v for k, v in config["train"].items() if k != "augment"}).to_dict()
    wanted = {f: getattr(args, f) for f in saved if getattr(args, f, None) is not None}
    changed = sorted(k for k, v in wanted.items() if k != "epochs" and v != saved[k])
    if changed and not args.override:
        raise LabkitError(f"--resume keeps the run's settings, but {', '.join('--' + c.replace('_', '-') for c in changed)} "
                          f"differ from them; add --override to change them (config.json records the change)")
    model = models.build(models.DCRNConfig.from_dict(config["model"]), seed=int(saved["seed"]))
    tr, va = (data.from_recipe(r, progress=False) for r in recipes)
    return model, tr, va, None, wanted


def _evaluate(args) -> int:
    from labkit import runs, train

    predictions = output_file(args.predictions, "--predictions", (".csv",)) if args.predictions else None
    config = runs.read_config(args.run_dir)
    model = runs.load(args.run_dir)
    ds, split = run_data(args, config)
    result = train.evaluate(model, ds, batch_size=args.batch_size, device=args.device)
    print(result.per_class.to_string(), flush=True)
    if predictions is not None:
        result.predictions.to_csv(predictions, index=False)
        print(f"wrote {args.predictions}", flush=True)
    _print_json({**result.to_dict(), "run_dir": args.run_dir, "split": split, "data": ds.recipe})
    return 0


def register(sub) -> None:
    from labkit import models, train

    p = sub.add_parser("train", help="train a preset; last stdout line: final metrics as JSON")
    add_data_arguments(p, run=False)
    p.add_argument("--preset", default=None, choices=sorted(models.PRESETS), help="model preset (default: default)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="override a model setting (repeatable), e.g. --set cell=lstm --set conv_channels=16,32")
    p.add_argument("--val-split", type=float, default=0.15, help="share of clips held out for validation")
    p.add_argument("--out", required=True, help="run folder to write (config.json, history.csv, best.pt, ...)")
    p.add_argument("--resume", action="store_true",
                   help="continue the run in --out from its last.pt, with its own model, data and settings "
                        "(--epochs N trains it up to N epochs)")
    p.add_argument("--override", action="store_true",
                   help="with --resume: apply the training options given even where they differ from the run's "
                        "(each change is recorded in config.json)")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    add_config_arguments(p.add_argument_group("training (train.TrainConfig)"), train.TrainConfig)
    p.set_defaults(func=_train)

    e = sub.add_parser("evaluate", help="evaluate a run's best model; last stdout line: metrics as JSON")
    e.add_argument("run_dir", help="a run folder written by `labkit train` or train.fit")
    add_data_arguments(e, run=True)
    e.add_argument("--batch-size", type=int, default=64, help="clips per forward pass")
    e.add_argument("--device", default="auto", help="auto (CUDA, else MPS, else CPU), cpu, cuda, mps")
    e.add_argument("--predictions", default="", help="also write the per-clip predictions CSV here")
    e.set_defaults(func=_evaluate)
