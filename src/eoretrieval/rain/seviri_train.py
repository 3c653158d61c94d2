"""Training command of the SEVIRI rain study: ``python -m eoretrieval.train rain_seviri [options]``.

One backbone (:class:`~eoretrieval.nets.unet.UNet`), five methods and a control:

- ``unet``: :class:`~eoretrieval.nets.objectives.Regression` (MSE), 3 frames;
- ``ddpm``: :class:`~eoretrieval.nets.diffusion.GaussianDiffusion`, 3 frames;
- ``flow_matching``: :class:`~eoretrieval.nets.flow_matching.ConditionalFlowMatcher`, 3 frames;
- ``residual_fm``: :class:`~eoretrieval.nets.flow_matching.ResidualFlowMatcher` on the ``unet`` mean, 3 frames;
- ``flow_matching_1frame``: :class:`~eoretrieval.nets.flow_matching.ConditionalFlowMatcher`, 1 frame (the
  target time's);
- ``flow_matching_1frame_prev`` (a control): the same from the frame one step *before* the target time, the one
  whose cloud tops the IR operator ties to the target's rain (its cooling lag is one step).

Training data: the KNMI radar sequence (default), split in time (the first ``1 - val_fraction`` of the
frames train, the rest validate), patches with IR simulated by :mod:`~eoretrieval.rain.ir_operator`.
The artefact ``artifacts/rain_seviri/<method>/`` holds weights, ``normalisation.json`` (rain transform, IR
scaling, frames), the manifest (command, data checksums, wall time, validation metrics) and ``train_log.csv``.

Example::

    nice -n 10 python -m eoretrieval.train rain_seviri --method flow_matching --epochs 20 --threads 1

Public names: :func:`main`, :func:`build_parser`, :func:`build_method`, :func:`load_method`,
:func:`training_patches`, :func:`validation_patches`, :func:`smoke_test`, :func:`select_frames`,
:func:`input_frames`, :data:`METHODS`, :data:`INPUT_FRAMES`.
"""

from __future__ import annotations

import argparse
import glob as _glob
import hashlib
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch

from .. import artifacts
from ..config import repo_relative
from ..errors import DataError
from ..nets import get_model, get_objective
from ..nets.train import train
from .seviri_data import IR_SCALE, RainTransform, load_rain_sequence, make_training_set

__all__ = ["main", "build_parser", "build_method", "load_method", "training_patches", "validation_patches",
           "smoke_test", "select_frames", "input_frames", "METHODS", "INPUT_FRAMES",
           "MODEL_KWARGS", "STUDY"]

STUDY = "rain_seviri"
#: method -> (objective registry name, frames, objective kwargs)
METHODS = {
    "unet": ("regression", 3, {}),
    "ddpm": ("ddpm", 3, {"n_train_steps": 200, "schedule": "cosine", "clip_x0": 5.0}),
    "flow_matching": ("cfm", 3, {"sigma": 0.0}),
    "residual_fm": ("residual_cfm", 3, {"sigma": 0.0}),
    "flow_matching_1frame": ("cfm", 1, {"sigma": 0.0}),
    "flow_matching_1frame_prev": ("cfm", 1, {"sigma": 0.0}),
}
#: method -> the frames it sees, counted in the 3-frame window (0 oldest, 2 the target time); 3-frame methods all
INPUT_FRAMES = {"flow_matching_1frame": [2], "flow_matching_1frame_prev": [1]}
#: backbone size shared by all methods
MODEL_KWARGS = {"base_channels": 12, "channel_mults": [1, 2, 4], "blocks_per_level": 1}
N_CHANNELS = 5


