"""Data of the SEVIRI rain study: radar sequences → model-grid rain rates → (IR, rain) samples.

- :func:`load_rain_sequence` reads any pysteps-readable sequence (a glob and an importer name), converts
  accumulations to rates through the pysteps metadata (:func:`pysteps.utils.to_rainrate`), keeps frames at
  the model time step, and resamples to the model grid spacing; unusable sequences (too few frames, no rain,
  unknown units) raise a :class:`~eoretrieval.errors.DataError` naming the files.
- :func:`make_training_set` cuts random, fully-covered space-time patches, rotates/flips the *rain*
  (then simulates the IR, so parallax stays poleward), and runs the IR operator with a new seed each time.
- :func:`make_test_set` cuts a fixed grid of tiles and simulates their IR, or takes it from real SEVIRI files
  resampled to the radar grid (:func:`load_seviri_on_rain_grid`: satpy, the radar's own projection, the
  nearest repeat-cycle slot to each radar time).
- :class:`RainTransform` maps rain rates to the standardised log space the networks work in, and back.

Multi-frame inputs stack the IR channels of ``n_frames`` successive frames (oldest first).

Public names: :func:`load_rain_sequence`, :func:`to_rain_rate`, :func:`resample_to_spacing`,
:func:`make_training_set`, :func:`make_test_set`, :class:`RainTransform`, :class:`Samples`,
:func:`ir_to_input`, :func:`load_seviri_on_rain_grid`, :func:`rain_area`, :data:`IR_SCALE`.
"""

from __future__ import annotations

import glob as _glob
import warnings
from dataclasses import dataclass, field

import numpy as np
import xarray as xr
from tqdm import tqdm

from ..io.radar import import_pysteps
from ..errors import DataError
from ..io.radar import read_radar_sequence
from ..io.seviri import SEVIRI_CHANNELS, check_seviri_layout, read_seviri
from .ir_operator import IROperatorConfig, frames_ahead, seviri_ir_operator

__all__ = ["load_rain_sequence", "to_rain_rate", "resample_to_spacing", "make_training_set", "make_test_set",
           "RainTransform", "Samples", "ir_to_input", "load_seviri_on_rain_grid", "rain_area", "IR_SCALE"]

#: IR normalisation: (T - offset) / scale, a fixed physical scaling shared by every channel
IR_SCALE = {"offset": 250.0, "scale": 25.0}
MAX_RATE = 200.0  # mm h-1; larger values in composites are clutter


def to_rain_rate(ds: xr.Dataset) -> xr.DataArray:
    """Return ``ds.precip`` as a rain rate in ``mm h-1`` using :func:`pysteps.utils.to_rainrate`.

    Accumulations (``mm`` with ``accutime_min``) are divided by the accumulation time; ``dBZ`` goes through
    the Marshall-Palmer Z-R relation of the pysteps metadata.

    Raises
    ------
    DataError
        If the units are not ``mm h-1``, ``mm`` (with an accumulation time) or ``dBZ``, naming the file.
    """
    import_pysteps()
    from pysteps.utils import to_rainrate

    da = ds["precip"]
    src = ds.attrs.get("source_file", "<dataset>")
    unit = da.attrs.get("pysteps_unit") or {"mm h-1": "mm/h"}.get(da.attrs.get("units"), da.attrs.get("units"))
    if unit not in ("mm/h", "mm", "dBZ"):
        raise DataError(f"{src}: precipitation units {da.attrs.get('units')!r} cannot be converted to a rain "
                        "rate; expected 'mm h-1', 'mm' (accumulation with accutime) or 'dBZ'")
    acc = float(da.attrs.get("accutime_min") or 0.0)
    if unit == "mm" and acc <= 0:
        raise DataError(f"{src}: accumulation in mm without an accumulation time; pass the time step "
                        "(accutime) so it can be converted to mm h-1")
    meta = {"unit": unit, "accutime": acc, "transform": None, "threshold": float(da.attrs.get("threshold", 0.0)),
            "zerovalue": float(da.attrs.get("zerovalue", 0.0)), "zr_a": 200.0, "zr_b": 1.6}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rate, _ = to_rainrate(np.asarray(da.values, dtype=float), meta)
    out = da.copy(data=np.clip(rate, 0.0, MAX_RATE).astype(np.float32) if np.isfinite(rate).any()
                  else rate.astype(np.float32))
    out = out.where(np.isfinite(da))
    out.attrs = {"units": "mm h-1", "standard_name": "rainfall_rate", "long_name": "rain rate",
                 "converted_from": unit, "source_file": src, "projection": str(ds.attrs.get("projection", ""))}
    return out


