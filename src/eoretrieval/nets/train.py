"""The one training loop of the library: any model, any objective with ``loss(model, x1, cond)``.

The loop owns the seed, the device, Adam, early stopping on the validation loss, the checkpoint of the
best weights, a tqdm progress bar and a CSV log with one row per epoch.

Public names: :func:`train`, :func:`resolve_device`, :func:`seed_everything`, :class:`TrainResult`.
"""

from __future__ import annotations

import contextlib
import copy
import csv
import os
import random
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset
from tqdm import tqdm

__all__ = ["train", "resolve_device", "seed_everything", "TrainResult", "LOG_COLUMNS"]

#: Columns of the CSV training log.
LOG_COLUMNS = ("epoch", "train_loss", "val_loss", "lr", "seconds", "best")


class Objective(Protocol):
    def loss(self, model: nn.Module, x1: torch.Tensor, cond: torch.Tensor) -> torch.Tensor: ...


@dataclass
class TrainResult:
    """What :func:`train` returns: best validation loss and epoch, per-epoch history, wall time."""

    best_val_loss: float
    best_epoch: int
    epochs_run: int
    seconds: float
    history: list[dict] = field(default_factory=list)


def resolve_device(device: str = "auto") -> torch.device:
    """Return ``cuda`` if ``device="auto"`` and a GPU is present, else ``cpu``; or the named device.

    Raises
    ------
    ValueError
        If ``device`` is not ``"auto"``, ``"cpu"`` or a CUDA device, or CUDA is asked for but absent.
    """
    name = str(device).lower()
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cpu":
        return torch.device("cpu")
    if name.startswith("cuda"):
        if not torch.cuda.is_available():
            raise ValueError(f"device={device!r} asked for, but no CUDA device is available; use 'cpu' or 'auto'")
        return torch.device(name)
    raise ValueError(f"unknown device {device!r}; valid: 'auto', 'cpu', 'cuda', 'cuda:<n>'")


