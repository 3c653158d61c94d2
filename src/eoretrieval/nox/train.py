"""Training command of the NOx study: ``python -m eoretrieval.train nox [options]``.

Builds the training and validation worlds (:func:`eoretrieval.nox.make_nox_world`, seeds of
:data:`~eoretrieval.nox.profiles.WORLD_SEEDS`: every world has its own inventory), turns them into tensors
(:mod:`~eoretrieval.nox.features`), trains SmaAt-UNet (regression) or the conditional VAE (ELBO) with
:func:`~eoretrieval.nets.train.train`, and writes the artefact ``artifacts/nox/<name>/`` (weights,
normalisation, the training worlds' mean emission map for the memorisation baseline, the cVAE's per-scale
calibration fitted on the validation worlds, manifest with validation metrics, log).

Example::

    python -m eoretrieval.train nox --profile ci --model smaat_unet --epochs 12 --seed 0 \\
        --out artifacts/nox/smaat_unet

Public names: :func:`main`, :func:`build_parser`, :func:`build_world`, :func:`load_artifact`,
:func:`validation_metrics`, and the steps of :func:`main`: :func:`training_days`, :func:`prepare_data`,
:func:`build_model`, :func:`build_augment`, :func:`score_validation`, :func:`calibrate_vae` (with
:func:`critical_inflations`), :func:`smoke_test`.
"""

from __future__ import annotations

import argparse
import hashlib
import json
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
from .features import DEFAULT_CHANNELS, FlipAugment, ScaleAugment, compute_normalisation, make_inputs, \
    make_targets
from .world import split_days
from ..nets.train import resolve_device, train