def resample_to_spacing(rain: xr.DataArray, spacing_m: float) -> xr.DataArray:
    """Resample ``(time, y, x)`` rain to ``spacing_m`` (block mean for integer factors, else mean + linear).

    A coarse cell is NaN if any fine cell in it is NaN (no partial coverage).

    Raises
    ------
    DataError
        If the grid is coarser than ``spacing_m`` by more than 1 %.
    """
    dx = abs(float(rain.x[1] - rain.x[0]))
    factor = spacing_m / dx
    src = rain.attrs.get("source_file", "<rain>")
    if factor < 0.99:
        raise DataError(f"{src}: grid spacing {dx:.0f} m is coarser than the model's {spacing_m:.0f} m")
    n = int(np.floor(factor + 1e-6))
    if n > 1:
        nan_any = rain.isnull().coarsen(y=n, x=n, boundary="trim").max()
        out = rain.fillna(0.0).coarsen(y=n, x=n, boundary="trim").mean().where(~nan_any.astype(bool))
    else:
        out = rain
    if abs(factor - n) > 1e-3:
        x = np.arange(float(out.x[0]), float(out.x[-1]), spacing_m)
        y = np.arange(float(out.y[0]), float(out.y[-1]), spacing_m)
        out = out.interp(x=x, y=y)
    out.attrs = dict(rain.attrs, grid_spacing_m=float(spacing_m))
    return out


def load_rain_sequence(files: str | list, importer: str, *, spacing_m: float = 4000.0, time_step_min: float = 15.0,
                       n_frames: int = 3, min_wet_fraction: float = 1e-3) -> xr.DataArray:
    """Read a radar sequence and return model-grid rain rates ``(time, y, x)`` in ``mm h-1``.

    Parameters
    ----------
    files : str or list
        Glob pattern or list of files.
    importer : str
        pysteps importer name (``knmi_hdf5``, ``opera_hdf5``, ``odim_hdf5``, ``saf_crri``, ``bom_rf3``...).
    spacing_m : float
        Model grid spacing.
    time_step_min : float
        Model time step; frames not on this step (counted from the first frame) are dropped.
    n_frames : int
        Frames the model needs per sample (the sequence must hold at least this many).
    min_wet_fraction : float
        Minimum fraction of valid pixels with at least 0.1 mm h-1 over the sequence.

    Raises
    ------
    DataError
        No files; too few frames at the time step, or none of ``n_frames`` successive ones; no rain; unknown units
        (naming the files).
    """
    paths = sorted(_glob.glob(files)) if isinstance(files, str) else [str(f) for f in files]
    if not paths:
        raise DataError(f"{files}: no files match the test/training sequence pattern")
    ds = read_radar_sequence(paths, importer=importer)
    rate = to_rain_rate(ds)
    names = ", ".join(p.split("/")[-1] for p in paths[:3]) + (" ..." if len(paths) > 3 else "")
    t = rate.time.values
    minutes = (t - t[0]) / np.timedelta64(1, "m")
    keep = np.isclose(np.mod(minutes, time_step_min), 0.0) | np.isclose(np.mod(minutes, time_step_min), time_step_min)
    rate = rate.isel(time=np.flatnonzero(keep))
    if rate.sizes["time"] < n_frames:
        raise DataError(f"{names}: {rate.sizes['time']} frame(s) at a {time_step_min:g}-min step, but the model needs "
                        f"at least {n_frames} successive frames")
    steps = np.diff(rate.time.values) / np.timedelta64(1, "m")
    if not any(_sequence_ok(rate.time.values, k, n_frames, time_step_min) for k in range(rate.sizes["time"])):
        raise DataError(f"{names}: no {n_frames} successive frames {time_step_min:g} min apart (steps between the "
                        f"frames: {sorted(set(steps.tolist()))} min); expected files every {time_step_min:g} min "
                        "(parameter time_step_min)")
    if np.any(steps > time_step_min + 1e-6):
        warnings.warn(f"{names}: gaps in the sequence ({sorted(set(steps.tolist()))} min); samples across gaps "
                      "are skipped", stacklevel=2)
    rate = resample_to_spacing(rate, spacing_m)
    valid = np.isfinite(rate.values)
    wet = (rate.values >= 0.1) & valid
    if valid.sum() == 0 or wet.sum() / valid.sum() < min_wet_fraction:
        raise DataError(f"{names}: no rain in the sequence (wet fraction {wet.sum() / max(valid.sum(), 1):.2g} < "
                        f"{min_wet_fraction:g}); a rain retrieval cannot be evaluated on it")
    rate.attrs.update({"source_files": paths, "importer": importer, "time_step_min": float(time_step_min)})
    return rate


