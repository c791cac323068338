"""`fit()`: the training loop. It trains, validates, keeps the best weights and emits events;
progress bars, checkpoints, early stopping and stop buttons are callbacks.

Reproducibility: everything random is derived from (seed, epoch) — the shuffling (a seeded
DistributedSampler), the augmentation (data.make_loader's per-(seed, epoch, index) rng) and
dropout (the torch rng is re-seeded at the start of each epoch; the caller's rng state is
restored afterwards). With the optimizer and schedule state in last.pt, `resume=` continues a run
exactly where an uninterrupted one would be.

Distributed: under `torchrun --nproc_per_node=N` the same call trains with
DistributedDataParallel. `batch_size` is the GLOBAL batch, split evenly across the N processes,
so a run gives the same updates whatever N is (up to float rounding; BatchNorm statistics are
per process). Only rank 0 writes run files and shows progress; metrics are summed over ranks.
"""
from __future__ import annotations

import copy
import json
import math
import shutil
import time
import warnings
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from labkit import __version__, data

from . import distributed
from .callbacks import CallbackList, EarlyStopping, ProgressBar, StopOnEvent
from .checkpoint import BEST, LAST, Checkpoint, HistoryLogger, history_from_dict, load_checkpoint
from .devices import configure_backend, num_threads, resolve_device, resolve_precision
from .evaluate import predict_loader
from .optim import make_optimizer, make_scheduler
from .state import FitResult, TrainState


def fit(model, train_ds, val_ds=None, epochs: int = 10, batch_size: int = 32, optimizer: str = "adam",
        lr: float = 1e-3, weight_decay: float = 0.0, scheduler: str | None = None,
        grad_clip: float | None = None, amp: bool | str = False, device="auto", seed: int = 0,
        callbacks=(), early_stopping=None, augment=True, run_dir=None, resume=None,
        num_workers: int = 0, progress: bool = True, stop_event=None, threads: int | None = None) -> FitResult:
    """Train `model` (a DCRN) on `train_ds`, validating on `val_ds` after every epoch.

    - optimizer "adam" | "sgd" (momentum 0.9) | "rmsprop"; scheduler None | "cosine" | "step" |
      "onecycle" (stepped per batch); grad_clip: max gradient norm (None: no clipping).
    - amp: False | True | "bf16" | "fp16" (see devices.resolve_precision); device "auto" = CUDA,
      else MPS, else CPU; threads: CPU threads for this call (None: torch's setting; on a small
      CPU that other processes also use, threads=1 is often several times faster).
    - augment: True = data.augment_for(train_ds) (clip_augment, flips off where mirroring changes
      the class) on the training split, never on validation; False = none; or any
      transform(clip, rng) -> clip.
    - early_stopping: None, a patience (int, monitoring val_accuracy) or an EarlyStopping.
    - run_dir: write config.json, history.csv, metrics.json, best.pt, last.pt there.
      resume: a run folder to continue from its last.pt, up to `epochs` in total (a run stopped
      mid-epoch goes on with the next epoch); run_dir defaults to it (another folder forks the run).
    - batch_size is the global batch: under torchrun each of N processes takes batch_size / N.
    - stop_event: a threading.Event; once set, training ends after the current batch (so does
      `state.stop_requested = True` from a callback, and Ctrl-C / a kernel interrupt).

    Returns a FitResult whose model holds the best epoch's weights (best by val_accuracy, or by
    training accuracy without a validation set).
    """
    if epochs < 1:
        raise ValueError(f"epochs={epochs}; must be >= 1")
    if batch_size < 1:
        raise ValueError(f"batch_size={batch_size}; must be >= 1")
    if len(train_ds) == 0:
        raise ValueError("fit: the training dataset is empty")
    if isinstance(early_stopping, bool):
        raise ValueError(f"early_stopping={early_stopping}; pass a patience in epochs (e.g. 5) or an EarlyStopping")
    if model.config.num_classes != train_ds.num_classes:
        raise ValueError(f"fit: the model predicts {model.config.num_classes} classes but the training set has "
                         f"{train_ds.num_classes}; build it with num_classes=ds.num_classes")
    with num_threads(threads):
        return _Fit(model, train_ds, val_ds, dict(
            epochs=epochs, batch_size=batch_size, optimizer=optimizer, lr=lr, weight_decay=weight_decay,
            scheduler=scheduler, grad_clip=grad_clip, amp=amp, device=str(device), seed=seed,
            augment=augment if isinstance(augment, bool) else repr(augment),
            early_stopping=early_stopping if early_stopping is None or isinstance(early_stopping, int)
            else vars(early_stopping)),
            transform=augment, callbacks=callbacks, early_stopping=early_stopping, run_dir=run_dir,
            resume=resume, num_workers=num_workers, progress=progress, stop_event=stop_event).run()