__all__ = ["main", "build_parser", "build_world", "load_artifact", "validation_metrics", "OBJECTIVE_OF",
           "training_days", "prepare_data", "build_model", "build_augment", "score_validation", "calibrate_vae",
           "critical_inflations", "smoke_test"]

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
    p.add_argument("--train-worlds", default=None,
                   help="comma-separated seeds of the training worlds (default: WORLD_SEEDS['train'])")
    p.add_argument("--val-worlds", default=None,
                   help="comma-separated seeds of the validation worlds (default: WORLD_SEEDS['val'])")
    p.add_argument("--day-stride", type=int, default=1, help="use every n-th day of each training world")
    p.add_argument("--scale-invariant", action=argparse.BooleanOptionalAction, default=True,
                   help="scale-invariant formulation (see eoretrieval.nox.features; default on)")
    p.add_argument("--flip-augment", action="store_true",
                   help="train on the 8 flips/transposes of each scene, winds turned alike (FlipAugment)")
    p.add_argument("--decoder-logvar", type=float, default=None,
                   help="VAE only: fix the decoder's log-variance (the latent then carries the spread)")
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
    p.add_argument("--scale-augment", default="none",
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


def training_days(world: xr.Dataset, *, max_train_days: int | None = None, stride: int = 1, split: str = "train"):
    """Days of a world's ``split`` used in training: from its second day (the previous day's column is an input),
    every ``stride``-th, optionally cut to ``max_train_days`` (smoke test).

    Raises
    ------
    DataError
        If no day is left.
    """
    days = split_days(world, split)
    days = days[days > world["time"].values[0]][::max(int(stride), 1)]
    if max_train_days:
        days = days[:max_train_days]
    if len(days) == 0:
        raise DataError(f"{world.attrs.get('title', 'NOx world')} (seed {world.attrs.get('seed')}): no {split} day left")
    return days


def prepare_data(load_world, train_seeds, val_seeds, *, channels, target_transform: str, scale_invariant: bool = True,
                 stride: int = 1, max_train_days: int | None = None, n_norm_worlds: int = 5, progress: bool = True):
    """Tensors of the training and validation worlds, streamed one world at a time (memory stays bounded).

    The normalisation is fitted on the first ``n_norm_worlds`` training worlds; every training world then adds
    its ``(targets, inputs)`` tensors, its mean true map (the memorisation baseline's map) and its prior error
    (:func:`~eoretrieval.nox.variational.estimate_prior_rel_error`; the variational inversion of a test world uses
    their mean instead of peeking at that world) and is released.

    Returns
    -------
    dict
        ``norm``, ``train`` and ``val`` (``(targets, inputs)`` tensors), ``val_worlds``, ``val_days`` (one index per
        validation world), ``memorisation`` (DataArray) and ``training_worlds`` (dict).
    """
    from tqdm import tqdm

    from .variational import estimate_prior_rel_error

    norm = compute_normalisation([load_world(s) for s in train_seeds[:max(n_norm_worlds, 1)]], days=None,
                                 channels=channels, target_transform=target_transform, scale_invariant=scale_invariant)
    xs, ys, maps, perr = [], [], [], []
    for s in tqdm(train_seeds, desc="training worlds", disable=not progress):
        w = load_world(s)
        d = training_days(w, stride=stride, max_train_days=max_train_days)
        ys.append(make_targets(w, d, norm))
        xs.append(make_inputs(w, d, norm))
        maps.append(w["emission"].mean(TIME))
        perr.append(estimate_prior_rel_error(w))
        del w
    val_worlds = [load_world(s) for s in val_seeds]
    val_days = [training_days(w, stride=max(stride, 2), split="val",
                              max_train_days=max_train_days and max(max_train_days // 2, 2)) for w in val_worlds]
    val = (torch.cat([make_targets(w, d, norm) for w, d in zip(val_worlds, val_days)]),
           torch.cat([make_inputs(w, d, norm) for w, d in zip(val_worlds, val_days)]))
    memo = (sum(maps[1:], maps[0]) / len(maps)).rename("emission")
    memo.attrs = {"units": "mol m-2 s-1", "long_name": "mean true NOx emission of the training worlds (memorisation baseline)"}
    info = {"seeds": [int(s) for s in train_seeds], "prior_rel_error": float(np.mean(perr)),
            "prior_rel_error_per_world": [round(float(p), 4) for p in perr]}
    return {"norm": norm, "train": (torch.cat(ys), torch.cat(xs)), "val": val, "val_worlds": val_worlds,
            "val_days": val_days, "memorisation": memo, "training_worlds": info}


def build_model(args: argparse.Namespace, n_channels: int):
    """The network and its objective from the command-line options: ``(model, objective, model_kwargs, obj_kwargs)``."""
    torch.manual_seed(args.seed)
    kwargs = {"base_channels": args.base_channels, "depth": args.depth}
    if args.model == "smaat_unet":
        kwargs["kernels_per_layer"] = args.kernels_per_layer
    if args.model == "vae":
        kwargs["latent_channels"] = args.latent_channels
    model = get_model(args.model)(n_channels, 1, **kwargs)
    obj_kwargs = {}
    if args.model == "vae":
        obj_kwargs = {"beta": args.beta}
        if args.decoder_logvar is not None:
            obj_kwargs["decoder_logvar"] = args.decoder_logvar
    objective = get_objective(OBJECTIVE_OF[args.model])(**obj_kwargs)
    return model, objective, kwargs, obj_kwargs


def build_augment(args: argparse.Namespace, world: xr.Dataset, norm: Normalisation):
    """The augmentations of ``--scale-augment`` and ``--flip-augment`` (recorded in ``norm.extra``), composed;
    None when both are off."""
    steps = []
    if args.scale_augment.lower() != "none":
        low, high = (float(x) for x in args.scale_augment.split(","))
        background = args.no2_background
        if background is None:
            background = float(world.attrs.get("no2_background_mol_m2", world.attrs.get("no2_background", 0.0)))
        norm.extra["scale_augment"] = {"low": low, "high": high, "background": background}
        steps.append(ScaleAugment(norm, low=low, high=high, background=background))
    if getattr(args, "flip_augment", False):
        norm.extra["flip_augment"] = True
        steps.append(FlipAugment(norm))
    if not steps:
        return None

    def augment(x1, cond, generator=None):
        for step in steps:
            x1, cond = step(x1, cond, generator)
        return x1, cond

    return augment


def _predict(model, objective, model_name, world, days, inputs, norm, *, n_samples=1, seed=0):
    """:func:`~eoretrieval.nox.evaluate.predict_emissions` on inputs already in memory, with the truth:
    ``(estimate, truth)``; the SmaAt-UNet and a single cVAE call are deterministic (decoder mean)."""
    from .evaluate import predict_emissions

    truth = world["emission"].sel({TIME: days}).transpose(TIME, LAT, LON)
    pred = predict_emissions(model, objective, world, days, norm, n_samples=n_samples, seed=seed, batch_size=64,
                             inputs=inputs, deterministic=model_name == "smaat_unet" or n_samples == 1)
    return pred, truth


def score_validation(model, objective, model_name: str, val_worlds, val_days, val_inputs, norm) -> dict:
    """:func:`validation_metrics` of the trained network on the validation worlds (the VAE: its decoder mean)."""
    preds, truths, i = [], [], 0
    for w, d in zip(val_worlds, val_days):
        p, t = _predict(model, objective, model_name, w, d, val_inputs[i:i + len(d)], norm)
        preds.append(p.values)
        truths.append(t)
        i += len(d)
    metrics = [validation_metrics(t.copy(data=p), t) for p, t in zip(preds, truths)]
    out = {k: float(np.mean([m[k] for m in metrics])) for k in ("rmse", "bias", "corr", "total_rel_err")}
    out.update({"units": metrics[0]["units"], "split": "validation worlds",
                "worlds": [int(w.attrs.get("seed", -1)) for w in val_worlds],
                "n_days": int(sum(len(d) for d in val_days))})
    return out


def critical_inflations(model, objective, world, days, inputs, norm, *, n_samples: int = 16, level: float = 0.9,
                        seed: int = 0) -> dict:
    """Per scale of :func:`~eoretrieval.nox.osse.scale_views`, the critical inflation of every point of one world
    (:func:`~eoretrieval.nox.osse.critical_inflation`) for a ``n_samples``-member cVAE ensemble."""
    from .osse import SCALES, critical_inflation, scale_views

    ens, truth = _predict(model, objective, "vae", world, days, inputs, norm, n_samples=n_samples, seed=seed)
    ve, vt = scale_views(ens), scale_views(truth)
    return {s: critical_inflation(ve[s], vt[s], level=level) for s in SCALES}


def calibrate_vae(model, objective, val_worlds, val_days, val_inputs, norm, *, n_samples: int = 16,
                  level: float = 0.9) -> dict:
    """Per-scale spread inflation of the cVAE fitted on the validation worlds (never the test worlds).

    For each scale of :func:`~eoretrieval.nox.osse.scale_views` (0.25 deg daily cells, 1 deg monthly means,
    daily domain totals), the factor ``alpha`` by which the members must be moved about their mean for the
    central ``level`` interval to cover ``level`` of the validation truths (:func:`~eoretrieval.nox.osse.
    critical_inflation`); ``alpha = 1`` means the latent's spread is calibrated as it is. The calibration can be
    refitted on more worlds later by :mod:`eoretrieval.nox.calibrate`.
    """
    from .osse import SCALES

    crit = {s: [] for s in SCALES}
    i = 0
    for w, d in zip(val_worlds, val_days):
        parts = critical_inflations(model, objective, w, d, val_inputs[i:i + len(d)], norm, n_samples=n_samples,
                                    level=level)
        i += len(d)
        for s in SCALES:
            crit[s].append(parts[s])
    alpha = {s: float(np.quantile(np.concatenate(crit[s]), level)) for s in SCALES}
    return {"level": level, "alpha": alpha, "n_samples": n_samples,
            "worlds": [int(w.attrs.get("seed", -1)) for w in val_worlds]}


def _manifest_extra(args, result, norm, n_train, n_val, device) -> dict:
    return {"training": {"epochs_run": result.epochs_run, "best_epoch": result.best_epoch,
                         "epochs": args.epochs, "batch_size": args.batch_size, "lr": args.lr,
                         "scale_augment": args.scale_augment, "flip_augment": bool(args.flip_augment),
                         "channels": norm.channels,
                         "scale_invariant": bool(norm.extra.get("scale_invariant")),
                         "target_transform": norm.target_transform, "seed": args.seed,
                         "n_train_days": n_train, "n_val_days": n_val, "day_stride": args.day_stride,
                         "train_period": norm.train_period, "device": str(device),
                         "threads": torch.get_num_threads(),
                         "machine": f"{platform.platform()}; {platform.processor() or platform.machine()}; "
                                    f"{os.cpu_count()} logical CPUs"}}


def _seeds(text: str | None, role: str) -> list[int]:
    from .profiles import WORLD_SEEDS

    return list(WORLD_SEEDS[role]) if not text else [int(x) for x in text.split(",") if x.strip()]


def main(argv: list[str] | None = None) -> int:
    """Run the training command; return 0 on success."""
    args = build_parser().parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    out = Path(args.out) if args.out else artifacts.artifact_path("nox", args.model)
    train_seeds, val_seeds = _seeds(args.train_worlds, "train"), _seeds(args.val_worlds, "val")
    overlap = sorted(set(train_seeds) & set(val_seeds))
    if overlap:
        raise ValueError(f"training and validation worlds share seeds {overlap}")
    channels = [c.strip() for c in args.channels.split(",") if c.strip()]
    data = prepare_data(lambda s: build_world(profile=args.profile, seed=s), train_seeds, val_seeds, channels=channels,
                        target_transform=args.target_transform, scale_invariant=args.scale_invariant,
                        stride=args.day_stride, max_train_days=args.max_train_days, progress=not args.no_progress)
    norm, train_data, val_data = data["norm"], data["train"], data["val"]
    model, objective, kwargs, obj_kwargs = build_model(args, norm.n_channels)
    device = resolve_device(args.device)
    augment = build_augment(args, data["val_worlds"][0], norm)

    with artifacts.staging(out) as tmp:
        result = train(model, objective, train_data, val_data, epochs=args.epochs, batch_size=args.batch_size,
                       lr=args.lr, patience=args.patience, seed=args.seed, device=str(device),
                       max_steps=args.max_steps, checkpoint=tmp / "weights.pt", log_csv=tmp / "train_log.csv",
                       progress=False if args.no_progress else None, augment=augment)
        model.cpu().eval()
        torch.save(model.state_dict(), tmp / "weights.pt")
        if args.model == "vae":
            norm.extra["calibration"] = calibrate_vae(model, objective, data["val_worlds"], data["val_days"],
                                                      val_data[1], norm)
        norm.to_json(tmp / "normalisation.json")
        data["memorisation"].to_netcdf(tmp / "memorisation.nc")
        (tmp / "training_worlds.json").write_text(json.dumps(data["training_worlds"], indent=2) + "\n")
        metrics = score_validation(model, objective, args.model, data["val_worlds"], data["val_days"], val_data[1], norm)
        metrics["best_val_loss"] = result.best_val_loss
        artifacts.write_manifest(
            tmp, study="nox",
            model={"name": args.model, "class": type(model).__name__, "kwargs": {"in_channels": norm.n_channels,
                                                                                 "out_channels": 1, **kwargs},
                   "objective": OBJECTIVE_OF[args.model], "objective_kwargs": obj_kwargs,
                   "n_parameters": sum(p.numel() for p in model.parameters())},
            data_checksums={"world_profile": args.profile, "train_world_seeds": train_seeds,
                            "val_world_seeds": val_seeds,
                            "memorisation_sha256": _checksum(data["memorisation"])},
            metrics=metrics, train_seconds=result.seconds,
            extra=_manifest_extra(args, result, norm, len(train_data[0]), len(val_data[0]), device))
    print(f"wrote {out} (best epoch {result.best_epoch}/{result.epochs_run}, {result.seconds:.0f} s; "
          f"validation RMSE {metrics['rmse']:.4g} {metrics['units']}, total rel. err. {metrics['total_rel_err']:+.3f})")
    return 0


def smoke_test(model: str, out, *, profile: str = "ci", seed: int = 0, days: int = 16, steps: int = 2,
               device: str = "cpu"):
    """Retrain ``model`` for a few steps on a few days of one training and one validation world, through
    :func:`main`, and load the artefact back: proves the training path runs (it does not replace the committed
    networks). Returns what :func:`load_artifact` returns.
    """
    from .profiles import WORLD_SEEDS

    argv = ["--profile", profile, "--model", model, "--epochs", "1", "--max-train-days", str(days),
            "--max-steps", str(steps), "--base-channels", "8", "--seed", str(seed),
            "--train-worlds", str(WORLD_SEEDS["train"][0]), "--val-worlds", str(WORLD_SEEDS["val"][0]),
            "--out", str(out), "--no-progress", "--device", device]
    if model == "vae":
        argv += ["--decoder-logvar", "-2"]
    if main(argv) != 0:
        raise RuntimeError(f"smoke training of {model} failed")
    return load_artifact(out)


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
