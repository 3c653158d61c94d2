"""Inference and evaluation of the SEVIRI rain study (the notebook-facing module).

- :func:`predict` draws an ensemble (repeated sampling) or the deterministic U-Net field for test samples,
  with an explicit number of function evaluations (NFE), and times it;
- :func:`score` computes the shared evaluation suite (:mod:`eoretrieval.verify`) for one method:
  POD/FAR/CSI/HSS, FSS over scales, upper-tail Q–Q, radially averaged power spectra, CRPS, rank histogram,
  spread–skill; ensembles are scored as ensembles (CRPS, ranks, spread) and their members as fields
  (categorical, FSS, quantiles, spectra);
- :func:`evaluate_methods` runs every committed artefact on the same test tiles and returns the
  ``metrics.json`` structure of study 3; :func:`nfe_curve` gives skill against NFE;
- :func:`crr_statistics` summarises the NWC SAF CRR product (no overlap in time with the radar test data);
- :func:`validation_frames` selects the frames of a training sequence that no model was trained on;
  :func:`training_overlap` says which files of a test sequence some model was trained or validated on;
- :func:`tile_bootstrap` says how much each target's verdict depends on the choice of test tiles (a paired
  bootstrap over tiles of the scores the targets read);
- :class:`IRLookup` is the classical conditional climatology of rain given the 10.8 µm temperature (an ensemble
  drawn from the training rain of the same temperature class), and :func:`conditional_rain` the rain's mean and
  99th percentile per temperature class: together they say how much of a tail the infrared can tell;
  :func:`cold_top_tail` and :func:`tail_ratio_draws` put tile-bootstrap intervals on those comparisons.

Public names: :data:`SEVIRI_PROFILES`, :class:`SeviriProfile`, :func:`predict`, :func:`as_fields`, :func:`score`,
:func:`evaluate_methods`, :func:`nfe_curve`, :func:`crr_statistics`, :func:`validation_frames`, :func:`training_overlap`,
:func:`tile_scores`, :func:`tile_bootstrap`, :class:`IRLookup`, :func:`conditional_rain`, :func:`target_t108`,
:func:`cold_top_tail`, :func:`tail_ratio_draws`, :data:`T108_EDGES_K`, :data:`METHOD_ORDER`, :data:`CONTROL_METHODS`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import xarray as xr
from tqdm import tqdm

from ..targets import Target, evaluate_targets
from ..verify.categorical import categorical_scores, contingency_table
from ..verify.continuous import mae
from ..verify.extremes import qq_upper_tail
from ..verify.probabilistic import crps_ensemble, rank_histogram, spread_skill_ratio
from ..verify.spatial import fss
from ..verify.spectral import radial_power_spectrum, spectral_slope
from ..errors import DataError
from .seviri_data import IR_SCALE, RainTransform, Samples
from .seviri_sampler import sampler_for
from .seviri_train import N_CHANNELS, input_frames, load_method, select_frames

__all__ = ["SEVIRI_PROFILES", "SeviriProfile", "predict", "as_fields", "score", "evaluate_methods", "nfe_curve",
           "crr_statistics", "validation_frames", "tile_scores", "tile_bootstrap", "METHOD_ORDER", "CONTROL_METHODS",
           "THRESHOLDS",
           "FSS_SCALES_KM", "IRLookup", "conditional_rain", "target_t108", "T108_EDGES_K", "cold_top_tail",
           "tail_ratio_draws", "training_overlap"]

METHOD_ORDER = ("unet", "ddpm", "flow_matching", "residual_fm", "flow_matching_1frame")
#: controls, scored beside the methods but not among them: one frame, the one before the target time
CONTROL_METHODS = ("flow_matching_1frame_prev",)
THRESHOLDS = (0.1, 1.0, 5.0, 10.0)  # mm h-1
FSS_SCALES_KM = (4, 8, 16, 32, 64)


@dataclass(frozen=True)
class SeviriProfile:
    """Sizes of the evaluation: test tiles, ensemble size, NFE of each sampler and of the NFE curves, resamples of
    the tile bootstrap."""

    n_tiles: int
    tile: int
    n_members: int
    nfe: dict = field(default_factory=dict)
    nfe_curve_fm: tuple = ()
    nfe_curve_ddpm: tuple = ()
    spectrum_band_km: tuple = (8.0, 96.0)
    n_boot: int = 1000  # resamples of the test tiles (:func:`tile_bootstrap`)
    #: tile size of the training-domain check (None: ``tile``); the KNMI validation frames (about 190 x 175 km at
    #: 4 km) hold no rainy 64 x 64 tile, so the paper profile keeps 48 there
    indomain_tile: int | None = None


SEVIRI_PROFILES = {
    "ci": SeviriProfile(n_tiles=16, tile=48, n_members=8,
                        nfe={"ddpm": 50, "flow_matching": 5, "residual_fm": 5, "flow_matching_1frame": 5,
                             "flow_matching_1frame_prev": 5},
                        nfe_curve_fm=(1, 2, 5, 10), nfe_curve_ddpm=(10, 25, 50)),
    "paper": SeviriProfile(n_tiles=48, tile=64, n_members=16,
                           nfe={"ddpm": 200, "flow_matching": 20, "residual_fm": 20, "flow_matching_1frame": 20,
                                "flow_matching_1frame_prev": 20},
                           nfe_curve_fm=(1, 2, 5, 10, 20, 50), nfe_curve_ddpm=(10, 25, 50, 100, 200),
                           spectrum_band_km=(8.0, 128.0), n_boot=2000, indomain_tile=48),
}


def predict(model, objective, norm: dict, cond: np.ndarray, *, n_members: int = 8, n_steps: int | None = None,
            seed: int = 0, batch: int = 96, device: str = "cpu", threads: int | None = 1,
            sampler: dict | None = None) -> tuple[np.ndarray, float]:
    """Rain fields ``(member, sample, y, x)`` in mm h-1 and the sampling time per field (s).

    ``cond`` is the 3-frame normalised IR ``(sample, 3 * 5, y, x)``; 1-frame models keep the frame their artefact
    names (``input_frames``; the last frame for artefacts that name none).
    The U-Net returns one member. The time per field is wall time / (members × samples). ``threads`` sets
    ``torch.set_num_threads`` (on a shared CPU, more threads than free cores make sampling many times slower).
    ``sampler`` is passed to the generative sampler: flow matching ``{"method": "euler" | "heun", "time_power": p}``
    (``n_steps`` counts its steps, not its network evaluations), DDPM ``{"method": "ancestral" | "ddim", "eta": e}``.
    """
    if threads:
        torch.set_num_threads(int(threads))
    cond = select_frames(cond, input_frames(norm))
    transform = RainTransform(**norm["rain_transform"])
    c = torch.from_numpy(np.ascontiguousarray(cond)).to(device)
    gen = torch.Generator().manual_seed(seed)
    members = 1 if norm["method"] == "unet" else n_members
    out = np.empty((members, *cond.shape[:1], *cond.shape[2:]), dtype=np.float32)
    rep = c.repeat(members, 1, 1, 1)
    zs = []
    t0 = time.perf_counter()
    with torch.no_grad():
        for i in range(0, rep.shape[0], batch):
            cb = rep[i:i + batch]
            if norm["method"] == "unet":
                z = model(cb)
            else:
                z = objective.sample(model, cb, n_steps=n_steps, generator=gen, **(sampler or {}))
            zs.append(z[:, 0].cpu().numpy())
    seconds = (time.perf_counter() - t0) / rep.shape[0]
    z = np.concatenate(zs).reshape(members, cond.shape[0], *cond.shape[2:])
    out[:] = transform.inverse(z)
    return out, float(seconds)


def as_fields(values: np.ndarray, *, spacing_km: float, name: str = "rain") -> xr.DataArray:
    """Label ``(member, sample, y, x)`` or ``(sample, y, x)`` rain as an ``xr.DataArray`` (km coords, mm h-1)."""
    dims = ("member", "sample", "y", "x") if values.ndim == 4 else ("sample", "y", "x")
    ny, nx = values.shape[-2:]
    coords = {"y": ("y", np.arange(ny) * spacing_km, {"units": "km"}),
              "x": ("x", np.arange(nx) * spacing_km, {"units": "km"})}
    return xr.DataArray(values, dims=dims, coords=coords, name=name,
                        attrs={"units": "mm h-1", "long_name": "rain rate"})


def _mean_spectrum(fields: xr.DataArray) -> xr.DataArray:
    spec = radial_power_spectrum(fields)
    return spec.mean([d for d in spec.dims if d != "wavenumber"])


def score(pred: xr.DataArray, truth: xr.DataArray, *, spacing_km: float,
          band_km: tuple = (8.0, 96.0), seed: int = 0) -> dict:
    """The evaluation suite for one method: a flat dict of scalars plus nested curves.

    Parameters
    ----------
    pred : xr.DataArray
        ``(member, sample, y, x)`` mm h-1 (one member for deterministic methods).
    truth : xr.DataArray
        ``(sample, y, x)`` mm h-1.
    spacing_km : float
        Grid spacing (FSS windows, spectra).
    band_km : (float, float)
        Wavelength band of the spectral slope.
    seed : int
        Tie-breaking of the rank histogram (many zeros).

    Returns
    -------
    dict
        ``csi_1``, ``csi_5``, ``hss_1``, ``fss_1mm_16km``, ``q99_ratio``, ``q999_ratio``, ``psd_slope_err``,
        ``crps`` (mm h-1; for one member the MAE), ``crps_fair``, ``spread_skill`` (ensembles), and the nested
        ``categorical`` (POD/FAR/CSI/HSS per threshold), ``fss`` (per scale), ``quantiles``, ``spectrum``,
        ``rank_histogram``.
    """
    n_members = pred.sizes["member"]
    truth_b = truth.broadcast_like(pred)
    cat = categorical_scores(pred, truth_b, threshold=list(THRESHOLDS), weights=None)
    categorical = {f"{thr:g}": {s: float(cat[s].sel(threshold=thr)) for s in ("pod", "far", "csi", "hss")}
                   for thr in THRESHOLDS}
    scales = [max(1, int(round(s / spacing_km))) for s in FSS_SCALES_KM]
    f = fss(pred, truth_b, threshold=1.0, scale=scales, weights=None)
    fss_by_km = {f"{km}": float(f.sel(scale=s)) for km, s in zip(FSS_SCALES_KM, scales)}
    qq = qq_upper_tail(pred, truth, q=[0.9, 0.99, 0.999])
    spec_p, spec_t = _mean_spectrum(pred), _mean_spectrum(truth)
    slope_p = float(spectral_slope(spec_p, wavelength_range=band_km))
    slope_t = float(spectral_slope(spec_t, wavelength_range=band_km))
    # the CRPS of a single (deterministic) field is its mean absolute error
    crps = (float(crps_ensemble(pred, truth, weights=None).mean()) if n_members > 1
            else float(mae(pred.isel(member=0), truth, weights=None)))
    out = {
        "csi_1": categorical["1"]["csi"], "csi_5": categorical["5"]["csi"], "hss_1": categorical["1"]["hss"],
        "fss_1mm_16km": fss_by_km["16"],
        "q99_ratio": float(qq["ratio"].sel(quantile=0.99)), "q999_ratio": float(qq["ratio"].sel(quantile=0.999)),
        "psd_slope": slope_p, "psd_slope_truth": slope_t, "psd_slope_err": abs(slope_p - slope_t),
        "crps": crps, "n_members": int(n_members),
        "wet_fraction": float((pred >= 0.1).mean()), "wet_fraction_truth": float((truth >= 0.1).mean()),
        "categorical": categorical, "fss": fss_by_km,
        "quantiles": {"q": [0.9, 0.99, 0.999], "pred": qq["pred"].values.tolist(),
                      "truth": qq["truth"].values.tolist()},
        "spectrum": {"wavelength_km": spec_t.wavelength.values.tolist(), "pred": spec_p.values.tolist(),
                     "truth": spec_t.values.tolist()},
    }
    if n_members > 1:
        out["crps_fair"] = float(crps_ensemble(pred, truth, fair=True, weights=None).mean())
        out["spread_skill"] = float(spread_skill_ratio(pred, truth, weights=None))
        rh = rank_histogram(pred, truth, weights=None, seed=seed)
        out["rank_histogram"] = rh.values.tolist()
        mean = pred.mean("member").expand_dims(member=1)
        cm = categorical_scores(mean, truth.expand_dims(member=1), threshold=1.0, weights=None)
        out["csi_1_ensemble_mean"] = float(cm["csi"])
    return out


def evaluate_methods(test: Samples, *, artifacts_root: str | Path, profile: SeviriProfile, spacing_km: float,
                     seed: int = 0, device: str = "cpu", methods=METHOD_ORDER) -> tuple[dict, dict]:
    """Run every method's committed artefact on the test tiles and score it.

    Returns
    -------
    (metrics, predictions)
        ``metrics[method]`` is the :func:`score` dict plus ``nfe`` and ``sample_s``; ``predictions[method]``
        the ``(member, sample, y, x)`` DataArray.
    """
    truth = as_fields(test.rain, spacing_km=spacing_km, name="truth")
    metrics, preds = {}, {}
    for method in tqdm(methods, desc="methods", disable=None):
        model, objective, norm, manifest = load_method(Path(artifacts_root) / method, device=device)
        nfe = profile.nfe.get(method)
        n_steps, sampler, source = (None, {}, "") if nfe is None else sampler_for(artifacts_root, method, nfe)
        values, sec = predict(model, objective, norm, test.cond, n_members=profile.n_members, n_steps=n_steps,
                              seed=seed, device=device, sampler=sampler)
        pred = as_fields(values, spacing_km=spacing_km, name=method)
        m = score(pred, truth, spacing_km=spacing_km, band_km=profile.spectrum_band_km, seed=seed)
        m.update({"nfe": 1 if method == "unet" else int(nfe), "sample_s": sec, "n_frames": norm["n_frames"],
                  "train_seconds": manifest.get("train_seconds")})
        if sampler:
            m["sampler"] = {**sampler, "n_steps": int(n_steps), "source": source}
        metrics[method], preds[method] = m, pred
    return metrics, preds


def nfe_curve(test: Samples, *, artifacts_root: str | Path, profile: SeviriProfile, spacing_km: float,
              seed: int = 0, device: str = "cpu", known: dict | None = None) -> list[dict]:
    """Skill against NFE for flow matching and DDPM: a list of ``{method, nfe, crps, csi_1, psd_slope_err,
    q999_ratio, sample_s}``.

    ``known`` (the output of :func:`evaluate_methods`) supplies the points already computed at the methods'
    own NFE, so they are not sampled twice.
    """
    truth = as_fields(test.rain, spacing_km=spacing_km)
    keys = ("crps", "csi_1", "psd_slope_err", "q999_ratio", "sample_s")
    rows = []
    for method, nfes in (("flow_matching", profile.nfe_curve_fm), ("ddpm", profile.nfe_curve_ddpm)):
        model = None
        for n in tqdm(nfes, desc=f"NFE {method}", disable=None):
            if known and method in known and known[method]["nfe"] == n:
                rows.append({"method": method, "nfe": int(n), **{k: known[method][k] for k in keys}})
                continue
            if model is None:
                model, objective, norm, _ = load_method(Path(artifacts_root) / method, device=device)
            n_steps, sampler, _ = sampler_for(artifacts_root, method, n)
            values, sec = predict(model, objective, norm, test.cond, n_members=profile.n_members, n_steps=n_steps,
                                  seed=seed, device=device, sampler=sampler)
            m = score(as_fields(values, spacing_km=spacing_km), truth, spacing_km=spacing_km,
                      band_km=profile.spectrum_band_km, seed=seed)
            m["sample_s"] = sec
            rows.append({"method": method, "nfe": int(n), **{k: m[k] for k in keys}})
    return rows


def crr_statistics(crr: xr.DataArray, truth: xr.DataArray) -> dict:
    """Distribution statistics of the NWC SAF CRR product next to the radar test truth.

    The CRR sample (2018-06-01) and the OPERA test composites (2018-08-24) do not overlap in time, so
    only distributions are compared: wet fraction and upper quantiles of the wet pixels.
    """
    def stats(da):
        v = np.asarray(da.values, dtype=float)
        v = v[np.isfinite(v)]
        wet = v[v >= 0.1]
        return {"wet_fraction": float((v >= 0.1).mean()), "n_pixels": int(v.size),
                "wet_q50": float(np.quantile(wet, 0.5)) if wet.size else None,
                "wet_q99": float(np.quantile(wet, 0.99)) if wet.size else None,
                "wet_q999": float(np.quantile(wet, 0.999)) if wet.size else None}
    return {"overlap_with_test": False, "crr": stats(crr), "radar_test_truth": stats(truth),
            "note": "NWC SAF CRR sample and radar test data are from different days; no point-wise scores."}


def validation_frames(rain: xr.DataArray, manifest: dict, *, n_frames: int) -> xr.DataArray:
    """The frames of a training sequence that the artefact of ``manifest`` was not trained on.

    Target frames are those from the start of the manifest's ``val_period``; the ``n_frames - 1`` frames before
    it are kept as input history only (a tile's target is always a validation frame, see
    :func:`~eoretrieval.rain.seviri_data.make_test_set`).

    Raises
    ------
    DataError
        If the manifest has no ``val_period`` or the sequence has no frame in it (naming the sequence's file).
    """
    src = rain.attrs.get("source_files", [rain.attrs.get("source_file", "<rain>")])[0]
    if "val_period" not in manifest:
        raise DataError(f"artefact manifest ({manifest.get('command', '?')}): no 'val_period'; retrain to record it")
    start = np.datetime64(manifest["val_period"][0])
    step = np.timedelta64(int(round(float(rain.attrs.get("time_step_min", 15.0)) * 60)), "s")
    if not (rain.time.values >= start).any():
        raise DataError(f"{src} ...: no frame at or after the validation start {manifest['val_period'][0]}; this is "
                        "not the sequence the artefact was trained on")
    return rain.sel(time=slice(start - (n_frames - 1) * step, None))


def training_overlap(files, artifacts_root: str | Path, methods=METHOD_ORDER) -> dict[str, list[str]]:
    """The files of a test sequence that a committed model was trained or validated on, per method.

    A file counts when its content (the short SHA-256 of :func:`eoretrieval.artifacts.file_checksum`, whatever its
    name) is among the ``data_checksums`` of the method's manifest. Methods without an artefact are skipped.

    Returns
    -------
    dict
        method -> sorted names of the overlapping test files (only methods with an overlap).
    """
    from ..artifacts import file_checksum, load_manifest

    sums = {file_checksum(f): Path(f).name for f in files}
    out = {}
    for m in methods:
        folder = Path(artifacts_root) / m
        if not (folder / "manifest.json").exists():
            continue
        seen = set(load_manifest(folder).get("data_checksums", {}).values())
        if hits := sorted(name for c, name in sums.items() if c in seen):
            out[m] = hits
    return out


# --- what the infrared can tell: rain per cloud-top temperature class ----------------------------------------------

#: 10.8 µm classes (K) of :func:`conditional_rain`: overshooting and deep convective tops, cold anvils, mid-level
#: and low tops, warm (shallow or clear) scenes
T108_EDGES_K = (180.0, 210.0, 220.0, 230.0, 240.0, 255.0, 330.0)


def target_t108(cond: np.ndarray) -> np.ndarray:
    """The 10.8 µm brightness temperature (K) of the target (last) frame of normalised inputs ``(n, c, y, x)``."""
    if cond.ndim != 4 or cond.shape[1] % N_CHANNELS:
        raise ValueError(f"target_t108: inputs of shape {cond.shape}; expected (n, {N_CHANNELS} x frames, y, x)")
    return cond[:, -N_CHANNELS] * IR_SCALE["scale"] + IR_SCALE["offset"]


@dataclass
class IRLookup:
    """Conditional climatology of rain given the 10.8 µm temperature: the oldest kind of IR rain retrieval.

    :meth:`fit` sorts the training pixels into temperature bins (``width_k`` wide, merged from the cold end until
    each holds ``min_count`` pixels); :meth:`sample` draws, for every pixel, members from the training rain of its
    bin. With the same training patches as the networks, it is what the 10.8 µm temperature of the target frame
    alone says about the rain's distribution, tail included: no spatial context, no other channel, no history, so
    its members are spatially white (its spectra and CSI are not its point).
    """

    edges: np.ndarray
    values: list

    @classmethod
    def fit(cls, t108: np.ndarray, rain: np.ndarray, *, width_k: float = 2.0, min_count: int = 200) -> "IRLookup":
        """Fit on matching arrays of temperature (K) and rain (mm h-1).

        Raises
        ------
        ValueError
            Shapes differ, non-finite values, or fewer than ``min_count`` pixels in all.
        """
        t, r = np.asarray(t108, dtype=float).ravel(), np.asarray(rain, dtype=float).ravel()
        if np.shape(t108) != np.shape(rain):
            raise ValueError(f"IRLookup.fit: temperature {np.shape(t108)} and rain {np.shape(rain)} differ in shape")
        if not (np.isfinite(t).all() and np.isfinite(r).all()):
            raise ValueError("IRLookup.fit: non-finite temperature or rain; mask them before fitting")
        if t.size < min_count:
            raise ValueError(f"IRLookup.fit: {t.size} pixels, fewer than min_count={min_count}")
        fine = np.arange(np.floor(t.min()), np.ceil(t.max()) + width_k, width_k)
        counts = np.histogram(t, fine)[0]
        edges, acc = [fine[0]], 0
        for right, c in zip(fine[1:], counts):
            acc += c
            if acc >= min_count:
                edges.append(right)
                acc = 0
        if acc:  # a warm remainder joins the last full bin
            edges[-1] = fine[-1]
        edges = np.asarray(edges, dtype=float)
        edges[0], edges[-1] = -np.inf, np.inf
        idx = np.digitize(t, edges[1:-1])
        values = [np.sort(r[idx == b]) for b in range(len(edges) - 1)]
        return cls(edges, values)

    def sample(self, t108: np.ndarray, *, n_members: int, seed: int = 0) -> np.ndarray:
        """Members ``(n_members, *t108.shape)`` drawn from the training rain of each pixel's temperature bin.

        Raises
        ------
        ValueError
            Non-finite temperatures.
        """
        t = np.asarray(t108, dtype=float)
        if not np.isfinite(t).all():
            raise ValueError("IRLookup.sample: non-finite temperatures")
        rng = np.random.default_rng(seed)
        idx = np.digitize(t.ravel(), self.edges[1:-1])
        out = np.empty((n_members, t.size), dtype=np.float32)
        for b in np.unique(idx):
            sel = np.nonzero(idx == b)[0]
            vals = self.values[b]
            out[:, sel] = vals[rng.integers(len(vals), size=(n_members, sel.size))]
        return out.reshape((n_members, *t.shape))


def conditional_rain(t108: np.ndarray, fields: dict, *, edges=T108_EDGES_K, q: float = 0.99,
                     min_count: int = 20) -> dict:
    """Mean and ``q`` quantile of rain per 10.8 µm class, for the truth and for each method on the same pixels.

    Parameters
    ----------
    t108 : array ``(sample, y, x)``
        Temperature of each pixel's target frame (K).
    fields : dict
        ``{name: array}`` of rain (mm h-1), each ``(sample, y, x)`` or ``(member, sample, y, x)``; members are
        pooled (an ensemble's quantile is that of its members' values).
    edges : sequence of float
        Class edges (K).
    min_count : int
        Classes with fewer pixels get ``None``.

    Returns
    -------
    dict
        ``{"edges_k": [...], "n": [...], name: {"mean": [...], "q99": [...]}}`` (``q99`` names the ``q`` quantile).

    Raises
    ------
    ValueError
        A field whose trailing shape is not ``t108``'s.
    """
    t = np.asarray(t108, dtype=float)
    edges = [float(e) for e in edges]
    cls = np.digitize(t, edges) - 1  # -1 and len(edges) - 1 fall outside the classes
    out = {"edges_k": edges, "n": [int((cls == b).sum()) for b in range(len(edges) - 1)]}
    for name, f in fields.items():
        v = np.asarray(f, dtype=float)
        if v.shape[-t.ndim:] != t.shape:
            raise ValueError(f"conditional_rain: {name} has shape {v.shape}; expected (..., {', '.join(map(str, t.shape))})")
        v = v.reshape(-1, *t.shape)
        means, qs = [], []
        for b, n in enumerate(out["n"]):
            if n < min_count:
                means.append(None)
                qs.append(None)
                continue
            x = v[:, cls == b].ravel()
            means.append(float(x.mean()))
            qs.append(float(np.quantile(x, q)))
        out[name] = {"mean": means, "q99": qs}
    return out


def _tile_draws(n_tiles: int, n_boot: int, seed: int) -> np.ndarray:
    """``(n_boot, n_tiles)`` tile indices drawn with replacement (the same draws for every method)."""
    if n_tiles < 2 or n_boot < 1:
        raise ValueError(f"a tile bootstrap needs >= 2 tiles and >= 1 resample, got {n_tiles} and {n_boot}")
    return np.random.default_rng(seed).integers(n_tiles, size=(n_boot, n_tiles))


def _interval(value: float, draws: np.ndarray, level: float) -> dict:
    a = (1 - level) / 2
    return {"value": float(value), "lo": float(np.nanquantile(draws, a)), "hi": float(np.nanquantile(draws, 1 - a))}


def _members(values: np.ndarray, n_tiles: int) -> np.ndarray:
    v = np.asarray(values, dtype=float)
    v = v[None] if v.ndim == 3 else v
    if v.ndim != 4 or v.shape[1] != n_tiles:
        raise ValueError(f"fields of shape {np.shape(values)}; expected (sample, y, x) or (member, sample, y, x) with "
                         f"{n_tiles} samples")
    return v


def cold_top_tail(t108: np.ndarray, truth: np.ndarray, preds: dict, patch_t108: np.ndarray, patch_rain: np.ndarray, *,
                  below_k: float = 230.0, q: float = 0.99, n_boot: int = 1000, seed: int = 0,
                  level: float = 0.9) -> dict:
    """The ``q`` quantile of rain under tops colder than ``below_k``, of the truth and of each method, over that of
    the training patches under the same tops, with a bootstrap over the test tiles.

    Above 1 for the truth: the test domain holds heavier rain under cold tops than the training patches. A method
    below 1 puts less rain under cold tops than it was trained on. Pixels of all cold tops are pooled (members too).

    Returns
    -------
    dict
        ``{"below_k", "q", "patches_q", "n_pixels", "n_boot", "level", "ratios": {name: {"value", "lo", "hi"}}}`` with
        ``name`` in ``("truth", *preds)``; ``ratios`` is empty when no test pixel is that cold.

    Raises
    ------
    ValueError
        Shapes that do not match ``t108`` ``(sample, y, x)``, fewer than 2 tiles, or no cold training pixel.
    """
    t = np.asarray(t108, dtype=float)
    n = t.shape[0]
    cold_patches = np.asarray(patch_rain, dtype=float)[np.asarray(patch_t108) < below_k]
    if cold_patches.size == 0:
        raise ValueError(f"cold_top_tail: no training pixel colder than {below_k} K")
    ref = float(np.quantile(cold_patches, q))
    fields = {"truth": _members(truth, n), **{k: _members(v, n) for k, v in preds.items()}}
    cold = t < below_k
    out = {"below_k": float(below_k), "q": float(q), "patches_q": ref, "n_pixels": int(cold.sum()),
           "n_boot": int(n_boot), "level": float(level), "ratios": {}}
    if not cold.any() or ref <= 0:
        return out
    draws = _tile_draws(n, n_boot, seed)
    # per tile, the cold pixels of every member: resampling tiles concatenates them
    per_tile = {k: [v[:, i][:, cold[i]].ravel() for i in range(n)] for k, v in fields.items()}
    for k, tiles in per_tile.items():
        full = np.concatenate(tiles)
        boot = np.array([np.quantile(x, q) if (x := np.concatenate([tiles[i] for i in idx])).size else np.nan
                         for idx in draws])
        out["ratios"][k] = _interval(np.quantile(full, q) / ref, boot / ref, level)
    return out


def _tops(values: np.ndarray, q: float) -> _TileSummary:
    """Per tile, enough of the largest values (members pooled) for the pooled ``q`` quantile of any resample."""
    per_tile = np.moveaxis(values, 1, 0).reshape(values.shape[1], -1)
    n_keep = int(np.ceil((per_tile.size - 1) * (1 - q))) + 2  # a resample may repeat one tile n_tiles times
    return _TileSummary(None, None, None, None, None, _largest_per_tile(per_tile, n_keep),
                        np.full(per_tile.shape[0], per_tile.shape[1]))


def tail_ratio_draws(preds: dict, truth: np.ndarray, *, q: float = 0.999, n_boot: int = 1000, seed: int = 0,
                     level: float = 0.9) -> dict:
    """The pooled ``q``-quantile ratio (prediction over truth, members pooled) of each method on all test tiles and
    on paired resamples of them.

    Returns
    -------
    dict
        ``{"ratios": {name: {"value", "lo", "hi"}}, "draws": {name: array (n_boot,)}}``; the draws share their
        resamples, so a comparison between methods (is one ratio above all others?) can be counted over them.

    Raises
    ------
    ValueError
        Fields whose sample axis does not match the truth's, or fewer than 2 tiles.
    """
    truth = np.asarray(truth, dtype=float)
    n = truth.shape[0]
    draws = _tile_draws(n, n_boot, seed)
    t_sum = _tops(truth[None], q)
    t_all = float(np.quantile(truth, q))
    t_boot = np.array([_pooled_quantile(t_sum, idx, q) for idx in draws])
    out = {"ratios": {}, "draws": {}}
    for k, v in preds.items():
        v = _members(v, n)
        summ = _tops(v, q)
        boot = np.array([_pooled_quantile(summ, idx, q) for idx in draws]) / np.maximum(t_boot, 1e-12)
        out["ratios"][k] = _interval(float(np.quantile(v, q)) / max(t_all, 1e-12), boot, level)
        out["draws"][k] = boot
    return out


# --- how much a verdict depends on the test tiles -------------------------------------------------------------------

_TAIL_Q = (0.99, 0.999)


@dataclass
class _TileSummary:
    """What the bootstrap needs of one method's fields, per tile: contingency counts at 1 mm h-1, the mean CRPS
    (MAE for one member), the member-mean radial spectrum and the largest values (for pooled upper quantiles)."""

    hits: np.ndarray
    false_alarms: np.ndarray
    misses: np.ndarray
    crps: np.ndarray | None
    spectrum: xr.DataArray | None
    tops: list
    counts: np.ndarray


def _largest_per_tile(per_tile: np.ndarray, n_keep: int) -> list:
    """The ``n_keep`` largest values of each row (tile) of ``per_tile``, in descending order."""
    return [-np.sort(-row)[:n_keep] for row in per_tile]


def _summarise(fields: xr.DataArray, truth: xr.DataArray | None, n_keep: int) -> _TileSummary:
    """Per-tile summary of ``(member, sample, y, x)`` fields; with ``truth`` also the scores against it."""
    if not np.isfinite(fields.values).all():
        raise ValueError(f"tile_bootstrap: {fields.name or 'a field'} has NaN or infinite values; the bootstrap "
                         "needs complete tiles")
    fields = fields.transpose("member", "sample", "y", "x")
    per_tile = np.moveaxis(fields.values, 1, 0).reshape(fields.sizes["sample"], -1)
    tops = _largest_per_tile(per_tile, n_keep)
    spectrum = radial_power_spectrum(fields).mean("member").transpose("sample", "wavenumber")
    summary = _TileSummary(None, None, None, None, spectrum, tops, np.full(per_tile.shape[0], per_tile.shape[1]))
    if truth is not None:
        tab = contingency_table(fields, truth.broadcast_like(fields), threshold=1.0, dim=("member", "y", "x"),
                                weights=None)
        summary.hits, summary.false_alarms, summary.misses = (tab[k].transpose("sample").values
                                                              for k in ("hits", "false_alarms", "misses"))
        summary.crps = (crps_ensemble(fields, truth, dim=("y", "x"), weights=None).transpose("sample").values
                        if fields.sizes["member"] > 1
                        else abs(fields.isel(member=0) - truth).mean(("y", "x")).transpose("sample").values)
    return summary


def _pooled_quantile(summary: _TileSummary, idx: np.ndarray, q: float) -> float:
    """The ``q``-quantile (linear interpolation, as ``numpy.quantile``) of the pooled values of tiles ``idx``
    (with repeats), from the largest values kept per tile."""
    n = int(summary.counts[idx].sum())
    h = (n - 1) * q
    i0 = int(np.floor(h))
    g = h - i0
    desc = -np.sort(-np.concatenate([summary.tops[i] for i in idx]))
    d0 = n - 1 - i0  # position of the ascending i0-th value in the descending order
    if d0 >= desc.size:
        raise RuntimeError("tile_bootstrap: too few largest values kept per tile for this quantile")
    lo = desc[d0]
    return float(lo if g == 0 or d0 == 0 else lo + g * (desc[d0 - 1] - lo))


def _slopes(spectrum: xr.DataArray, idx: np.ndarray, band_km: tuple) -> np.ndarray:
    """Spectral slope of the mean spectrum of tiles ``idx[r]`` for every resample ``r`` (one least-squares call)."""
    mean = spectrum.values[idx].mean(axis=1)
    da = xr.DataArray(mean, dims=("resample", "wavenumber"), coords={k: v for k, v in spectrum.coords.items()
                                                                   if set(v.dims) <= {"wavenumber"}})
    return np.asarray(spectral_slope(da, wavelength_range=band_km).values, dtype=float)


def tile_scores(summaries: dict, truth_summary: _TileSummary, idx: np.ndarray, *, band_km: tuple) -> dict:
    """The scores the targets read (``csi_1``, ``crps``, ``q99_ratio``, ``q999_ratio``, ``psd_slope_err``) of
    every method, for each resample ``r`` of tiles ``idx[r]`` (``idx``: ``(n_resamples, n_tiles)``, repeats
    allowed); each score is an array over resamples.

    With ``idx = arange(n_tiles)[None]`` they equal :func:`score`'s on all tiles (tested).
    """
    idx = np.atleast_2d(idx)
    slope_t = _slopes(truth_summary.spectrum, idx, band_km)
    q_truth = {q: np.array([_pooled_quantile(truth_summary, i, q) for i in idx]) for q in _TAIL_Q}
    out = {}
    with np.errstate(invalid="ignore", divide="ignore"):
        for method, s in summaries.items():
            a, b, c = s.hits[idx].sum(1), s.false_alarms[idx].sum(1), s.misses[idx].sum(1)
            qp = {q: np.array([_pooled_quantile(s, i, q) for i in idx]) for q in _TAIL_Q}
            out[method] = {"csi_1": np.where(a + b + c > 0, a / (a + b + c), np.nan),
                           "crps": s.crps[idx].mean(1),
                           "q99_ratio": np.where(q_truth[0.99] > 0, qp[0.99] / q_truth[0.99], np.nan),
                           "q999_ratio": np.where(q_truth[0.999] > 0, qp[0.999] / q_truth[0.999], np.nan),
                           "psd_slope_err": np.abs(_slopes(s.spectrum, idx, band_km) - slope_t)}
    return out


def tile_bootstrap(preds: dict, truth: xr.DataArray, *, targets: list[Target], nfe: dict, band_km: tuple,
                   n_boot: int = 1000, level: float = 0.9, seed: int = 0) -> dict:
    """How much each target's verdict depends on the test tiles: a paired bootstrap over tiles.

    Every resample draws ``n_tiles`` tiles with replacement, the same tiles for every method (so a ratio of two
    methods keeps its pairing), recomputes the scores the targets read (:func:`tile_scores`) and evaluates the
    targets on them. A verdict whose interval lies on one side of the target's bound does not hinge on which tiles
    were drawn; one whose interval straddles the bound does.

    Parameters
    ----------
    preds : dict
        Method name -> ``(member, sample, y, x)`` rain (mm h-1), as from :func:`evaluate_methods`.
    truth : xr.DataArray
        ``(sample, y, x)`` rain (mm h-1).
    targets : list of Target
        The study's targets, measured on ``{"methods": {method: scores}}``.
    nfe : dict
        Method name -> NFE (constant across resamples; for targets on NFE).
    band_km : (float, float)
        Wavelength band of the spectral slope (as in :func:`score`).
    n_boot, level, seed
        Number of resamples, central interval level, random seed.

    Returns
    -------
    dict
        ``{"n_boot", "level", "n_tiles", "targets": {name: {"value", "lo", "hi", "frac_met"}}}``: the value on
        all tiles, the central ``level`` interval over resamples and the fraction of resamples meeting it.

    Raises
    ------
    ValueError
        Fewer than 2 tiles, or a field with NaN values.
    """
    n = truth.sizes["sample"]
    if n < 2:
        raise ValueError(f"tile_bootstrap: needs at least 2 test tiles, got {n}")
    n_values = max(int(p.size) for p in preds.values())
    n_keep = int(np.ceil((n_values - 1) * (1 - min(_TAIL_Q)))) + 2
    summaries = {m: _summarise(p, truth, n_keep) for m, p in preds.items()}
    truth_summary = _summarise(truth.expand_dims(member=1), None, n_keep)

    idx = np.vstack([np.arange(n), _tile_draws(n, n_boot, seed)])  # row 0: all tiles once
    scores = tile_scores(summaries, truth_summary, idx, band_km=band_km)
    values = np.full((n_boot + 1, len(targets)), np.nan)
    met = np.zeros((n_boot + 1, len(targets)), dtype=bool)
    for r in range(n_boot + 1):
        metrics = {"methods": {m: {**{k: float(v[r]) for k, v in sc.items()}, "nfe": nfe.get(m)}
                               for m, sc in scores.items()}}
        for j, res in enumerate(evaluate_targets(metrics, targets)):
            values[r, j] = np.nan if res.measured is None else res.measured
            met[r, j] = bool(res.met)
    tail = (1 - level) / 2
    out = {}
    for j, t in enumerate(targets):
        v = values[1:, j]
        ok = np.isfinite(v)
        out[t.name] = {
            "value": None if not np.isfinite(values[0, j]) else float(values[0, j]),
            "lo": float(np.quantile(v[ok], tail)) if ok.any() else None,
            "hi": float(np.quantile(v[ok], 1 - tail)) if ok.any() else None,
            "frac_met": float(met[1:, j].mean()),
        }
    return {"n_boot": int(n_boot), "level": float(level), "n_tiles": int(n), "targets": out}
