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
from .options import dataclass_overrides, parse_value


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
    from labkit import data, models, train

    cfg = config_from_args(args, train.TrainConfig)
    if not 0 < args.val_split < 1:
        raise LabkitError(f"--val-split {args.val_split}: the share of clips held out for validation must lie "
                         f"between 0 and 1, e.g. --val-split 0.15")
    overrides = dataclass_overrides(models.DCRNConfig, args.set, "--set", "hidden_size=32")
    ds = load_spec(args.data, args.data_option, args.clips, args.frames or 16, args.size or 64, cfg.seed)
    tr, va = data.split(ds, (1 - args.val_split, args.val_split), seed=cfg.seed)
    model = models.preset(args.preset, num_classes=ds.num_classes, seed=cfg.seed,
                          **{"img_size": int(ds[0][0].shape[1]), **overrides})
    if _is_main_process():
        print(f"training {args.preset} on {ds!r}: {len(tr)} train / {len(va)} val clips -> {args.out}", flush=True)
    result = train.fit(model, tr, va, cfg, run_dir=args.out, resume=args.out if args.resume else None,
                       progress=not args.no_progress)
    if _is_main_process():
        _print_json({**result.metrics, "run_dir": str(result.run_dir)})
    return 0


def _evaluate(args) -> int:
    from labkit import runs, train

    config = runs.read_config(args.run_dir)
    model = runs.load(args.run_dir)
    ds, split = run_data(args, config)
    result = train.evaluate(model, ds, batch_size=args.batch_size, device=args.device)
    print(result.per_class.to_string(), flush=True)
    if args.predictions:
        result.predictions.to_csv(args.predictions, index=False)
        print(f"wrote {args.predictions}", flush=True)
    _print_json({**result.to_dict(), "run_dir": args.run_dir, "split": split, "data": ds.recipe})
    return 0


def register(sub) -> None:
    from labkit import models, train

    p = sub.add_parser("train", help="train a preset; last stdout line: final metrics as JSON")
    add_data_arguments(p, run=False)
    p.add_argument("--preset", default="default", choices=sorted(models.PRESETS), help="model preset")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="override a model setting (repeatable), e.g. --set cell=lstm --set conv_channels=16,32")
    p.add_argument("--val-split", type=float, default=0.15, help="share of clips held out for validation")
    p.add_argument("--out", required=True, help="run folder to write (config.json, history.csv, best.pt, ...)")
    p.add_argument("--resume", action="store_true", help="continue the run in --out from its last.pt")
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