def build_parser() -> argparse.ArgumentParser:
    """Command-line options of ``python -m eoretrieval.train rain_seviri``."""
    p = argparse.ArgumentParser(prog="python -m eoretrieval.train rain_seviri",
                                description="Train one method of the SEVIRI rain study and write its artefact.")
    p.add_argument("--method", default="flow_matching", choices=sorted(METHODS))
    p.add_argument("--train-files", default="data/radar_rain/knmi_rap_5min_20100826/*.h5")
    p.add_argument("--train-importer", default="knmi_hdf5")
    p.add_argument("--spacing-m", type=float, default=4000.0)
    p.add_argument("--time-step-min", type=float, default=15.0)
    p.add_argument("--val-fraction", type=float, default=0.2)
    p.add_argument("--n-samples", type=int, default=2400, help="training patches")
    p.add_argument("--n-val", type=int, default=192, help="validation patches")
    p.add_argument("--use-samples", type=int, default=None,
                   help="train on the first N of the --n-samples patches (same cached set, shorter epochs)")
    p.add_argument("--patch", type=int, default=32)
    p.add_argument("--intensity-augment", type=float, nargs=2, default=None, metavar=("LO", "HI"),
                   help="scale the rain of each training patch by a log-uniform factor in [LO, HI] before the IR "
                        "is simulated (validation patches are never scaled)")
    p.add_argument("--epochs", type=int, default=20)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--val-seed", type=int, default=None,
                   help="draw the validation loss's random time and noise from this seed every epoch (deterministic "
                        "per weights; default: from the training stream, as the earlier artefacts were trained)")
    p.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    p.add_argument("--device", default="cpu")
    p.add_argument("--max-steps", type=int, default=None, help="stop after this many steps (smoke tests)")
    p.add_argument("--mean-artifact", default=None,
                   help="residual_fm: the unet artefact giving the mean, beside --out (default: 'unet' there)")
    p.add_argument("--out", default=None, help="artefact folder (default artifacts/rain_seviri/<method>)")
    p.add_argument("--cache", default="data/cache/rain_seviri", help="folder for cached training patches")
    return p


def build_method(method: str, *, norm: dict, mean_model: torch.nn.Module | None = None):
    """Return ``(model, objective)`` of ``method``; the backbone size is ``norm["model_kwargs"]``
    (default :data:`MODEL_KWARGS`)."""
    obj_name, n_frames, obj_kwargs = METHODS[method]
    generative = obj_name != "regression"
    in_ch = n_frames * N_CHANNELS + (1 if generative else 0) + (1 if obj_name == "residual_cfm" else 0)
    spec = norm.get("model_kwargs", MODEL_KWARGS)
    kwargs = dict(spec, channel_mults=tuple(spec["channel_mults"]))
    model = get_model("unet")(in_ch, 1, time_embedding=generative, **kwargs)
    if obj_name == "residual_cfm":
        if mean_model is None:
            raise ValueError("residual_fm needs the trained unet as mean_model")
        objective = get_objective(obj_name)(mean_model, residual_scale=norm["residual_scale"], **obj_kwargs)
    else:
        objective = get_objective(obj_name)(**obj_kwargs)
    return model, objective


def load_method(folder: str | os.PathLike, *, device: str = "cpu"):
    """Load an artefact of this study: ``(model, objective, norm, manifest)``; the model is in eval mode.

    Raises
    ------
    DataError
        If the folder, manifest, weights or normalisation are missing (naming the path).
    """
    folder = Path(folder)
    manifest = artifacts.load_manifest(folder)
    weights, norm_path = folder / "weights.pt", folder / "normalisation.json"
    for p in (weights, norm_path):
        if not p.exists():
            raise DataError(f"{p}: missing; retrain with: {manifest.get('command')}")
    norm = json.loads(norm_path.read_text())
    mean_model = None
    if norm["method"] == "residual_fm":
        mean_folder = folder.parent / norm["mean_artifact"]
        mean_model, *_ = load_method(mean_folder, device=device)
        expected = norm.get("mean_weights_sha256")
        if expected and artifacts.file_checksum(mean_folder / "weights.pt") != expected:
            raise DataError(f"{mean_folder / 'weights.pt'}: not the mean network {folder} was trained on (weights "
                            f"checksum {artifacts.file_checksum(mean_folder / 'weights.pt')}, expected {expected}); "
                            f"retrain the residual model with: {manifest.get('command')}")
    model, objective = build_method(norm["method"], norm=norm, mean_model=mean_model)
    model.load_state_dict(torch.load(weights, map_location=device, weights_only=True))
    model.to(device).eval()
    return model, objective, norm, manifest