def seed_everything(seed: int) -> torch.Generator:
    """Seed Python, numpy and torch; return a CPU generator seeded with ``seed`` for data shuffling."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    return torch.Generator().manual_seed(seed)


def _mean_loss(model, objective, loader, device, seed: int | None = None) -> float:
    """Mean of ``objective.loss`` over ``loader``; with ``seed`` the objective's random draws (time, noise) come from
    a forked generator seeded with it, so the loss is a deterministic function of the weights and the caller's
    random stream is left where it was."""
    model.eval()
    total, n = 0.0, 0
    devices = [device] if torch.device(device).type == "cuda" else []
    fork = torch.random.fork_rng(devices=devices) if seed is not None else contextlib.nullcontext()
    with fork, torch.no_grad():
        if seed is not None:
            torch.manual_seed(seed)
        for x1, cond in loader:
            x1, cond = x1.to(device), cond.to(device)
            total += objective.loss(model, x1, cond).item() * len(x1)
            n += len(x1)
    return total / max(n, 1)


def train(model: nn.Module, objective: Objective, train_data: tuple[torch.Tensor, torch.Tensor],
          val_data: tuple[torch.Tensor, torch.Tensor] | None = None, *, epochs: int = 10, batch_size: int = 16,
          lr: float = 1e-3, weight_decay: float = 0.0, patience: int | None = 10, seed: int = 0,
          device: str = "auto", max_steps: int | None = None, checkpoint: str | os.PathLike | None = None,
          log_csv: str | os.PathLike | None = None, progress: bool | None = None,
          lr_schedule: str = "cosine", augment=None, val_seed: int | None = None) -> TrainResult:
    """Train ``model`` with ``objective.loss`` and Adam; keep the weights of the best validation epoch.

    Parameters
    ----------
    model : torch.nn.Module
        Network; trained in place and left holding the best weights (lowest validation loss, or the
        last epoch's if ``val_data`` is None).
    objective : object with ``loss(model, x1, cond) -> Tensor``
        E.g. :class:`~eoretrieval.nets.objectives.Regression` or :class:`~eoretrieval.nets.objectives.ELBO`.
    train_data, val_data : (x1, cond)
        Target ``(n, c, y, x)`` and condition ``(n, c', y, x)`` tensors.
    epochs, batch_size, lr, weight_decay : int, int, float, float
        Optimisation settings.
    patience : int or None
        Stop after this many epochs without a better validation loss (None: never).
    seed : int
        Seeds weights' initialisation (if the model is built after this call, seed it yourself),
        dropout, shuffling and the objective's noise.
    device : str
        ``"auto"``, ``"cpu"`` or ``"cuda[:n]"``.
    max_steps : int or None
        Stop after this many optimiser steps in total (smoke tests).
    checkpoint : path or None
        Where to save the best ``state_dict`` (``torch.save``).
    log_csv : path or None
        CSV log, columns :data:`LOG_COLUMNS`.
    progress : bool or None
        Show a tqdm bar (None: only on a terminal or in a notebook).
    lr_schedule : {"cosine", "constant"}
        Learning-rate schedule over ``epochs``.
    augment : callable or None
        ``augment(x1, cond, generator) -> (x1, cond)`` applied to every training batch (not to validation),
        e.g. :class:`~eoretrieval.nox.features.ScaleAugment`.
    val_seed : int or None
        For an objective that draws its own randomness (flow matching's time and source noise, a diffusion's
        noise level), the validation loss of one pass is a random number: the minimum over many epochs is low
        by chance, and more epochs make it lower. With ``val_seed`` every validation pass draws the same numbers
        (a forked generator; the training stream is untouched), so epochs and runs compare on one footing. None
        keeps the earlier behaviour (validation draws from the training stream), which the recorded commands of
        earlier artefacts reproduce.

    Returns
    -------
    TrainResult
    """
    dev = resolve_device(device)
    gen = seed_everything(seed)
    model.to(dev)
    loader = DataLoader(TensorDataset(*train_data), batch_size=batch_size, shuffle=True, generator=gen,
                        drop_last=len(train_data[0]) > batch_size)
    val_loader = (DataLoader(TensorDataset(*val_data), batch_size=max(batch_size, 32))
                  if val_data is not None else None)
    opt = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    sched = (torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=max(epochs, 1), eta_min=lr * 0.02)
             if lr_schedule == "cosine" else None)
    if lr_schedule not in ("cosine", "constant"):
        raise ValueError(f"unknown lr_schedule {lr_schedule!r}; valid: 'cosine', 'constant'")
    best_state, best_val, best_epoch, bad, steps = None, float("inf"), 0, 0, 0
    history: list[dict] = []
    writer = None
    if log_csv is not None:
        Path(log_csv).parent.mkdir(parents=True, exist_ok=True)
        log_file = open(log_csv, "w", newline="")
        writer = csv.DictWriter(log_file, fieldnames=LOG_COLUMNS)
        writer.writeheader()
    start = time.perf_counter()
    bar = tqdm(range(1, epochs + 1), desc="train", unit="epoch", disable=None if progress is None else not progress)
    try:
        for epoch in bar:
            t0 = time.perf_counter()
            model.train()
            total, n = 0.0, 0
            for x1, cond in loader:
                if augment is not None:
                    x1, cond = augment(x1, cond, gen)
                x1, cond = x1.to(dev), cond.to(dev)
                loss = objective.loss(model, x1, cond)
                if not torch.isfinite(loss):
                    raise FloatingPointError(f"non-finite training loss {loss.item()} at epoch {epoch}")
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                total += loss.item() * len(x1)
                n += len(x1)
                steps += 1
                if max_steps is not None and steps >= max_steps:
                    break
            lr_now = opt.param_groups[0]["lr"]
            if sched is not None:
                sched.step()
            train_loss = total / max(n, 1)
            val_loss = (_mean_loss(model, objective, val_loader, dev, seed=val_seed) if val_loader is not None
                        else train_loss)
            improved = val_loss < best_val
            if improved:
                best_val, best_epoch, bad = val_loss, epoch, 0
                best_state = copy.deepcopy(model.state_dict())
                if checkpoint is not None:
                    Path(checkpoint).parent.mkdir(parents=True, exist_ok=True)
                    torch.save(best_state, checkpoint)
            else:
                bad += 1
            row = {"epoch": epoch, "train_loss": train_loss, "val_loss": val_loss, "lr": lr_now,
                   "seconds": time.perf_counter() - t0, "best": int(improved)}
            history.append(row)
            if writer is not None:
                writer.writerow(row)
                log_file.flush()
            bar.set_postfix(train=f"{train_loss:.4g}", val=f"{val_loss:.4g}", best=best_epoch)
            if (patience is not None and bad >= patience) or (max_steps is not None and steps >= max_steps):
                break
    finally:
        bar.close()
        if writer is not None:
            log_file.close()
    if best_state is not None:
        model.load_state_dict(best_state)
    return TrainResult(best_val_loss=best_val, best_epoch=best_epoch, epochs_run=len(history),
                       seconds=time.perf_counter() - start, history=history)