def _epoch_seed(seed: int, epoch: int, rank: int) -> int:
    """The torch seed (dropout etc.) of one epoch on one rank."""
    return int(np.random.SeedSequence([seed, epoch, rank]).generate_state(1)[0])


def _cpu_copy(model) -> dict:
    return {k: v.detach().to("cpu", copy=True) for k, v in model.state_dict().items()}


class _Fit:
    """One call of `fit`: set-up, the epoch loop, and the wrap-up (kept as one object so the
    loop's pieces share the set-up without long argument lists)."""

    def __init__(self, model, train_ds, val_ds, hparams, *, transform, callbacks, early_stopping,
                 run_dir, resume, num_workers, progress, stop_event):
        self.model, self.train_ds, self.val_ds, self.hp = model, train_ds, val_ds, hparams
        device = resolve_device(hparams["device"])
        self.dist = distributed.setup(device)
        self.device = self.dist.device(device)
        configure_backend(self.device)
        self.precision = resolve_precision(hparams["amp"], self.device)
        world = self.dist.world_size
        if hparams["batch_size"] % world:
            raise ValueError(f"batch_size={hparams['batch_size']} is the global batch and must divide evenly "
                             f"across {world} processes; use a multiple of {world}")
        per_rank = hparams["batch_size"] // world
        pin = self.device.type == "cuda"
        model.to(self.device)
        self.net = self.dist.wrap(model, self.device)  # DDP when distributed, else the model
        self.use_lengths = train_ds.lengths is not None
        augment = data.augment_for(train_ds) if transform is True else (transform or None)
        self.train_loader = data.make_loader(
            train_ds, per_rank, transform=augment, seed=hparams["seed"], num_workers=num_workers,
            pin_memory=pin, sampler=self.dist.train_sampler(train_ds, hparams["seed"]))
        self.val_loader = None
        if val_ds is not None and len(val_ds):
            self.val_loader = data.make_loader(val_ds, per_rank, num_workers=num_workers, pin_memory=pin,
                                               sampler=self.dist.eval_indices(len(val_ds)))
        opt = make_optimizer(model.parameters(), hparams["optimizer"], hparams["lr"], hparams["weight_decay"])
        sched = make_scheduler(opt, hparams["scheduler"], hparams["epochs"], len(self.train_loader))
        if resume is not None and run_dir is None:
            run_dir = resume
        self.state = TrainState(
            model=model, epochs=hparams["epochs"], optimizer=opt, scheduler=sched,
            scaler=self.precision.grad_scaler(), config=self._config(), dist=self.dist,
            run_dir=Path(run_dir) if run_dir is not None else None,
            monitor="val_accuracy" if self.val_loader is not None else "accuracy")
        self.best_weights = None
        self.start_epoch = 1
        if resume is not None:
            self._resume(Path(resume))
        elif run_dir is not None and (Path(run_dir) / LAST).exists():
            raise ValueError(f"run_dir {run_dir} already holds a run (last.pt); continue it with "
                             f"resume={str(run_dir)!r}, or choose a new folder")
        self.good_weights = _cpu_copy(model)  # restored if the loss turns non-finite
        self.callbacks = CallbackList(self._callbacks(callbacks, early_stopping, progress, stop_event))

    # ---- set-up helpers -----------------------------------------------------------------------
    def _config(self) -> dict:
        """config.json: model config, training hyper-parameters and what the data was."""
        def describe(ds):
            if ds is None:
                return None
            # info: how the clips were made or read (task options such as order's gap, or the
            # folder and sampling), so runs.table can tell runs on different data apart
            info = json.loads(json.dumps(getattr(ds, "info", None) or {}, default=str))
            return {"name": ds.name, "clips": len(ds), "classes": list(ds.classes),
                    "clip_shape": list(ds[0][0].shape), "info": info}  # clip_shape: (T, H, W, C) of the first clip

        return {"labkit_version": __version__, "model": self.model.config.to_dict(),
                "train": {**self.hp, "device": str(self.device), "precision": self.precision.name,
                          "world_size": self.dist.world_size},
                "data": {"train": describe(self.train_ds), "val": describe(self.val_ds)}}

    def _callbacks(self, user, early_stopping, progress, stop_event) -> list:
        cbs = []
        if progress and self.dist.is_main:
            cbs.append(ProgressBar())
        if stop_event is not None:
            cbs.append(StopOnEvent(stop_event))
        cbs.extend(user)
        if isinstance(early_stopping, int):
            early_stopping = EarlyStopping(early_stopping, monitor=self.state.monitor)
        if early_stopping is not None:
            cbs.append(early_stopping)
        if self.state.run_dir is not None and self.dist.is_main:
            cbs += [Checkpoint(self.state.run_dir), HistoryLogger(self.state.run_dir)]
        return cbs

    def _resume(self, run_dir: Path) -> None:
        """Load last.pt of `run_dir` into the model, optimizer, schedule and history."""
        ckpt = load_checkpoint(run_dir / LAST)
        saved = json.loads(json.dumps(ckpt["config"]["model"]))
        current = json.loads(json.dumps(self.model.config.to_dict()))
        if saved != current:
            diff = sorted(k for k in current if saved.get(k) != current[k])
            raise ValueError(f"resume={run_dir}: the model's config differs from the run's in {diff}; "
                             f"build the model with models.DCRNConfig.from_dict(config['model'])")
        s = self.state
        self.model.load_state_dict(ckpt["model"])
        s.optimizer.load_state_dict(ckpt["optimizer"])
        if s.scheduler is not None and ckpt["scheduler"] is not None:
            s.scheduler.load_state_dict(ckpt["scheduler"])
        if s.scaler is not None and ckpt["scaler"] is not None:
            s.scaler.load_state_dict(ckpt["scaler"])
        s.rows = history_from_dict(ckpt["history"])
        s.epoch = ckpt["epoch"]
        s.global_step = ckpt["global_step"]
        s.best_epoch, s.best_score = ckpt["best_epoch"], ckpt["best_score"]
        if s.best_epoch is not None:
            self.best_weights = load_checkpoint(run_dir / BEST)["model"]
            fork = s.run_dir is not None and s.run_dir.resolve() != run_dir.resolve()
            if fork and self.dist.is_main:  # the forked run starts with the best weights so far
                s.run_dir.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(run_dir / BEST, s.run_dir / BEST)
        self.start_epoch = ckpt["epoch"] + 1

    # ---- the loop -----------------------------------------------------------------------------
    def run(self) -> FitResult:
        s = self.state
        self.callbacks.on_train_begin(s)
        # each epoch re-seeds torch's rng; fork_rng hands the caller's rng state back untouched
        rng_devices = [] if self.device.type == "cpu" else [self.device.index or 0]
        try:
            with torch.random.fork_rng(devices=rng_devices, device_type=self.device.type):
                for epoch in range(self.start_epoch, s.epochs + 1):
                    if s.stop_requested:
                        break
                    s.epoch = epoch
                    if not self._epoch(epoch):
                        break
        except KeyboardInterrupt:
            # the interrupted epoch may have stopped mid-update: drop it, keep the last finished one
            s.request_stop(f"interrupted during epoch {s.epoch}; kept the best of {len(s.rows)} finished epochs")
            self.model.load_state_dict(self.good_weights)
        return self._finish()

    def _epoch(self, epoch: int) -> bool:
        """Train one epoch, validate, record it and emit on_epoch_end. False: stop (non-finite loss)."""
        s = self.state
        data.set_epoch(self.train_loader, epoch)
        torch.manual_seed(_epoch_seed(self.hp["seed"], epoch, self.dist.rank))  # dropout, loader seeds
        row = self._train_batches()
        if row is None:
            return False
        row.update(self._validate())
        row["lr"] = s.optimizer.param_groups[0]["lr"]
        s.rows.append(row)
        score = row[s.monitor]
        s.is_best = not math.isnan(score) and (s.best_score is None or score > s.best_score)
        if s.is_best:
            s.best_epoch, s.best_score = epoch, score
            self.best_weights = _cpu_copy(self.model)
        self.good_weights = _cpu_copy(self.model)
        self.callbacks.on_epoch_end(s)
        if self.dist.any(s.stop_requested):
            s.request_stop("stop requested")
        return True

    def _train_batches(self) -> dict | None:
        """One pass over the training loader; the epoch's training metrics, or None after a non-finite loss."""
        s, model, dev = self.state, self.model, self.device
        self.net.train()
        params = [p for p in model.parameters() if p.requires_grad]
        clip = self.hp["grad_clip"] if self.hp["grad_clip"] is not None else math.inf
        s.num_batches, s.epoch_complete = len(self.train_loader), True
        loss_sum = correct = count = grad_sum = 0.0
        s.epoch_started = start = time.perf_counter()
        for s.batch, (clips, labels, lengths) in enumerate(self.train_loader, 1):
            x = model.preprocess(clips)  # uint8 (B, T, H, W, C) -> float (B, T, C, H, W) on device
            y = labels.to(dev, non_blocking=True)
            with self.precision.autocast():
                logits = self.net(x, lengths if self.use_lengths else None)  # (B, K)
            loss = F.cross_entropy(logits.float(), y)
            if self.dist.any(not torch.isfinite(loss).item()):
                self._non_finite(loss.item())
                return None
            s.optimizer.zero_grad(set_to_none=True)
            if s.scaler is not None:
                s.scaler.scale(loss).backward()
                s.scaler.unscale_(s.optimizer)
            else:
                loss.backward()
            grad_norm = torch.nn.utils.clip_grad_norm_(params, clip).item()  # norm before clipping
            if s.scaler is not None:
                s.scaler.step(s.optimizer)
                s.scaler.update()
            else:
                s.optimizer.step()
            if s.scheduler is not None:
                s.scheduler.step()
            s.global_step += 1
            n, batch_loss = len(y), loss.item()
            batch_correct = (logits.argmax(1) == y).sum().item()
            loss_sum, correct, count = loss_sum + batch_loss * n, correct + batch_correct, count + n
            grad_sum += grad_norm
            s.batch_logs = {"loss": batch_loss, "accuracy": batch_correct / n, "grad_norm": grad_norm}
            self.callbacks.on_batch_end(s)
            if self.dist.any(s.stop_requested):
                s.request_stop("stop requested")
                s.epoch_complete = s.batch == s.num_batches
                break
        seconds = time.perf_counter() - start
        loss_sum, correct, count, grad_sum, batches = self.dist.sum(
            [loss_sum, correct, count, grad_sum, float(s.batch)])
        return {"epoch": s.epoch, "loss": loss_sum / count, "accuracy": correct / count,
                "grad_norm": grad_sum / batches, "seconds": seconds, "clips_per_s": count / seconds}

    def _validate(self) -> dict:
        """val_loss / val_accuracy over the whole validation set (NaN without one)."""
        if self.val_loader is None:
            return {"val_loss": math.nan, "val_accuracy": math.nan, "val_seconds": 0.0}
        start = time.perf_counter()
        loss_sum = correct = count = 0.0
        for logits, y in predict_loader(self.model, self.val_loader, self.precision, self.use_lengths):
            loss_sum += F.cross_entropy(logits, y, reduction="sum").item()
            correct += (logits.argmax(1) == y).sum().item()
            count += len(y)
        loss_sum, correct, count = self.dist.sum([loss_sum, correct, count])
        return {"val_loss": loss_sum / count, "val_accuracy": correct / count,
                "val_seconds": time.perf_counter() - start}

    def _non_finite(self, loss: float) -> None:
        s = self.state
        done = f"epoch {len(s.rows)}" if s.rows else "the start of training"
        msg = (f"non-finite loss ({loss}) at epoch {s.epoch}, batch {s.batch}: training stopped and the "
               f"weights of {done} restored; try a lower lr, grad_clip=1.0 or amp=False")
        s.request_stop(msg)
        self.model.load_state_dict(self.good_weights)
        if self.dist.is_main:
            warnings.warn(msg, RuntimeWarning, stacklevel=4)

    def _finish(self) -> FitResult:
        s = self.state
        if self.best_weights is not None:
            self.model.load_state_dict(self.best_weights)
        last = s.rows[-1] if s.rows else {}
        best = next((r for r in s.rows if r["epoch"] == s.best_epoch), {})
        best_val = best.get("val_accuracy")
        best_val = None if best_val is None or math.isnan(best_val) else best_val
        s.metrics = {
            "epochs": len(s.rows), "best_epoch": s.best_epoch, "best_val_accuracy": best_val,
            **{f"final_{k}": last.get(k) for k in ("loss", "accuracy", "val_loss", "val_accuracy")},
            "train_seconds": sum(r["seconds"] for r in s.rows),
            "stopped": s.stop_reason if s.stop_requested else None,
        }
        self.callbacks.on_train_end(s)
        self.dist.barrier()  # rank 0 has finished writing before any rank returns
        return FitResult(history=s.history, best_epoch=s.best_epoch, best_val_accuracy=best_val,
                         model=self.model, run_dir=s.run_dir, stopped=s.metrics["stopped"],
                         metrics=copy.deepcopy(s.metrics))
