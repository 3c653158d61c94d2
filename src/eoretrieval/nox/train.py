"""Training command of the NOx study: ``python -m eoretrieval.train nox [options]``.

Builds the OSSE world (:func:`eoretrieval.nox.make_nox_world`), turns its training and validation
splits into tensors (:mod:`~eoretrieval.nox.features`), trains SmaAt-UNet (regression) or the
conditional VAE (ELBO) with :func:`~eoretrieval.nets.train.train`, and writes the artefact
``artifacts/nox/<name>/`` (weights, normalisation, manifest with held-out validation metrics, log).

Example::

    python -m eoretrieval.train nox --profile ci --model smaat_unet --epochs 40 --seed 0 \\
        --out artifacts/nox/smaat_unet

Public names: :func:`main`, :func:`build_parser`, :func:`build_world`, :func:`load_artifact`,
:func:`validation_metrics`, and the steps of :func:`main`: :func:`training_days`, :func:`prepare_data`,
:func:`build_model`, :func:`build_augment`, :func:`score_validation`.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import platform
from pathlib import Path

import numpy as np
import torch
import xarray as xr

from .. import artifacts
from ..conventions import LAT, LON, TIME
from ..errors import DataError
from ..nets import get_model, get_objective
from ..nets.normalisation import Normalisation
from .features import DEFAULT_CHANNELS, ScaleAugment, compute_normalisation, decode_targets, \
    make_inputs, make_targets
from .world import split_days
from ..nets.train import resolve_device, train

__all__ = ["main", "build_parser", "build_world", "load_artifact", "validation_metrics", "OBJECTIVE_OF",
           "training_days", "prepare_data", "build_model", "build_augment", "score_validation"]

#: model name -> objective name
OBJECTIVE_OF = {"smaat_unet": "regression", "vae": "elbo"}


def build_world(*, profile: str, seed: int) -> xr.Dataset:
    """Return the OSSE world the model trains on (tests replace this function with a tiny fake)."""
    from .world import make_nox_world

    return make_nox_world(profile=profile, seed=seed)


def build_parser() -> argparse.ArgumentParser:
    """Command-line options of ``python -m eoretrieval.train nox``."""
    p = argparse.ArgumentParser(prog="python -m eoretrieval.train nox",
                                description="Train a NOx-emission network on the OSSE world and write an artefact.")
    p.add_argument("--profile", default="ci", help="world profile: ci or paper (default ci)")
    p.add_argument("--model", default="smaat_unet", choices=sorted(OBJECTIVE_OF), help="network")
    p.add_argument("--epochs", type=int, default=40)
    p.add_argument("--seed", type=int, default=0, help="training seed (weights, shuffling)")
    p.add_argument("--world-seed", type=int, default=0, help="seed of the OSSE world")
    p.add_argument("--out", default=None, help="artefact folder (default artifacts/nox/<model>)")
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--patience", type=int, default=12)
    p.add_argument("--base-channels", type=int, default=16)
    p.add_argument("--depth", type=int, default=4)
    p.add_argument("--kernels-per-layer", type=int, default=1,
                   help="depthwise kernels per input channel (the paper uses 2; 1 halves the CPU cost)")
    p.add_argument("--latent-channels", type=int, default=4, help="VAE only")
    p.add_argument("--beta", type=float, default=1.0, help="VAE only: KL weight")
    p.add_argument("--channels", default=",".join(DEFAULT_CHANNELS), help="comma-separated input channels")
    p.add_argument("--target-transform", default="linear", choices=["linear", "asinh"])
    p.add_argument("--scale-augment", default="0.7,1.3",
                   help="LOW,HIGH range of the emission/column scale augmentation ('none' to switch off)")
    p.add_argument("--no2-background", type=float, default=None,
                   help="NO2 background column that does not scale (default: world attrs, else 0)")
    p.add_argument("--max-train-days", type=int, default=None, help="use only the first N training days (smoke test)")
    p.add_argument("--max-steps", type=int, default=None, help="stop after N optimiser steps (smoke test)")
    p.add_argument("--device", default="auto")
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    p.add_argument("--no-progress", action="store_true")
    return p


def _checksum(da: xr.DataArray) -> str:
    return hashlib.sha256(np.ascontiguousarray(da.values.astype(np.float32)).tobytes()).hexdigest()


def validation_metrics(pred: xr.DataArray, truth: xr.DataArray) -> dict:
    """RMSE, bias, mean spatial correlation and total relative error of ``pred`` against ``truth``.

    Both ``(time, lat, lon)`` in the same units; means are area-weighted (cos latitude).
    """
    from ..verify import area_weights, bias, corr, relative_error, rmse

    w = area_weights(truth).broadcast_like(truth)
    return {
        "rmse": float(rmse(pred, truth, weights=w)),
        "bias": float(bias(pred, truth, weights=w)),
        "corr": float(corr(pred, truth, dim=(LAT, LON), weights=w).mean()),
        "total_rel_err": float(relative_error(pred * w, truth * w)),
        "units": truth.attrs.get("units", ""),
    }


def training_days(world: xr.Dataset, *, max_train_days: int | None = None):
    """Training and validation days of ``world`` (the world's own splits), optionally cut for a smoke test.

    Raises
    ------
    DataError
        If either split is empty.
    """
    train_days, val_days = split_days(world, "train"), split_days(world, "val")
    if max_train_days:
        train_days = train_days[:max_train_days]
        val_days = val_days[: max(max_train_days // 2, 2)]
    if len(train_days) == 0 or len(val_days) == 0:
        raise DataError(f"NOx world: empty training ({len(train_days)}) or validation ({len(val_days)}) split")
    return train_days, val_days


def prepare_data(world: xr.Dataset, train_days, val_days, *, channels, target_transform: str):
    """Normalisation from the training days, and ``(targets, inputs)`` tensors of both splits."""
    norm = compute_normalisation(world, days=train_days, channels=channels, target_transform=target_transform)
    train_data = (make_targets(world, train_days, norm), make_inputs(world, train_days, norm))
    val_data = (make_targets(world, val_days, norm), make_inputs(world, val_days, norm))
    return norm, train_data, val_data


def build_model(args: argparse.Namespace, n_channels: int):
    """The network and its objective from the command-line options: ``(model, objective, model_kwargs, obj_kwargs)``."""
    torch.manual_seed(args.seed)
    kwargs = {"base_channels": args.base_channels, "depth": args.depth}
    if args.model == "smaat_unet":
        kwargs["kernels_per_layer"] = args.kernels_per_layer
    if args.model == "vae":
        kwargs["latent_channels"] = args.latent_channels
    model = get_model(args.model)(n_channels, 1, **kwargs)
    obj_kwargs = {"beta": args.beta} if args.model == "vae" else {}
    objective = get_objective(OBJECTIVE_OF[args.model])(**obj_kwargs)
    return model, objective, kwargs, obj_kwargs


def build_augment(args: argparse.Namespace, world: xr.Dataset, norm: Normalisation) -> ScaleAugment | None:
    """The scale augmentation of ``--scale-augment`` (recorded in ``norm.extra``), or None when switched off."""
    if args.scale_augment.lower() == "none":
        return None
    low, high = (float(x) for x in args.scale_augment.split(","))
    background = args.no2_background
    if background is None:
        background = float(world.attrs.get("no2_background_mol_m2", world.attrs.get("no2_background", 0.0)))
    norm.extra["scale_augment"] = {"low": low, "high": high, "background": background}
    return ScaleAugment(norm, low=low, high=high, background=background)


def score_validation(model, objective, model_name: str, world: xr.Dataset, val_days, val_inputs, norm) -> dict:
    """:func:`validation_metrics` of the trained network on the validation days (the VAE: its decoder mean)."""
    with torch.no_grad():
        y = objective.sample(model, val_inputs, n_samples=1)[0] if model_name == "smaat_unet" else model(val_inputs)
    truth = world["emission"].sel({TIME: val_days}).transpose(TIME, LAT, LON)
    metrics = validation_metrics(decode_targets(y, norm, truth), truth)
    metrics.update({"split": "val", "period": f"{val_days.min():%Y-%m-%d}/{val_days.max():%Y-%m-%d}",
                    "n_days": len(val_days)})
    return metrics


def _manifest_extra(args, result, norm, train_days, val_days, device) -> dict:
    return {"training": {"epochs_run": result.epochs_run, "best_epoch": result.best_epoch,
                         "epochs": args.epochs, "batch_size": args.batch_size, "lr": args.lr,
                         "scale_augment": args.scale_augment, "channels": norm.channels,
                         "target_transform": norm.target_transform, "seed": args.seed,
                         "n_train_days": len(train_days), "n_val_days": len(val_days),
                         "train_period": norm.train_period, "device": str(device),
                         "threads": torch.get_num_threads(),
                         "machine": f"{platform.platform()}; {platform.processor() or platform.machine()}; "
                                    f"{os.cpu_count()} logical CPUs"}}


def main(argv: list[str] | None = None) -> int:
    """Run the training command; return 0 on success."""
    args = build_parser().parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    out = Path(args.out) if args.out else artifacts.artifact_path("nox", args.model)
    world = build_world(profile=args.profile, seed=args.world_seed)
    train_days, val_days = training_days(world, max_train_days=args.max_train_days)
    channels = [c.strip() for c in args.channels.split(",") if c.strip()]
    norm, train_data, val_data = prepare_data(world, train_days, val_days, channels=channels,
                                              target_transform=args.target_transform)
    model, objective, kwargs, obj_kwargs = build_model(args, norm.n_channels)
    device = resolve_device(args.device)
    augment = build_augment(args, world, norm)

    with artifacts.staging(out) as tmp:
        result = train(model, objective, train_data, val_data, epochs=args.epochs, batch_size=args.batch_size,
                       lr=args.lr, patience=args.patience, seed=args.seed, device=str(device),
                       max_steps=args.max_steps, checkpoint=tmp / "weights.pt", log_csv=tmp / "train_log.csv",
                       progress=False if args.no_progress else None, augment=augment)
        model.cpu().eval()
        torch.save(model.state_dict(), tmp / "weights.pt")
        norm.to_json(tmp / "normalisation.json")
        metrics = score_validation(model, objective, args.model, world, val_days, val_data[1], norm)
        metrics["best_val_loss"] = result.best_val_loss
        artifacts.write_manifest(
            tmp, study="nox",
            model={"name": args.model, "class": type(model).__name__, "kwargs": {"in_channels": norm.n_channels,
                                                                                 "out_channels": 1, **kwargs},
                   "objective": OBJECTIVE_OF[args.model], "objective_kwargs": obj_kwargs,
                   "n_parameters": sum(p.numel() for p in model.parameters())},
            data_checksums={"world_profile": args.profile, "world_seed": args.world_seed,
                            "emission_sha256": _checksum(world["emission"]),
                            "no2_column_sha256": _checksum(world["no2_column"].fillna(-1.0))},
            metrics=metrics, train_seconds=result.seconds,
            extra=_manifest_extra(args, result, norm, train_days, val_days, device))
    print(f"wrote {out} (best epoch {result.best_epoch}/{result.epochs_run}, {result.seconds:.0f} s; "
          f"validation RMSE {metrics['rmse']:.4g} {metrics['units']}, total rel. err. {metrics['total_rel_err']:+.3f})")
    return 0


def load_artifact(folder: str | os.PathLike, *, device: str = "cpu"):
    """Load a NOx artefact: ``(model, objective, normalisation, manifest)``; the model is in eval mode.

    Raises
    ------
    DataError
        If the folder, manifest, weights or normalisation are missing (the message names the path).
    """
    folder = Path(folder)
    manifest = artifacts.load_manifest(folder)
    weights = folder / "weights.pt"
    if not weights.exists():
        raise DataError(f"{weights}: weights missing; retrain with: {manifest.get('command', 'python -m eoretrieval.train nox')}")
    spec = manifest["model"]
    model = get_model(spec["name"])(**spec["kwargs"])
    model.load_state_dict(torch.load(weights, map_location=device, weights_only=True))
    model.to(device).eval()
    objective = get_objective(spec["objective"])(**spec.get("objective_kwargs", {}))
    norm = Normalisation.from_json(folder / "normalisation.json")
    return model, objective, norm, manifest