def ir_to_input(ir: xr.Dataset, frames: slice | list[int], *, channels=tuple(SEVIRI_CHANNELS)) -> np.ndarray:
    """Stack IR channels of ``frames`` (oldest first) into ``(n_frames * n_channels, y, x)``, normalised."""
    arr = np.stack([ir[ch].values[frames] for ch in channels], axis=1)  # (frames, ch, y, x)
    arr = (arr - IR_SCALE["offset"]) / IR_SCALE["scale"]
    return arr.reshape(-1, *arr.shape[-2:]).astype(np.float32)


def rain_area(rain: xr.DataArray):
    """The pyresample ``AreaDefinition`` of a model-grid rain field (its ``projection`` attribute, cell centres)."""
    from pyresample.geometry import AreaDefinition

    proj = rain.attrs.get("projection", "")
    src = rain.attrs.get("source_file", "<rain>")
    if not proj:
        raise DataError(f"{src}: the radar grid has no projection (pysteps metadata 'projection'); SEVIRI cannot be "
                        "resampled onto it")
    x, y = rain.x.values.astype(float), rain.y.values.astype(float)
    dx, dy = abs(x[1] - x[0]), abs(y[1] - y[0])
    extent = (x.min() - dx / 2, y.min() - dy / 2, x.max() + dx / 2, y.max() + dy / 2)
    return AreaDefinition("radar", f"model grid of {src}", "radar", proj, len(x), len(y), extent)


