"""Training command and inference of the GMI study: ``python -m eoretrieval.train gmi --method <name> [options]``.

Every method uses the same backbone (:class:`eoretrieval.nets.unet.UNet`) and differs only in its objective
or training data:

=================  ==========================================================================================
method             objective / data
=================  ==========================================================================================
``mse``            mean squared error (:class:`~eoretrieval.nets.objectives.Regression`)
``quantile``       pinball loss over quantile heads, DRAIN-like (:class:`~eoretrieval.nets.quantile.QuantileLoss`)
``weighted_mse``   :class:`~eoretrieval.nets.quantile.WeightedMSE`
``balanced_mse``   :class:`~eoretrieval.nets.quantile.BalancedMSE`
``focal_r``        :class:`~eoretrieval.nets.quantile.FocalR`
``tail_mse``       :class:`~eoretrieval.nets.quantile.TailMSE` (extreme-value tail term)
``hybrid``         quantile loss on present + simulated warmer scenes (+1 … +5 K)
``flow_matching``  conditional flow matching (:class:`~eoretrieval.nets.flow_matching.ConditionalFlowMatcher`)
``transfer``       AMSR2-like sensor: fine-tuning the GMI model vs training from scratch, as a learning curve
=================  ==========================================================================================

Artefacts go to ``artifacts/rain_gmi/<method>/`` through :mod:`eoretrieval.artifacts`.

Public names: :data:`METHODS`, :func:`prepare_data`, :func:`build_model`, :func:`load_model`, :func:`predict`,
:func:`build_parser`, :func:`main`.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import time
from pathlib import Path

import numpy as np
import torch
import xarray as xr

from .. import artifacts
from ..config import cache_dir, get_profile
from ..nets.flow_matching import ConditionalFlowMatcher
from ..nets.normalisation import Normalisation
from ..nets.objectives import Regression
from ..nets.quantile import (DEFAULT_QUANTILES, BalancedMSE, FocalR, QuantileLoss, TailMSE, WeightedMSE,
                             quantiles_to_mean)
from ..nets.train import train
from ..nets.unet import UNet
from .gmi_data import (DEFAULT_IMPORTER, DEFAULT_RAIN_FILES, GMI_PROFILES, build_scenes, input_channels,
                       data_checksums, network_inputs, simulate_scenes)
from .gmi_simulator import SAMPLE

__all__ = ["METHODS", "STUDY", "prepare_data", "split", "build_model", "load_model", "predict", "retrieve_all", "build_parser", "main",
           "FM_SCALE", "HYBRID_WARMING_K"]

STUDY = "rain_gmi"
#: The hybrid method's warmer training scenes: each warmed by a uniform draw in this range (K), at the CC rate.
HYBRID_WARMING_K = (1.0, 5.0)
#: flow matching works on y = log1p(R) / FM_SCALE
FM_SCALE = 1.5
_QUANTILE_METHODS = ("quantile", "hybrid")


def _objective(method: str):
    return {"mse": Regression, "quantile": lambda: QuantileLoss(DEFAULT_QUANTILES), "weighted_mse": WeightedMSE,
            "balanced_mse": BalancedMSE, "focal_r": FocalR, "tail_mse": TailMSE,
            "hybrid": lambda: QuantileLoss(DEFAULT_QUANTILES),
            "flow_matching": ConditionalFlowMatcher}[method]()


METHODS = ("mse", "quantile", "weighted_mse", "balanced_mse", "focal_r", "tail_mse", "hybrid", "flow_matching",
           "transfer")


# ----------------------------------------------------------------------------------------------------------
# data
# ----------------------------------------------------------------------------------------------------------

def prepare_data(rain_files: str = DEFAULT_RAIN_FILES, *, importer: str = DEFAULT_IMPORTER, profile: str = "ci",
                 seed: int = 0, sensor: str = "gmi", regimes=("present", "plus2K", "plus4K"),
                 cache: bool = True) -> dict[str, xr.Dataset]:
    """Build the scenes and simulate them in each regime; return ``{regime: Dataset}`` (all splits).

    The result is cached as netCDF under :func:`eoretrieval.config.cache_dir` keyed by the arguments and the
    checksums of the rain files, so the training command and the notebook share one simulation.
    """
    prof = get_profile(profile, GMI_PROFILES)
    data_fields = {k: getattr(prof, k) for k in ("max_files", "n_stochastic", "size", "coarsen")}
    key = json.dumps({"files": data_checksums(rain_files), "importer": importer, "profile": data_fields, "seed": seed,
                      "sensor": sensor, "v": 3}, sort_keys=True)
    digest = hashlib.sha256(key.encode()).hexdigest()[:12]
    out: dict[str, xr.Dataset] = {}
    folder = cache_dir() / "rain_gmi"
    paths = {reg: folder / f"{sensor}_{reg}_{digest}.nc" for reg in regimes}
    if cache and all(p.exists() for p in paths.values()):
        return {reg: xr.load_dataset(p) for reg, p in paths.items()}
    rain = build_scenes(rain_files, importer=importer, profile=prof, seed=seed)
    for reg in regimes:
        out[reg] = simulate_scenes(rain, regime=reg, sensor=sensor, seed=seed)
        out[reg] = out[reg].assign_coords(split=rain["split"], source=rain["source"])
    if cache:
        folder.mkdir(parents=True, exist_ok=True)
        for reg, ds in out.items():
            ds.to_netcdf(paths[reg])
    return out


def _hybrid(ds_present: xr.Dataset, rain_files, importer, profile, seed, sensor="gmi") -> xr.Dataset:
    """Warmer training scenes: the present training rain warmed by U(:data:`HYBRID_WARMING_K`) K per scene (hybrid
    training)."""
    rain = ds_present["surface_precip"]
    base = rain.copy()
    # undo nothing: the present regime has delta_t = 0, so its rain is the base rain
    rng = np.random.default_rng(seed + 77)
    dt = rng.uniform(*HYBRID_WARMING_K, rain.sizes[SAMPLE])
    base.attrs = {k: v for k, v in rain.attrs.items() if k not in ("regime", "delta_t")}
    ds = simulate_scenes(base, sensor=sensor, seed=seed + 5, delta_t=dt)
    return ds.assign_coords(split=ds_present["split"], source=ds_present["source"])


def split(ds: xr.Dataset, name: str) -> xr.Dataset:
    """The scenes of split ``name`` (``train``, ``val``, ``test``)."""
    return ds.isel({SAMPLE: np.flatnonzero(ds["split"].values == name)})


#: Scale of the regression target (rain rate / RAIN_SCALE), mm h-1.
RAIN_SCALE = 10.0


def fit_normalisation(ds: xr.Dataset) -> Normalisation:
    """Per-channel input statistics of the training scenes (:class:`~eoretrieval.nets.normalisation.Normalisation`)."""
    norm = Normalisation.fit(network_inputs(ds), input_channels(ds), target_units="mm h-1",
                             train_period=f"{ds.sizes[SAMPLE]} training scenes")
    norm.target_scale = RAIN_SCALE
    return norm


def _tensors(ds: xr.Dataset, norm: Normalisation, method: str) -> tuple[torch.Tensor, torch.Tensor]:
    x = torch.from_numpy(norm.apply(network_inputs(ds)))
    r = ds["surface_precip"].transpose(SAMPLE, "y", "x").values[:, None].astype(np.float32)
    y = np.log1p(r) / FM_SCALE if method == "flow_matching" else r / norm.target_scale
    return torch.from_numpy(y.astype(np.float32)), x


# ----------------------------------------------------------------------------------------------------------
# models
# ----------------------------------------------------------------------------------------------------------

def build_model(method: str, in_channels: int, *, base_channels: int = 16) -> UNet:
    """Return the U-Net of ``method`` (output channels: quantile heads, 1, or a velocity field)."""
    if method in _QUANTILE_METHODS:
        return UNet(in_channels, len(DEFAULT_QUANTILES), base_channels=base_channels, channel_mults=(1, 2, 4))
    if method == "flow_matching":
        return UNet(in_channels + 1, 1, base_channels=base_channels, channel_mults=(1, 2, 4), time_embedding=True)
    return UNet(in_channels, 1, base_channels=base_channels, channel_mults=(1, 2, 4))


def load_model(folder: str | os.PathLike) -> tuple[UNet, Normalisation, dict]:
    """Load ``weights.pt``, ``normalisation.json`` and the manifest of an artefact folder."""
    folder = Path(folder)
    manifest = artifacts.load_manifest(folder)
    kw = manifest["model"]["kwargs"]
    model = UNet(kw["in_channels"], kw["out_channels"], base_channels=kw["base_channels"],
                 channel_mults=tuple(kw["channel_mults"]), time_embedding=kw.get("time_embedding", False))
    model.load_state_dict(torch.load(folder / "weights.pt", map_location="cpu", weights_only=True))
    model.eval()
    return model, Normalisation.from_json(folder / "normalisation.json"), manifest


@torch.no_grad()
def predict(model: UNet, norm: Normalisation, ds: xr.Dataset, *, method: str, n_members: int = 8,
            n_steps: int = 8, seed: int = 0, batch_size: int = 256) -> xr.Dataset:
    """Retrieve rain from ``ds`` (:func:`~eoretrieval.rain.gmi_data.simulate_scenes` layout).

    Returns
    -------
    xr.Dataset
        ``surface_precip`` (sample, y, x) mm h-1, the point estimate (mean); for quantile methods also
        ``quantiles`` (quantile, sample, y, x); for flow matching ``members`` (member, sample, y, x).
    """
    torch.set_grad_enabled(False)
    x = torch.from_numpy(norm.apply(network_inputs(ds)))
    coords = {k: ds["surface_precip"][k] for k in ds["surface_precip"].coords}
    units = {"units": "mm h-1", "long_name": "retrieved surface precipitation"}
    out = {}
    if method == "flow_matching":
        fm = ConditionalFlowMatcher()
        gen = torch.Generator().manual_seed(seed)
        members = []
        for _ in range(n_members):
            parts = [fm.sample(model, x[i:i + batch_size], n_steps=n_steps, generator=gen)
                     for i in range(0, len(x), batch_size)]
            y = torch.cat(parts)[:, 0].numpy()
            members.append(np.expm1(np.clip(y * FM_SCALE, 0.0, 6.0)))
        m = np.stack(members).astype(np.float32)
        out["members"] = xr.DataArray(m, dims=("member", SAMPLE, "y", "x"), attrs=units)
        out["surface_precip"] = xr.DataArray(m.mean(axis=0), dims=(SAMPLE, "y", "x"), coords=coords, attrs=units)
    else:
        pred = torch.cat([model(x[i:i + batch_size]) for i in range(0, len(x), batch_size)]) * norm.target_scale
        if method in _QUANTILE_METHODS:
            q = torch.sort(pred, dim=1).values.clamp(min=0.0)
            mean = quantiles_to_mean(q, DEFAULT_QUANTILES)[:, 0].numpy()
            out["quantiles"] = xr.DataArray(q.permute(1, 0, 2, 3).numpy(), dims=("quantile", SAMPLE, "y", "x"),
                                            coords={"quantile": list(DEFAULT_QUANTILES)}, attrs=units)
            out["surface_precip"] = xr.DataArray(mean, dims=(SAMPLE, "y", "x"), coords=coords, attrs=units)
        else:
            out["surface_precip"] = xr.DataArray(pred[:, 0].clamp(min=0.0).numpy(), dims=(SAMPLE, "y", "x"),
                                                 coords=coords, attrs=units)
    return xr.Dataset(out)


def retrieve_all(data: dict[str, xr.Dataset], *, methods=("mse", "quantile", "weighted_mse", "balanced_mse",
                                                          "focal_r", "tail_mse", "hybrid", "flow_matching"),
                 root: str | os.PathLike | None = None, split_name: str = "test", n_members: int = 8,
                 n_steps: int = 8, seed: int = 0) -> tuple[dict[str, dict[str, xr.Dataset]], dict[str, dict]]:
    """Run every committed model on the ``split_name`` scenes of every regime.

    Methods without an artefact under ``root`` (default ``artifacts/rain_gmi``) are skipped and listed in the
    second return value with ``{"missing": path}``; the others give their manifest.

    Returns
    -------
    (dict, dict)
        ``{method: {regime: prediction Dataset}}`` and ``{method: manifest or {"missing": path}}``.
    """
    preds: dict[str, dict[str, xr.Dataset]] = {}
    info: dict[str, dict] = {}
    base = Path(root) if root is not None else artifacts.artifact_path(STUDY, "x").parent
    tests = {reg: split(ds, split_name) for reg, ds in data.items()}
    for method in methods:
        folder = base / method
        if not (folder / "manifest.json").exists():
            info[method] = {"missing": str(folder)}
            continue
        model, norm, manifest = load_model(folder)
        info[method] = manifest
        preds[method] = {reg: predict(model, norm, ds, method=method, n_members=n_members, n_steps=n_steps,
                                      seed=seed) for reg, ds in tests.items()}
    return preds, info


# ----------------------------------------------------------------------------------------------------------
# command
# ----------------------------------------------------------------------------------------------------------

def build_parser() -> argparse.ArgumentParser:
    """Arguments of the training command."""
    p = argparse.ArgumentParser(prog="python -m eoretrieval.train gmi", description=__doc__.split("\n")[0])
    p.add_argument("--method", required=True, choices=METHODS)
    p.add_argument("--profile", default="ci", choices=sorted(GMI_PROFILES))
    p.add_argument("--rain-files", default=DEFAULT_RAIN_FILES)
    p.add_argument("--rain-importer", default=DEFAULT_IMPORTER)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--epochs", type=int, default=None)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--base-channels", type=int, default=None)
    p.add_argument("--max-steps", type=int, default=None, help="stop after this many optimiser steps (smoke test)")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--device", default="cpu")
    p.add_argument("--out", default=None, help="artefact folder (default artifacts/rain_gmi/<method>)")
    p.add_argument("--init", default=None, help="transfer: GMI artefact to fine-tune (default artifacts/rain_gmi/mse)")
    p.add_argument("--n-samples", default="16,64,256", help="transfer: training-set sizes of the learning curve")
    p.add_argument("--no-progress", action="store_true")
    return p


def _val_metrics(pred: np.ndarray, truth: np.ndarray) -> dict:
    return {"mae": float(np.abs(pred - truth).mean()), "bias_pct": float(100 * (pred.sum() / truth.sum() - 1)),
            "corr": float(np.corrcoef(pred.ravel(), truth.ravel())[0, 1]), "units": "mm h-1", "split": "val"}


def _train_one(method, train_ds, val_ds, *, norm, base_channels, epochs, args, out: Path, extra_model=None,
               init_state=None, in_channels=None, data_info=None):
    train_data = _tensors(train_ds, norm, method)
    val_data = _tensors(val_ds, norm, method)
    torch.manual_seed(args.seed)
    model = build_model(method, train_data[1].shape[1], base_channels=base_channels)
    if init_state is not None:
        own = model.state_dict()
        own.update({k: v for k, v in init_state.items() if k in own and own[k].shape == v.shape})
        model.load_state_dict(own)
    objective = _objective(method)
    with artifacts.staging(out) as tmp:
        result = train(model, objective, train_data, val_data, epochs=epochs, batch_size=args.batch_size,
                       lr=args.lr, patience=None, seed=args.seed, device=args.device, max_steps=args.max_steps,
                       checkpoint=tmp / "weights.pt", log_csv=tmp / "train_log.csv",
                       progress=False if args.no_progress else None)
        model.cpu().eval()
        torch.save(model.state_dict(), tmp / "weights.pt")
        norm.to_json(tmp / "normalisation.json")
        pred = predict(model, norm, val_ds, method=method, n_members=2, n_steps=4)["surface_precip"].values
        metrics = _val_metrics(pred, val_ds["surface_precip"].values)
        metrics["best_val_loss"] = result.best_val_loss
        kwargs = {"in_channels": train_data[1].shape[1] + (1 if method == "flow_matching" else 0),
                  "out_channels": model.outc[-1].out_channels, "base_channels": base_channels,
                  "channel_mults": [1, 2, 4], "time_embedding": method == "flow_matching"}
        artifacts.write_manifest(
            tmp, study=STUDY,
            model={"name": method, "class": "UNet", "kwargs": kwargs, "objective": type(objective).__name__,
                   "quantiles": list(DEFAULT_QUANTILES) if method in _QUANTILE_METHODS else None,
                   "n_parameters": sum(p.numel() for p in model.parameters())},
            data_checksums=data_info, metrics=metrics, train_seconds=result.seconds,
            extra={"training": {"epochs_run": result.epochs_run, "best_epoch": result.best_epoch, "epochs": epochs,
                                "batch_size": args.batch_size, "lr": args.lr, "seed": args.seed,
                                "n_train": len(train_data[0]), "n_val": len(val_data[0]), "device": args.device,
                                "threads": torch.get_num_threads(),
                                "machine": f"{platform.platform()}; {os.cpu_count()} logical CPUs"},
                   **(extra_model or {})})
    return model, metrics, result


def main(argv: list[str] | None = None) -> int:
    """Run the training command; return 0 on success."""
    args = build_parser().parse_args(argv)
    torch.set_num_threads(args.threads)
    prof = get_profile(args.profile, GMI_PROFILES)
    epochs = args.epochs or prof.epochs
    base = args.base_channels or prof.base_channels
    t0 = time.perf_counter()
    data_info = {"rain_files": args.rain_files, "importer": args.rain_importer, "profile": args.profile,
                 "seed": args.seed, "sha256_16": data_checksums(args.rain_files)}
    if args.method == "transfer":
        return _transfer(args, prof, epochs, base, data_info)
    data = prepare_data(args.rain_files, importer=args.rain_importer, profile=args.profile, seed=args.seed,
                        regimes=("present",))
    ds = data["present"]
    train_ds = split(ds, "train")
    val_ds = split(ds, "val")
    norm = fit_normalisation(train_ds)
    if args.method == "hybrid":
        warm = _hybrid(ds, args.rain_files, args.rain_importer, args.profile, args.seed)
        warm_train = split(warm, "train")
        train_ds = xr.concat([train_ds, warm_train.drop_vars([v for v in warm_train.data_vars
                                                              if v not in train_ds.data_vars])], dim=SAMPLE)
    out = Path(args.out) if args.out else artifacts.artifact_path(STUDY, args.method)
    _, metrics, result = _train_one(args.method, train_ds, val_ds, norm=norm, base_channels=base, epochs=epochs,
                                    args=args, out=out, data_info=data_info)
    print(f"wrote {out} ({result.epochs_run} epochs, best {result.best_epoch}, {time.perf_counter() - t0:.0f} s; "
          f"val MAE {metrics['mae']:.3f} mm h-1, bias {metrics['bias_pct']:+.1f} %, corr {metrics['corr']:.3f})")
    return 0


def _transfer(args, prof, epochs, base, data_info) -> int:
    """Learning curve on the AMSR2-like sensor: fine-tune the GMI model vs scratch, same few samples."""
    init_dir = Path(args.init) if args.init else artifacts.artifact_path(STUDY, "mse")
    init_model, _, _ = load_model(init_dir)
    init_state = init_model.state_dict()
    data = prepare_data(args.rain_files, importer=args.rain_importer, profile=args.profile, seed=args.seed,
                        sensor="amsr2", regimes=("present",))
    ds = data["present"]
    train_all = split(ds, "train")
    val_ds = split(ds, "val")
    test_ds = split(ds, "test")
    norm = fit_normalisation(train_all)
    rng = np.random.default_rng(args.seed + 99)
    order = rng.permutation(train_all.sizes[SAMPLE])
    sizes = [int(s) for s in args.n_samples.split(",")] + [train_all.sizes[SAMPLE]]
    out = Path(args.out) if args.out else artifacts.artifact_path(STUDY, "transfer")
    curve = {"n_samples": [], "finetune_mae": [], "scratch_mae": [], "finetune_corr": [], "scratch_corr": []}
    truth = test_ds["surface_precip"].values
    tmp_root = out.parent / f".{out.name}.runs"
    for n in sizes:
        sub = train_all.isel({SAMPLE: np.sort(order[:n])})
        # the same budget of optimiser steps (10 x --epochs) for every size: few samples, more epochs
        batches = max(1, n // args.batch_size) if n > args.batch_size else 1
        n_ep = max(1, int(np.ceil(10 * epochs / batches)))
        for kind, state in (("finetune", init_state), ("scratch", None)):
            model, _, _ = _train_one("mse", sub, val_ds, norm=norm, base_channels=base, epochs=n_ep, args=args,
                                     out=tmp_root / f"{kind}_{n}", init_state=state, data_info=data_info)
            pred = predict(model, norm, test_ds, method="mse")["surface_precip"].values
            curve[f"{kind}_mae"].append(float(np.abs(pred - truth).mean()))
            curve[f"{kind}_corr"].append(float(np.corrcoef(pred.ravel(), truth.ravel())[0, 1]))
        curve["n_samples"].append(n)
        print(f"n={n}: fine-tune MAE {curve['finetune_mae'][-1]:.3f}, scratch MAE {curve['scratch_mae'][-1]:.3f}")
    import shutil
    shutil.rmtree(tmp_root, ignore_errors=True)
    with artifacts.staging(out) as tmp:
        (tmp / "learning_curve.json").write_text(json.dumps(curve, indent=1) + "\n")
        artifacts.write_manifest(tmp, study=STUDY, model={"name": "transfer", "class": "UNet", "sensor": "amsr2",
                                                         "init": str(init_dir)},
                                 data_checksums=data_info, metrics={"learning_curve": curve, "split": "test"},
                                 train_seconds=None)
    print(f"wrote {out}")
    return 0