def _manifest_sequence(folder: str | os.PathLike, *, train_files: str | None = None):
    """The training command's parsed arguments and radar sequence of an artefact (files checked by checksum)."""
    folder = Path(folder)
    manifest = artifacts.load_manifest(folder)
    # train_argv: the arguments main() received; older artefacts have only the process's (python -m eoretrieval.train)
    argv = list(manifest.get("train_argv") or manifest.get("provenance", {}).get("parameters", {}).get("argv") or [])
    if not argv:
        raise DataError(f"{folder / 'manifest.json'}: no train_argv or provenance.argv; the training patches cannot "
                        "be regenerated")
    if argv[0] == STUDY:
        argv = argv[1:]
    args = build_parser().parse_args(argv)
    files = sorted(_glob.glob(train_files or args.train_files))
    expected = manifest.get("data_checksums", {})
    got = _checksums(files)
    if got != expected:
        odd = sorted(set(got.items()) ^ set(expected.items()))[:3]
        raise DataError(f"{train_files or args.train_files}: not the radar files {folder} was trained on "
                        f"(differing name/checksum pairs: {odd})")
    rain = load_rain_sequence(files, args.train_importer, spacing_m=args.spacing_m,
                              time_step_min=args.time_step_min, n_frames=3)
    return args, rain


def training_patches(folder: str | os.PathLike, *, train_files: str | None = None, max_samples: int | None = None,
                     progress: bool | None = None):
    """Regenerate the training patches of a committed artefact from its manifest.

    The training command's arguments (``train_argv``; ``provenance.argv`` for artefacts written before it was
    recorded) fix the files, the grid, the split, the patch size, the seed and the intensity augmentation; :func:`~eoretrieval.rain.seviri_data.make_training_set` is deterministic
    in them, so the patches (rain and simulated infrared) are those the network saw. ``max_samples`` keeps the first
    ones (the same draws as the full set's first ones).

    Raises
    ------
    DataError
        If the manifest records no command-line arguments, or the radar files differ from those the artefact was
        trained on (checksums in the manifest), naming the file.
    """
    args, rain = _manifest_sequence(folder, train_files=train_files)
    n_train_t = int(round(rain.sizes["time"] * (1 - args.val_fraction)))
    n = args.n_samples if max_samples is None else min(int(max_samples), args.n_samples)
    return make_training_set(rain.isel(time=slice(0, n_train_t)), n_samples=n, patch=args.patch, n_frames=3,
                             seed=args.seed, intensity_range=args.intensity_augment, progress=progress)


def validation_patches(folder: str | os.PathLike, *, cache: str | None = None):
    """The validation patches of a committed artefact, ``(cond, rain)``: those its training command scored each
    epoch (the last ``val_fraction`` of the sequence in time, ``n_val`` patches, never intensity-scaled).

    Rebuilt from the manifest's arguments as :func:`training_patches` does (same checks), through the training
    command's patch cache (``cache`` overrides its folder).

    Raises
    ------
    DataError
        As :func:`training_patches`.
    """
    args, rain = _manifest_sequence(folder)
    if cache is not None:
        args.cache = cache
    n_train_t = int(round(rain.sizes["time"] * (1 - args.val_fraction)))
    val_rain = rain.isel(time=slice(n_train_t, None))
    val_rain.attrs = dict(rain.attrs)
    return _patches(args, val_rain, n=args.n_val, seed=args.seed + 1000, n_frames=3, tag="val")


def _checksums(files: list[str]) -> dict:
    return {Path(f).name: hashlib.sha256(Path(f).read_bytes()).hexdigest()[:16] for f in files}


def _patches(args, rain, *, n, seed, n_frames, tag, intensity_range=None):
    """Training/validation patches, cached by their defining arguments."""
    spec = [args.train_files, args.train_importer, args.spacing_m, args.time_step_min,
            args.patch, n, seed, n_frames, tag, str(rain.time.values[[0, -1]])]
    if intensity_range is not None:  # keys of un-augmented sets stay as they were
        spec.append([float(v) for v in intensity_range])
    key = hashlib.sha256(json.dumps(spec).encode()).hexdigest()[:12]
    path = Path(args.cache) / f"{tag}_{key}.npz"
    if path.exists():
        z = np.load(path)
        return z["cond"], z["rain"]
    s = make_training_set(rain, n_samples=n, patch=args.patch, n_frames=n_frames, seed=seed,
                          intensity_range=intensity_range)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(path, cond=s.cond, rain=s.rain)
    return s.cond, s.rain


