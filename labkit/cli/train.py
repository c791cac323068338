"""`labkit train` and `labkit evaluate`: train a preset on synthetic or folder data into a run
folder, or evaluate a run on data. Both print progress, then the metrics as ONE JSON object on
the last line of stdout (so scripts can `tail -n1 | jq`)."""
from __future__ import annotations

import dataclasses
import json
import sys


def load_data(spec: str, n: int, frames: int, size: int, seed: int):
    """`synthetic:NAME` -> data.synthetic(NAME, n, frames, size, seed); anything else is a folder."""
    from labkit import data

    if spec.startswith("synthetic:"):
        return data.synthetic(spec.split(":", 1)[1], n=n, frames=frames, size=size, seed=seed)
    return data.folder(spec, frames=frames, size=size)


def parse_overrides(pairs: list[str]) -> dict:
    """["hidden_size=32", "conv_channels=16,32", "cell=lstm"] -> DCRNConfig overrides.

    Values are read as JSON where they parse (numbers, true/false, [lists]); comma-separated
    values become tuples, as does a single value for a tuple setting (conv_channels=16); anything
    else stays a string.
    """
    from labkit.models import DCRNConfig

    fields = {f.name: f for f in dataclasses.fields(DCRNConfig)}
    tuple_fields = {name for name, f in fields.items() if isinstance(f.default, tuple)}
    out = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep:
            raise ValueError(f"--set {pair!r}: expected key=value, e.g. --set hidden_size=32")
        if key not in fields:
            raise ValueError(f"--set {key}: not a model setting; valid keys: {', '.join(sorted(fields))}")
        parts = [_json_or_text(p) for p in raw.split(",")] if "," in raw and not raw.startswith("[") else None
        value = tuple(parts) if parts is not None else _json_or_text(raw)
        if isinstance(value, list) or (key in tuple_fields and not isinstance(value, tuple)):
            value = tuple(value) if isinstance(value, list) else (value,)  # conv_channels=16 -> (16,)
        out[key] = value
    return out


def _json_or_text(text: str):
    try:
        return json.loads(text)
    except ValueError:
        return text


def _print_json(obj: dict) -> None:
    """The one machine-readable line: strict JSON (NaN/inf become null)."""
    from labkit.train.checkpoint import json_ready

    print(json.dumps(json_ready(obj), default=str), flush=True)


def _is_main_process() -> bool:
    """Under torchrun only rank 0 speaks, so the last line stays one JSON object."""
    from labkit.train.distributed import from_env

    return from_env().is_main


def _train(args) -> int:
    from labkit import data, models, train

    ds = load_data(args.data, args.n, args.frames, args.size, args.seed)
    tr, va = data.split(ds, (1 - args.val_split, args.val_split), seed=args.seed)
    model = models.preset(args.preset, num_classes=ds.num_classes, img_size=args.size, seed=args.seed,
                          **parse_overrides(args.set or []))
    if _is_main_process():
        print(f"training {args.preset} on {ds!r}: {len(tr)} train / {len(va)} val clips -> {args.out}", flush=True)
    result = train.fit(model, tr, va, epochs=args.epochs, batch_size=args.batch_size, optimizer=args.optimizer,
                       lr=args.lr, weight_decay=args.weight_decay, scheduler=args.scheduler,
                       grad_clip=args.grad_clip, amp=_amp(args.amp), device=args.device, seed=args.seed,
                       early_stopping=args.early_stopping, augment=not args.no_augment, run_dir=args.out,
                       resume=args.out if args.resume else None, num_workers=args.workers,
                       progress=not args.no_progress, threads=args.threads)
    if _is_main_process():
        _print_json({**result.metrics, "run_dir": str(result.run_dir)})
    return 0


def _evaluate(args) -> int:
    from labkit import runs, train

    shape = ((runs.read_config(args.run_dir).get("data") or {}).get("train") or {}).get("clip_shape") or [16, 64]
    frames = args.frames or shape[0]
    size = args.size or shape[1]
    model = runs.load(args.run_dir)
    ds = load_data(args.data, args.n, frames, size, args.seed)
    result = train.evaluate(model, ds, batch_size=args.batch_size, device=args.device)
    print(result.per_class.to_string(), flush=True)
    if args.predictions:
        result.predictions.to_csv(args.predictions, index=False)
        print(f"wrote {args.predictions}", flush=True)
    _print_json({**result.to_dict(), "run_dir": args.run_dir, "data": args.data})
    return 0


def _amp(text: str):
    return {"off": False, "auto": True}.get(text, text)


def _data_args(p, frames_default, size_default, seed_default, seed_help) -> None:
    p.add_argument("--data", required=True, help="synthetic:direction|order|digits, or a folder of clips")
    p.add_argument("--n", type=int, default=2000, help="clips to generate (synthetic data)")
    p.add_argument("--frames", type=int, default=frames_default, help="frames per clip (evaluate: the run's)")
    p.add_argument("--size", type=int, default=size_default, help="frame side in pixels (evaluate: the run's)")
    p.add_argument("--seed", type=int, default=seed_default, help=seed_help)
    p.add_argument("--batch-size", type=int, default=32, help="global batch size")
    p.add_argument("--device", default="auto", help="auto (CUDA, else MPS, else CPU), cpu, cuda, mps")


def register(sub) -> None:
    p = sub.add_parser("train", help="train a preset; last stdout line: final metrics as JSON")
    _data_args(p, 16, 64, 0, "data, split and training seed")
    p.add_argument("--preset", default="default", help="model preset: seed, default, frame-only")
    p.add_argument("--set", action="append", metavar="KEY=VALUE", help="override a model setting (repeatable)")
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--out", required=True, help="run folder to write (config.json, history.csv, best.pt, ...)")
    p.add_argument("--resume", action="store_true", help="continue the run in --out from its last.pt")
    p.add_argument("--val-split", type=float, default=0.15, help="fraction of clips held out for validation")
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--weight-decay", type=float, default=0.0)
    p.add_argument("--optimizer", default="adam", choices=["adam", "sgd", "rmsprop"])
    p.add_argument("--scheduler", default=None, choices=["cosine", "step", "onecycle"])
    p.add_argument("--grad-clip", type=float, default=None, help="max gradient norm")
    p.add_argument("--amp", default="off", choices=["off", "auto", "bf16", "fp16"], help="mixed precision")
    p.add_argument("--early-stopping", type=int, default=None, metavar="PATIENCE")
    p.add_argument("--no-augment", action="store_true", help="train without clip augmentation")
    p.add_argument("--workers", type=int, default=0, help="data loader worker processes")
    p.add_argument("--threads", type=int, default=None, help="CPU threads (default: torch's)")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.set_defaults(func=_train)

    e = sub.add_parser("evaluate", help="evaluate a run's best model; last stdout line: metrics as JSON")
    e.add_argument("run_dir", help="a run folder written by `labkit train`")
    _data_args(e, None, None, 1, "synthetic data seed (default 1: clips not seen by a run trained on seed 0)")
    e.add_argument("--predictions", default="", help="also write the per-clip predictions CSV here")
    e.set_defaults(func=_evaluate)