def load_seviri_on_rain_grid(files: str | list, reader: str, rain: xr.DataArray, *,
                             max_offset_min: float = 7.5) -> xr.Dataset:
    """Real SEVIRI level-1.5 files, resampled to ``rain``'s grid, one slot per radar time (the SEVIRI layout).

    Each file is read with :func:`eoretrieval.io.seviri.read_seviri` (satpy ``reader``; nearest neighbour onto
    :func:`rain_area`); each radar time takes the slot whose scan over the radar grid (``scan_time``: the median
    acquisition time of the lines over it, some 11 minutes after the slot's nominal start over Europe) is nearest,
    within ``max_offset_min``; a file without line times counts as seen at its nominal start (``scan_time_source``
    in the attributes says which).

    Raises
    ------
    DataError
        No file matches; a radar time without a slot within ``max_offset_min`` (naming the time and the slots);
        a file that does not cover the radar grid (all NaN), naming it; other unreadable files (from the reader).
    """
    paths = sorted(_glob.glob(files)) if isinstance(files, str) else [str(f) for f in files]
    if not paths:
        raise DataError(f"{files}: no SEVIRI files match")
    area = rain_area(rain)
    scenes = [read_seviri(p, reader=reader, area=area) for p in tqdm(paths, desc="SEVIRI files", disable=None)]
    slots = np.array([(sc.scan_time if "scan_time" in sc.coords else sc.time).values[0] for sc in scenes])
    sources = sorted({str(sc.scan_time.attrs.get("source")) if "scan_time" in sc.coords else "repeat-cycle start"
                      for sc in scenes})
    frames, used, offsets = [], [], []
    for t in rain.time.values:
        off = np.abs((slots - t) / np.timedelta64(1, "m")).astype(float)
        j = int(np.argmin(off))
        if off[j] > max_offset_min:
            raise DataError(f"{paths[0]} ...: no SEVIRI slot seen within {max_offset_min:g} min of the radar time "
                            f"{str(t)[:16]} (the slots' scans over the radar grid: {[str(v)[:16] for v in slots]})")
        sc = scenes[j]
        if not np.allclose(sc.y.values, rain.y.values, atol=1.0) or not np.allclose(sc.x.values, rain.x.values, atol=1.0):
            raise DataError(f"{paths[j]}: resampled grid differs from the radar grid of {rain.attrs.get('source_file')}")
        frames.append(sc.drop_vars("scan_time", errors="ignore").assign_coords(time=[t], y=rain.y.values,
                                                                               x=rain.x.values))
        used.append(paths[j])
        offsets.append(float(off[j]))
    out = xr.concat(frames, dim="time", combine_attrs="drop_conflicts")
    out.attrs.update({"seviri_files": used, "slot_offsets_min": offsets, "satpy_reader": reader,
                      "scan_time_source": "; ".join(sources)})
    return check_seviri_layout(out, source=used[0])


@dataclass
class RainTransform:
    """Rain rate ↔ standardised log rate: :math:`z = (\\log_{10}(R + 0.1) - \\mu) / \\sigma`.

    ``inverse`` clips negative rates and sets rates below ``zero_below`` to 0.
    """

    mean: float = 0.0
    std: float = 1.0
    zero_below: float = 0.05

    @classmethod
    def fit(cls, rain: np.ndarray) -> RainTransform:
        z = np.log10(np.asarray(rain, dtype=float) + 0.1)
        return cls(mean=float(np.nanmean(z)), std=float(np.nanstd(z)))

    def forward(self, rain: np.ndarray) -> np.ndarray:
        return ((np.log10(np.asarray(rain, dtype=float) + 0.1) - self.mean) / self.std).astype(np.float32)

    def inverse(self, z: np.ndarray) -> np.ndarray:
        r = 10 ** (np.asarray(z, dtype=float) * self.std + self.mean) - 0.1
        return np.where(r < self.zero_below, 0.0, np.minimum(r, MAX_RATE)).astype(np.float32)


@dataclass
class Samples:
    """(IR input, rain target) pairs: ``cond`` ``(n, n_frames * 5, y, x)`` normalised IR, ``rain``
    ``(n, y, x)`` mm h-1, and for each sample its time and tile origin; ``no_ir_tiles`` counts the tiles that
    qualified on the radar but were left out for lack of IR (real SEVIRI not covering them)."""

    cond: np.ndarray
    rain: np.ndarray
    times: list = field(default_factory=list)
    origins: list = field(default_factory=list)
    no_ir_tiles: int = 0


def _sequence_ok(times: np.ndarray, k: int, n_frames: int, step_min: float) -> bool:
    if k - n_frames + 1 < 0:
        return False
    dt = np.diff(times[k - n_frames + 1:k + 1]) / np.timedelta64(1, "m")
    return bool(np.all(np.isclose(dt, step_min)))


