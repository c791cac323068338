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

import contextlib
import copy
import math
import shutil
import time
import warnings
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from labkit.errors import LabkitError, MissingPathError, RunError
from labkit import __version__, data
from labkit.runs import record

from . import distributed
from .callbacks import CallbackList, EarlyStopping, ProgressBar, StopOnEvent
from .checkpoint import Checkpoint, HistoryLogger
from .config import TrainConfig
from .devices import configure_backend, num_threads, resolve_device, resolve_precision
from .evaluation import predict_loader
from .optim import make_optimizer, make_scheduler
from .resuming import check_same_data, fast_forward, resumed_config
from .state import FitResult, TrainingInterrupted, TrainState


def fit(model, train_ds, val_ds=None, config: TrainConfig | None = None, *, callbacks=(), run_dir=None,
        resume=None, stop_event=None, progress: bool = True, **overrides) -> FitResult:
    """Train `model` (a DCRN) on `train_ds`, validating on `val_ds` after every epoch.

    config: a TrainConfig (default: TrainConfig()); **overrides change its fields for this call,
    e.g. `fit(model, tr, va, epochs=5, lr=3e-3)`. callbacks: `train.Callback`s (an EarlyStopping
    with another monitor, a TimeLimit, live plots, ...).
    run_dir: write config.json, history.csv, metrics.json, best.pt, last.pt there (one writer
    at a time). resume: a run folder to continue from its last.pt, up to `epochs` in total (a run
    stopped mid-epoch goes on with the next epoch); run_dir defaults to it (another folder forks
    the run). stop_event: a threading.Event; once set, training ends after the current batch (so
    does `state.stop_requested = True` from a callback).

    Ctrl-C / a kernel interrupt ends training too: the model gets its best weights, the run folder
    is left consistent (resumable), and then `TrainingInterrupted` (a KeyboardInterrupt carrying
    the FitResult as `.result`) is raised, so the cell, the loop or the sweep around it stops as well.

    Returns a FitResult whose model holds the best epoch's weights (best by val_accuracy, or by
    training accuracy without a validation set).
    """
    target = run_dir if run_dir is not None else resume
    run_dir = Path(target) if target is not None else None
    resume = _resumable(Path(resume)) if resume is not None else None
    if resume is not None:
        cfg, changes = resumed_config(resume, config, overrides)
        check_same_data(resume, describe_data(train_ds))
    else:
        cfg, changes = (config or TrainConfig()).replace(**overrides).validate(), []
    _check_data(model, train_ds, val_ds)
    writes = run_dir is not None and distributed.from_env().is_main
    with num_threads(cfg.threads), record.writer_lock(run_dir) if writes else contextlib.nullcontext():
        loop = _Fit(model, train_ds, val_ds, cfg, run_dir=run_dir)
        if resume is not None:
            loop.resume(resume, changes)
        elif run_dir is not None and (run_dir / record.LAST).exists():
            raise RunError(f"run_dir {run_dir} already holds a run (last.pt); continue it with "
                           f"resume={str(run_dir)!r}, or choose a new folder")
        loop.callbacks = CallbackList(loop.standard_callbacks(callbacks, progress, stop_event))
        return loop.run()


def _resumable(run_dir: Path) -> Path | None:
    """The run folder to resume from, or None when the run was killed before its first checkpoint
    (its config.json but no last.pt): it then starts again in place."""
    if (run_dir / record.LAST).is_file():
        return run_dir
    if (run_dir / record.CONFIG).is_file():
        warnings.warn(f"{run_dir} has no checkpoint yet (stopped during its first epoch): training starts again "
                      f"from the beginning in that folder", RuntimeWarning, stacklevel=3)
        return None
    raise MissingPathError(f"resume={str(run_dir)!r}: no run there to continue (no last.pt or config.json); "
                           f"check the path, or pass run_dir= to start a new run")