def _val_metrics(model, objective, cond, target_z, transform, *, method, seed) -> dict:
    """Held-out (validation-period) metrics: loss-free CSI at 1 mm h-1 and 99th-percentile ratio."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        if method == "unet":
            z = model(cond)
        elif method == "ddpm":
            z = objective.sample(model, cond, n_steps=50, generator=gen)
        else:
            z = objective.sample(model, cond, n_steps=10, generator=gen)
    pred = transform.inverse(z.numpy()[:, 0])
    truth = transform.inverse(target_z.numpy()[:, 0])
    hit = ((pred >= 1) & (truth >= 1)).sum()
    miss = ((pred < 1) & (truth >= 1)).sum()
    fa = ((pred >= 1) & (truth < 1)).sum()
    return {"val_csi_1": float(hit / max(hit + miss + fa, 1)),
            "val_q99_ratio": float(np.percentile(pred, 99) / max(np.percentile(truth, 99), 1e-6)),
            "val_n_patches": int(len(pred))}


def input_frames(norm: dict) -> list[int]:
    """The frames an artefact's network sees (indices in the 3-frame window), from its ``normalisation.json``;
    artefacts written before ``input_frames`` was recorded: the last frame for 1-frame models, all three otherwise."""
    return [int(f) for f in norm.get("input_frames", [2] if norm["n_frames"] == 1 else [0, 1, 2])]


def select_frames(cond: np.ndarray, frames) -> np.ndarray:
    """The channels of ``frames`` (indices in the 3-frame window, oldest first) of 3-frame inputs ``cond``
    ``(n, 3 * 5, y, x)``."""
    frames = [int(f) for f in frames]
    if cond.shape[1] != 3 * N_CHANNELS or not frames or min(frames) < 0 or max(frames) > 2:
        raise ValueError(f"select_frames: frames {frames} of inputs with {cond.shape[1]} channels; expected indices "
                         f"0-2 of 3 frames x {N_CHANNELS} channels")
    if frames == [0, 1, 2]:
        return cond
    return np.ascontiguousarray(np.concatenate([cond[:, f * N_CHANNELS:(f + 1) * N_CHANNELS] for f in frames], axis=1))


def main(argv: list[str] | None = None) -> int:
    """Train one method and write its artefact; return 0."""
    train_argv = [str(a) for a in (sys.argv[1:] if argv is None else argv)]
    args = build_parser().parse_args(argv)
    torch.set_num_threads(args.threads)
    t_start = time.perf_counter()
    obj_name, n_frames, obj_kwargs = METHODS[args.method]
    rain = load_rain_sequence(args.train_files, args.train_importer, spacing_m=args.spacing_m,
                              time_step_min=args.time_step_min, n_frames=3)
    n_train_t = int(round(rain.sizes["time"] * (1 - args.val_fraction)))
    train_rain, val_rain = rain.isel(time=slice(0, n_train_t)), rain.isel(time=slice(n_train_t, None))
    for part in (train_rain, val_rain):
        part.attrs = dict(rain.attrs)
    # patches are always cut with 3 frames (same patches for 1 and 3 frames); 1-frame keeps the last frame
    cond, target = _patches(args, train_rain, n=args.n_samples, seed=args.seed, n_frames=3, tag="train",
                            intensity_range=args.intensity_augment)
    vcond, vtarget = _patches(args, val_rain, n=args.n_val, seed=args.seed + 1000, n_frames=3, tag="val")
    transform = RainTransform.fit(target)  # always from the full patch set: one transform for every method
    if args.use_samples is not None:
        cond, target = cond[:args.use_samples], target[:args.use_samples]
    frames = INPUT_FRAMES.get(args.method, [0, 1, 2])
    cond, vcond = select_frames(cond, frames), select_frames(vcond, frames)
    norm = {"method": args.method, "objective": obj_name, "objective_kwargs": obj_kwargs, "n_frames": n_frames,
            "input_frames": frames,
            "channels": ["IR_108", "IR_120", "WV_062", "WV_073", "IR_087"], "ir_scale": IR_SCALE,
            "rain_transform": {"mean": transform.mean, "std": transform.std, "zero_below": transform.zero_below},
            "spacing_m": args.spacing_m, "time_step_min": args.time_step_min, "model_kwargs": MODEL_KWARGS,
            "intensity_augment": args.intensity_augment}
    x1 = torch.from_numpy(transform.forward(target))[:, None]
    vx1 = torch.from_numpy(transform.forward(vtarget))[:, None]
    c, vc = torch.from_numpy(cond), torch.from_numpy(vcond)
    mean_model = None
    if args.method == "residual_fm":
        out_parent = Path(args.out).parent if args.out else artifacts.artifact_path(STUDY, "unet").parent
        mean_folder = Path(args.mean_artifact) if args.mean_artifact else out_parent / "unet"
        if mean_folder.absolute().parent != out_parent.absolute():
            raise DataError(f"--mean-artifact {mean_folder}: the mean network must sit beside the residual artefact "
                            f"(in {out_parent}) so that the artefact finds it by name; link or copy it there")
        mean_model, _, mean_norm, _ = load_method(mean_folder)
        if mean_norm["n_frames"] != n_frames or mean_norm["rain_transform"]["mean"] != transform.mean:
            raise DataError(f"{mean_folder}: the mean network was trained on other data or frames; retrain it first")
        with torch.no_grad():
            resid = x1 - torch.cat([mean_model(c[i:i + 64]) for i in range(0, len(c), 64)])
        norm["residual_scale"] = float(resid.std())
        # found again by name beside the residual artefact (wherever the folder is moved), and checked by checksum
        norm["mean_artifact"] = mean_folder.name
        norm["mean_weights_sha256"] = artifacts.file_checksum(mean_folder / "weights.pt")
    torch.manual_seed(args.seed)
    model, objective = build_method(args.method, norm=norm, mean_model=mean_model)
    final = Path(args.out or artifacts.artifact_path(STUDY, args.method))
    generative = obj_name != "regression"
    with artifacts.staging(final) as tmp:
        result = train(model, objective, (x1, c), (vx1, vc), epochs=args.epochs, batch_size=args.batch_size,
                       lr=args.lr, patience=None if generative else 8, seed=args.seed, device=args.device,
                       max_steps=args.max_steps, checkpoint=None, log_csv=tmp / "train_log.csv",
                       val_seed=args.val_seed)
        model.eval()
        torch.save(model.state_dict(), tmp / "weights.pt")
        (tmp / "normalisation.json").write_text(json.dumps(norm, indent=2) + "\n")
        metrics = _val_metrics(model, objective, vc, vx1, transform, method=args.method, seed=args.seed)
        metrics.update({"best_val_loss": result.best_val_loss, "best_epoch": result.best_epoch,
                        "epochs_run": result.epochs_run})
        files = sorted(_glob.glob(args.train_files))
        artifacts.write_manifest(
            tmp, study=STUDY,
            model={"name": "unet", "kwargs": MODEL_KWARGS, "objective": obj_name, "objective_kwargs": obj_kwargs,
                   "method": args.method, "n_parameters": sum(p.numel() for p in model.parameters())},
            data_checksums=_checksums(files), metrics=metrics, train_seconds=time.perf_counter() - t_start,
            extra={"threads": args.threads, "train_period": [str(train_rain.time.values[0]),
                                                             str(train_rain.time.values[-1])],
                   "val_period": [str(val_rain.time.values[0]), str(val_rain.time.values[-1])],
                   "n_train_patches": int(len(c)), "n_val_patches": int(len(vc)), "train_argv": train_argv})
    print(json.dumps({"artifact": repo_relative(final), **metrics}))
    return 0


SMOKE_ORDER = ("unet", "ddpm", "flow_matching", "residual_fm", "flow_matching_1frame")  # unet before residual_fm


def smoke_test(train_files: str, out_dir: str | os.PathLike, cond: np.ndarray, *, importer: str = "knmi_hdf5",
               methods=SMOKE_ORDER) -> dict[str, bool]:
    """Retrain every method for one step on a few patches through :func:`main` (the command that made the
    committed artefacts, intensity augmentation included), load each artefact back and sample ``cond``
    (``(n, 15, y, x)``, normalised IR): proves the training path runs; it does not reproduce the committed weights.

    Returns ``{method: True}`` when the prediction has the shape of ``cond`` and no negative rain.
    """
    import tempfile

    from .seviri_eval import predict

    out_dir = Path(out_dir)
    ok = {}
    with tempfile.TemporaryDirectory() as tmp:
        for method in methods:
            argv = ["--method", method, "--train-files", str(train_files), "--train-importer", importer,
                    "--val-fraction", "0.5", "--n-samples", "8", "--n-val", "4", "--patch", "16", "--epochs", "1",
                    "--max-steps", "1", "--intensity-augment", "0.5", "2", "--cache", f"{tmp}/cache",
                    "--out", str(out_dir / method)]
            main(argv)
            model, objective, norm, _ = load_method(out_dir / method)
            values, _ = predict(model, objective, norm, cond, n_members=2, n_steps=2)
            ok[method] = bool(values.shape[-2:] == cond.shape[-2:] and (values >= 0).all())
    return ok