def make_training_set(rain: xr.DataArray, *, n_samples: int, patch: int, n_frames: int, seed: int,
                      margin: int = 8, config: IROperatorConfig | None = None,
                      intensity_range: tuple[float, float] | None = None,
                      progress: bool | None = None) -> Samples:
    """Random fully-covered patches of ``n_frames`` (+ the later frames the cooling lag needs), augmented by
    rot90/flips of the rain, with IR simulated independently for each sample.

    ``intensity_range = (lo, hi)`` multiplies the rain of each patch (all its frames) by a factor drawn
    log-uniformly in ``[lo, hi]`` *before* the IR is simulated, so the cloud tops follow the scaled rain: one
    radar event then stands for lighter and heavier events of the same structure. ``None`` keeps the rain.

    Raises
    ------
    DataError
        If no patch of the requested size is fully covered by radar for ``n_frames`` frames.
    """
    if intensity_range is not None:
        lo, hi = (float(v) for v in intensity_range)
        if not 0 < lo <= hi:
            raise ValueError(f"intensity_range must satisfy 0 < lo <= hi, got {intensity_range!r}")
    rng = np.random.default_rng(seed)
    vals = rain.values
    nt, ny, nx = vals.shape
    step = float(rain.attrs.get("time_step_min", 15.0))
    size = patch + 2 * margin
    times = rain.time.values
    valid_all = np.isfinite(vals)
    ahead = frames_ahead(step, config)  # later frames the operator reads for the cooling lag
    candidates = []
    for k in range(nt):
        if not _sequence_ok(times, k, n_frames, step):
            continue
        cov = valid_all[k - n_frames + 1:min(k + 1 + ahead, nt)].all(axis=0).astype(np.int32)
        integ = cov.cumsum(0).cumsum(1)
        integ = np.pad(integ, ((1, 0), (1, 0)))
        window_sum = integ[size:, size:] - integ[:-size, size:] - integ[size:, :-size] + integ[:-size, :-size]
        full = window_sum == size * size
        ys, xs = np.nonzero(full)
        if ys.size:
            candidates.append((k, ys, xs))
    if not candidates:
        raise DataError(f"{rain.attrs.get('source_file', '<rain>')}: no {size}x{size}-pixel patch is fully covered "
                        f"by radar for {n_frames} frames")
    x_dim = rain.x.values
    conds, rains, meta_t, meta_o = [], [], [], []
    for i in tqdm(range(n_samples), desc="training samples", disable=None if progress is None else not progress):
        k, ys, xs = candidates[rng.integers(len(candidates))]
        j = rng.integers(ys.size)
        y0, x0 = int(ys[j]), int(xs[j])
        k1 = min(k + ahead, nt - 1)
        block = vals[k - n_frames + 1:k1 + 1, y0:y0 + size, x0:x0 + size]
        block = np.rot90(block, rng.integers(4), axes=(1, 2))
        if rng.random() < 0.5:
            block = block[:, :, ::-1]
        if intensity_range is not None:
            block = np.minimum(block * np.exp(rng.uniform(np.log(lo), np.log(hi))), MAX_RATE)
        seq = xr.DataArray(np.ascontiguousarray(block), dims=("time", "y", "x"),
                           coords={"time": times[k - n_frames + 1:k1 + 1], "x": x_dim[:size] - x_dim[0]},
                           attrs={"units": "mm h-1"})
        ir = seviri_ir_operator(seq, seed=rng, config=config)
        inner = slice(margin, margin + patch)
        conds.append(ir_to_input(ir, slice(0, n_frames))[:, inner, inner])
        rains.append(block[n_frames - 1, inner, inner].astype(np.float32))
        meta_t.append(str(times[k]))
        meta_o.append((y0 + margin, x0 + margin))
    return Samples(np.stack(conds), np.stack(rains), meta_t, meta_o)