def _check_data(model, train_ds, val_ds) -> None:
    """Refuse training data the model cannot learn from, and validation data that cannot validate it."""
    if len(train_ds) == 0:
        raise LabkitError("fit: the training dataset is empty")
    if model.config.num_classes != train_ds.num_classes:
        raise LabkitError(f"fit: the model predicts {model.config.num_classes} classes but the training set has "
                          f"{train_ds.num_classes}; build it with num_classes=ds.num_classes")
    if val_ds is None:
        return
    if len(val_ds) == 0:
        raise LabkitError("fit: the validation set is empty; pass val_ds=None to train without validation "
                          "(the best epoch is then the one with the best training accuracy)")
    if list(val_ds.classes) != list(train_ds.classes):
        raise LabkitError(f"fit: the validation set's classes {val_ds.classes} are not the training set's "
                          f"{train_ds.classes}; split one dataset (data.split) so both share the classes")


def _epoch_seed(seed: int, epoch: int, rank: int) -> int:
    """The torch seed (dropout etc.) of one epoch on one rank."""
    return int(np.random.SeedSequence([seed, epoch, rank]).generate_state(1)[0])


def _cpu_copy(model) -> dict:
    return {k: v.detach().to("cpu", copy=True) for k, v in model.state_dict().items()}


def describe_data(ds) -> dict | None:
    """What config.json records of a dataset: name, clips, classes, the first clip's (T, H, W, C)
    and its recipe (how to rebuild exactly these clips: `data.from_recipe`)."""
    if ds is None:
        return None
    return {"name": ds.name, "clips": len(ds), "classes": list(ds.classes), "clip_shape": list(ds[0][0].shape),
            "recipe": ds.recipe}


class _Fit:
    """One call of `fit`: set-up, the epoch loop, and the wrap-up (kept as one object so the
    loop's pieces share the set-up without long argument lists)."""

    def __init__(self, model, train_ds, val_ds, cfg: TrainConfig, run_dir: Path | None):
        self.model, self.train_ds, self.val_ds, self.cfg = model, train_ds, val_ds, cfg
        device = resolve_device(cfg.device)
        self.dist = distributed.setup(device)
        self.device = self.dist.device(device)
        configure_backend(self.device)
        self.precision = resolve_precision(cfg.precision, self.device)
        model.to(self.device)
        self.net = self.dist.wrap(model, self.device)  # DDP when distributed, else the model
        self.use_lengths = train_ds.lengths is not None
        self.train_loader, self.val_loader = self._loaders()
        opt = make_optimizer(model.parameters(), cfg.optimizer, cfg.lr, cfg.weight_decay, cfg.momentum)
        self.state = TrainState(
            model=model, epochs=cfg.epochs, optimizer=opt,
            scheduler=make_scheduler(opt, cfg.scheduler, cfg.epochs, len(self.train_loader)),
            scaler=self.precision.grad_scaler(), config=self._record(), dist=self.dist, run_dir=run_dir,
            monitor="val_accuracy" if self.val_loader is not None else "accuracy")
        self.best_weights = None
        self.start_epoch = 1
        self.good_weights = _cpu_copy(model)  # restored if the loss turns non-finite
        self.callbacks = CallbackList([])

    # ---- set-up -------------------------------------------------------------------------------
    def _loaders(self):
        cfg, world = self.cfg, self.dist.world_size
        if cfg.batch_size % world:
            raise LabkitError(f"batch_size={cfg.batch_size} is the global batch and must divide evenly "
                             f"across {world} processes; use a multiple of {world}")
        per_rank, pin = cfg.batch_size // world, self.device.type == "cuda"
        train_loader = data.make_loader(
            self.train_ds, per_rank, transform=self._augmentation(), seed=cfg.seed, num_workers=cfg.workers,
            pin_memory=pin, sampler=self.dist.train_sampler(self.train_ds, cfg.seed))
        val_loader = None
        if self.val_ds is not None and len(self.val_ds):
            val_loader = data.make_loader(self.val_ds, per_rank, num_workers=cfg.workers, pin_memory=pin,
                                          sampler=self.dist.eval_indices(len(self.val_ds)))
        return train_loader, val_loader

    def _augmentation(self):
        """The training transform: TrainConfig.augment as True, False, clip_augment settings or a callable."""
        augment = self.cfg.augment
        if augment is True:
            return data.augment_for(self.train_ds)
        if isinstance(augment, dict):
            return data.clip_augment(**augment)
        return augment or None

    def _record(self) -> dict:
        """config.json: the model config, the training config, where it ran, and the data's recipes."""
        return {"labkit_version": __version__, "model": self.model.config.to_dict(), "train": self.cfg.to_dict(),
                "runtime": {"device": str(self.device), "precision": self.precision.name,
                            "world_size": self.dist.world_size},
                "data": {"train": describe_data(self.train_ds), "val": describe_data(self.val_ds)}}

    def standard_callbacks(self, user, progress: bool, stop_event) -> list:
        """Progress bar, stop event, the user's callbacks, early stopping, then the run folder writers."""
        cbs = [ProgressBar()] if progress and self.dist.is_main else []
        cbs += [StopOnEvent(stop_event)] if stop_event is not None else []
        cbs += list(user)
        if self.cfg.early_stopping is not None:
            cbs.append(EarlyStopping(self.cfg.early_stopping, monitor=self.state.monitor))
        if self.state.run_dir is not None and self.dist.is_main:
            cbs += [Checkpoint(self.state.run_dir), HistoryLogger(self.state.run_dir)]
        return cbs

    def resume(self, run_dir: Path, changes: list[dict]) -> None:
        """Load last.pt of `run_dir` into the model, optimizer, schedule and history, then apply
        the settings that changed (recorded in config.json's `changes`)."""
        ckpt = record.load_checkpoint(run_dir / record.LAST)
        saved = record.json_ready(ckpt["config"]["model"])
        current = record.json_ready(self.model.config.to_dict())
        if saved != current:
            diff = sorted(k for k in current if saved.get(k) != current[k])
            raise RunError(f"resume={run_dir}: the model's config differs from the run's in {diff}; "
                           f"build the model with models.DCRNConfig.from_dict(config['model'])")
        s = self.state
        self.model.load_state_dict(ckpt["model"])
        self._resume_optimizer(ckpt, changes)
        s.scaler.load_state_dict(ckpt["scaler"] or {})
        s.rows = record.history_from_dict(ckpt["history"])
        s.batch_rows = record.history_from_dict(ckpt.get("batches") or {})
        s.epoch, s.global_step = ckpt["epoch"], ckpt["global_step"]
        s.best_epoch, s.best_score = ckpt["best_epoch"], ckpt["best_score"]
        s.config["changes"] = list(ckpt["config"].get("changes", [])) + [{"epoch": s.epoch + 1, **c} for c in changes]
        if s.best_epoch is not None:
            self.best_weights = record.load_checkpoint(run_dir / record.BEST)["model"]
            fork = s.run_dir is not None and s.run_dir.resolve() != run_dir.resolve()
            if fork and self.dist.is_main:  # the forked run starts with the best weights so far
                s.run_dir.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(run_dir / record.BEST, s.run_dir / record.BEST)
        self.start_epoch = ckpt["epoch"] + 1
        self.good_weights = _cpu_copy(self.model)

    def _resume_optimizer(self, ckpt: dict, changes: list[dict]) -> None:
        """The optimizer's state (Adam's moments, ...) from the checkpoint, its settings from this
        run's config; the schedule as saved when nothing about it changed, else rebuilt for this
        run's length and lr and moved to the step the run reached."""
        s, cfg = self.state, self.cfg
        if ckpt["config"]["train"]["optimizer"] != cfg.optimizer:
            raise RunError(f"a run cannot change its optimizer ({ckpt['config']['train']['optimizer']} -> "
                           f"{cfg.optimizer}): its state would not fit; start a new run from the weights instead")
        fresh = make_optimizer(self.model.parameters(), cfg.optimizer, cfg.lr, cfg.weight_decay, cfg.momentum)
        s.optimizer.load_state_dict(ckpt["optimizer"])
        for group, new in zip(s.optimizer.param_groups, fresh.param_groups):
            group.update({k: v for k, v in new.items() if k not in ("params", "lr")})
        same_schedule = ckpt["config"]["train"]["epochs"] == cfg.epochs and not any(
            c["setting"] in ("lr", "scheduler") for c in changes)
        if s.scheduler is not None and ckpt["scheduler"] is not None and same_schedule:
            s.scheduler.load_state_dict(ckpt["scheduler"])
            return
        for group in s.optimizer.param_groups:  # the new schedule starts from the configured lr
            for key in ("initial_lr", "max_lr", "min_lr"):
                group.pop(key, None)
            group["lr"] = cfg.lr
        s.scheduler = make_scheduler(s.optimizer, cfg.scheduler, cfg.epochs, len(self.train_loader))
        if s.scheduler is not None:
            fast_forward(s.scheduler, s.optimizer, cfg.lr, ckpt["global_step"])

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
            # the interrupted epoch may have stopped mid-update: drop it, keep the last finished one;
            # then finish as a stop (best weights, a consistent run folder) and stop the caller too
            s.request_stop(f"interrupted during epoch {s.epoch}; kept the best of {len(s.rows)} finished epochs")
            self.model.load_state_dict(self.good_weights)
            raise TrainingInterrupted(self._finish()) from None
        return self._finish()

    def _epoch(self, epoch: int) -> bool:
        """Train one epoch, validate, record it and emit on_epoch_end. False: stop (non-finite loss)."""
        s = self.state
        data.set_epoch(self.train_loader, epoch)
        torch.manual_seed(_epoch_seed(self.cfg.seed, epoch, self.dist.rank))  # dropout, loader seeds
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

    def _step(self, clips, labels, lengths) -> tuple[float, int, float] | None:
        """One update on a batch: (loss, correct predictions, gradient norm before clipping), or
        None when the loss is not finite (on any rank). One code path for every precision: the
        scaler is enabled for fp16 only and passes straight through otherwise."""
        s = self.state
        x = self.model.preprocess(clips)  # uint8 (B, T, H, W, C) -> float (B, T, C, H, W) on device
        y = labels.to(self.device, non_blocking=True)
        with self.precision.autocast():
            logits = self.net(x, lengths if self.use_lengths else None)  # (B, K)
        loss = F.cross_entropy(logits.float(), y)
        if self.dist.any(not torch.isfinite(loss).item()):
            self._non_finite(loss.item())
            return None
        s.optimizer.zero_grad(set_to_none=True)
        s.scaler.scale(loss).backward()
        s.scaler.unscale_(s.optimizer)
        clip = self.cfg.grad_clip if self.cfg.grad_clip is not None else math.inf
        grad_norm = torch.nn.utils.clip_grad_norm_(self.params, clip).item()  # norm before clipping
        s.scaler.step(s.optimizer)
        s.scaler.update()
        if s.scheduler is not None:
            s.scheduler.step()
        s.global_step += 1
        return loss.item(), (logits.argmax(1) == y).sum().item(), grad_norm

    def _train_batches(self) -> dict | None:
        """One pass over the training loader; the epoch's training metrics, or None after a non-finite loss."""
        s = self.state
        self.net.train()
        self.params = [p for p in self.model.parameters() if p.requires_grad]
        s.num_batches, s.epoch_complete = len(self.train_loader), True
        loss_sum = correct = count = grad_sum = 0.0
        s.epoch_started = start = time.perf_counter()
        for s.batch, (clips, labels, lengths) in enumerate(self.train_loader, 1):
            step = self._step(clips, labels, lengths)
            if step is None:
                return None
            batch_loss, batch_correct, grad_norm = step
            n = len(labels)
            loss_sum, correct, count = loss_sum + batch_loss * n, correct + batch_correct, count + n
            grad_sum += grad_norm
            s.batch_logs = {"loss": batch_loss, "accuracy": batch_correct / n, "grad_norm": grad_norm}
            s.batch_rows.append({"epoch": s.epoch, "batch": s.batch, "step": s.global_step,
                                 "lr": s.optimizer.param_groups[0]["lr"], **s.batch_logs})
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
               f"weights of {done} restored; try a lower lr, grad_clip=1.0 or precision='fp32'")
        s.request_stop(msg)
        self.model.load_state_dict(self.good_weights)
        if self.dist.is_main:
            warnings.warn(msg, RuntimeWarning, stacklevel=7)  # the caller of fit

    def _finish(self) -> FitResult:
        s = self.state
        if self.best_weights is not None:
            self.model.load_state_dict(self.best_weights)
        s.metrics = record.final_metrics(s.rows, s.best_epoch, s.stop_reason if s.stop_requested else None)
        self.callbacks.on_train_end(s)
        self.dist.barrier()  # rank 0 has finished writing before any rank returns
        return FitResult(history=s.history, best_epoch=s.best_epoch, best_val_accuracy=s.metrics["best_val_accuracy"],
                         model=self.model, run_dir=s.run_dir, stopped=s.metrics["stopped"],
                         metrics=copy.deepcopy(s.metrics))