def make_test_set(rain: xr.DataArray, *, tile: int, n_frames: int, seed: int, max_tiles: int | None = None,
                  min_wet_fraction: float = 0.05, margin: int = 8,
                  config: IROperatorConfig | None = None, ir: xr.Dataset | None = None) -> Samples:
    """Cut a fixed grid of non-overlapping ``tile`` × ``tile`` test tiles and simulate their IR (or take it from ``ir``).

    A tile is kept if it is fully covered in its ``n_frames`` frames and at least ``min_wet_fraction`` of its
    target frame has rain ≥ 0.1 mm h-1 (a scene without rain cannot score a retrieval); at most ``max_tiles``
    are kept, spread evenly over the candidate list (in time/space order, not by rain amount). The IR of each
    tile is simulated on the tile plus ``margin`` pixels (and the later frames the cooling lag needs), with a seed
    drawn from ``seed``. The same tiles serve every method (1-frame models use the last frame's channels).
    With ``ir`` (real SEVIRI on ``rain``'s grid and times, :func:`load_seviri_on_rain_grid`) nothing is simulated:
    the tiles' channels are cut from it, and a tile must also have IR everywhere in its frames.

    Returns
    -------
    Samples
        ``cond`` ``(n, n_frames * 5, tile, tile)`` normalised IR and ``rain`` ``(n, tile, tile)`` mm h-1.

    Raises
    ------
    DataError
        If no tile qualifies (naming the files).
    """
    rng = np.random.default_rng(seed)
    vals = rain.values
    nt, ny, nx = vals.shape
    times = rain.time.values
    step = float(rain.attrs.get("time_step_min", 15.0))
    valid = np.isfinite(vals)
    if ir is not None:
        if ir.sizes.get("time") != nt or ir.sizes.get("y") != ny or ir.sizes.get("x") != nx:
            raise DataError(f"{ir.attrs.get('seviri_files', ['<ir>'])[0]}: IR {dict(ir.sizes)} does not match the rain "
                            f"sequence {dict(rain.sizes)}; resample it with load_seviri_on_rain_grid")
    ir_valid = (np.all([np.isfinite(ir[ch].values) for ch in SEVIRI_CHANNELS], axis=0) if ir is not None
                else np.ones_like(valid))
    cands, no_ir = [], 0
    for k in range(nt):
        if not _sequence_ok(times, k, n_frames, step):
            continue
        for y0 in range(margin, ny - tile - margin + 1, tile):
            for x0 in range(margin, nx - tile - margin + 1, tile):
                if not valid[k - n_frames + 1:k + 1, y0:y0 + tile, x0:x0 + tile].all():
                    continue
                if (vals[k, y0:y0 + tile, x0:x0 + tile] >= 0.1).mean() < min_wet_fraction:
                    continue
                if not ir_valid[k - n_frames + 1:k + 1, y0:y0 + tile, x0:x0 + tile].all():
                    no_ir += 1
                    continue
                cands.append((k, y0, x0))
    if not cands:
        files = rain.attrs.get("source_files", [rain.attrs.get("source_file", "<rain>")])
        raise DataError(f"{files[0]} ...: no {tile}x{tile} tile is fully covered for {n_frames} frames with "
                        f"rain on at least {min_wet_fraction:.0%} of it"
                        + (f" and IR over it ({no_ir} such tiles lack SEVIRI IR)" if ir is not None else ""))
    if max_tiles is not None and len(cands) > max_tiles:
        idx = np.unique(np.linspace(0, len(cands) - 1, max_tiles).round().astype(int))
        cands = [cands[i] for i in idx]
    conds, rains = [], []
    for k, y0, x0 in cands:
        if ir is not None:
            tile_ir = ir.isel(time=slice(k - n_frames + 1, k + 1), y=slice(y0, y0 + tile), x=slice(x0, x0 + tile))
            conds.append(ir_to_input(tile_ir, slice(0, n_frames)))
            rains.append(vals[k, y0:y0 + tile, x0:x0 + tile].astype(np.float32))
            continue
        k1 = min(k + frames_ahead(step, config), nt - 1)
        window = rain.isel(time=slice(k - n_frames + 1, k1 + 1), y=slice(y0 - margin, y0 + tile + margin),
                           x=slice(x0 - margin, x0 + tile + margin))
        sim = seviri_ir_operator(window.fillna(0.0), seed=rng, config=config)
        inner = slice(margin, margin + tile)
        conds.append(ir_to_input(sim, slice(0, n_frames))[:, inner, inner])
        rains.append(vals[k, y0:y0 + tile, x0:x0 + tile].astype(np.float32))
    return Samples(np.stack(conds), np.stack(rains), [str(times[k]) for k, _, _ in cands],
                   [(y0, x0) for _, y0, x0 in cands], no_ir_tiles=no_ir)
