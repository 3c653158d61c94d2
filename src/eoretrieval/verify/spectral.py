"""Spectra of 2-D fields: the radially averaged power spectrum and its log–log slope.

Generative and regression retrievals differ most in how much small-scale variability they keep: a
blurred (regression-to-the-mean) field loses power at short wavelengths, so its spectrum falls faster
than that of the truth. :func:`radial_power_spectrum` gives the spectrum of every 2-D field (periodic
FFT, no window), :func:`spectral_slope` the exponent :math:`\\beta` of :math:`P(k) \\propto k^{\\beta}`
over a band of wavelengths.

Public names: :func:`radial_power_spectrum`, :func:`spectral_slope`.

References
----------
:cite:`ruzanski2011` (radially averaged power spectrum, as in pysteps ``rapsd``), :cite:`harris2022`
(spectra to verify generative downscaling of rain).
"""

from __future__ import annotations

from collections.abc import Hashable

import numpy as np
import xarray as xr
from scipy import sparse

from ._core import power_units, with_units

__all__ = ["radial_power_spectrum", "spectral_slope"]


def _spacing(field: xr.DataArray, dims, spacing, spacing_units) -> tuple[float, float, str]:
    if spacing is not None:
        dy, dx = (spacing, spacing) if np.ndim(spacing) == 0 else spacing
        return float(dy), float(dx), spacing_units or ""
    steps, units = [], []
    for d in dims:
        if d not in field.coords:
            return 1.0, 1.0, spacing_units or ""
        c = np.asarray(field[d].values, dtype=float)
        step = np.diff(c)
        if c.size < 2 or not np.allclose(step, step[0], rtol=1e-6, atol=0.0):
            raise ValueError(f"coordinate {d!r} is not evenly spaced; pass 'spacing' explicitly")
        steps.append(abs(float(step[0])))
        units.append(field[d].attrs.get("units", ""))
    return steps[0], steps[1], spacing_units or units[1]


def radial_power_spectrum(field: xr.DataArray, *, spatial_dims: tuple[Hashable, Hashable] = ("y", "x"),
                          spacing: float | tuple[float, float] | None = None,
                          spacing_units: str | None = None) -> xr.DataArray:
    """Radially averaged power spectrum of every 2-D field of ``field``.

    .. math:: P(k_r) = \\frac{1}{|R_r|}\\sum_{(k_y, k_x) \\in R_r} \\frac{|\\hat f(k_y, k_x)|^2}{N_y N_x},
              \\qquad R_r = \\{(k_y, k_x): \\mathrm{round}(\\sqrt{k_y^2 + k_x^2}/\\Delta k) = r\\}

    with :math:`\\hat f` the 2-D discrete Fourier transform, :math:`k` in cycles per unit length and
    rings of width :math:`\\Delta k = 1/\\max(N_y\\Delta y, N_x\\Delta x)`, for :math:`r = 1, \\dots`
    up to the ring below the smaller Nyquist wavenumber (the mean, :math:`r = 0`, is left out). On a
    square grid this is pysteps' ``rapsd`` (same normalisation and rings) without its first value; on
    a rectangular grid the rings are circles in physical wavenumber, while ``rapsd`` uses index units.
    The power of all modes sums to :math:`\\sum f^2` (Parseval); ``n_modes`` counts the modes per ring.

    Parameters
    ----------
    field : xr.DataArray
        Complete (no NaN) fields with the two ``spatial_dims``, any other dims, any units.
    spatial_dims : (str, str)
        The (row, column) dims of the 2-D fields.
    spacing : float or (float, float), optional
        Grid spacing (dy, dx). Default: the steps of the coordinates of ``spatial_dims`` (which must be
        evenly spaced), or 1 (grid cells) when there are no coordinates.
    spacing_units : str, optional
        Units of ``spacing`` (e.g. ``"km"``); default: the ``units`` attr of the column coordinate.

    Returns
    -------
    xr.DataArray
        Power, units of ``field`` squared, dims ``(..., wavenumber)``; coords ``wavenumber`` (units
        ``<spacing_units>-1``, cycles per unit length), ``wavelength`` (:math:`1/k`) and ``n_modes``.

    Raises
    ------
    ValueError
        If a spatial dim is missing, the field has NaN, or coordinates are unevenly spaced.

    References
    ----------
    :cite:`ruzanski2011`

    Examples
    --------
    >>> x = np.arange(16)
    >>> f = xr.DataArray(np.tile(np.cos(2 * np.pi * 4 * x / 16), (16, 1)), dims=("y", "x"))
    >>> spec = radial_power_spectrum(f)
    >>> float(spec.wavelength[spec.argmax("wavenumber")]), round(float((spec * spec.n_modes).sum()), 9)  # sum f^2
    (4.0, 128.0)
    """
    if len(spatial_dims) != 2 or any(d not in field.dims for d in spatial_dims):
        raise ValueError(f"spectrum needs the spatial dims {tuple(spatial_dims)}; the field has dims {field.dims}")
    if bool(field.isnull().any()):
        raise ValueError(f"{field.name or 'field'}: has NaN values; the FFT needs complete fields (fill or crop)")
    dy, dx, length_units = _spacing(field, spatial_dims, spacing, spacing_units)
    others = [d for d in field.dims if d not in spatial_dims]
    values = field.transpose(*others, *spatial_dims).values.astype(float)
    ny, nx = values.shape[-2:]
    dk = 1.0 / max(ny * dy, nx * dx)
    ky, kx = np.fft.fftfreq(ny, dy), np.fft.fftfreq(nx, dx)
    ring = np.rint(np.hypot(ky[:, None], kx[None, :]) / dk).astype(int).ravel()
    r_max = int(np.ceil(min(0.5 / dy, 0.5 / dx) / dk - 1e-9)) - 1
    keep = (ring >= 1) & (ring <= r_max)
    members = sparse.csr_matrix((np.ones(keep.sum()), (np.flatnonzero(keep), ring[keep] - 1)),
                                shape=(ny * nx, r_max))
    n_modes = np.asarray(members.sum(axis=0)).ravel()
    power = np.abs(np.fft.fft2(values)) ** 2 / (ny * nx)
    sums = (members.T @ power.reshape(-1, ny * nx).T).T
    mean = np.where(n_modes > 0, sums / np.maximum(n_modes, 1), np.nan).reshape(*values.shape[:-2], r_max)
    k = dk * np.arange(1, r_max + 1)
    k_units = f"{length_units}-1" if length_units else "1"
    out = xr.DataArray(mean, dims=(*others, "wavenumber"),
                       coords={**{d: field[d] for d in others if d in field.coords}, "wavenumber": k,
                               "wavelength": ("wavenumber", 1.0 / k), "n_modes": ("wavenumber", n_modes)})
    out["wavenumber"].attrs = {"units": k_units, "long_name": "wavenumber (cycles per unit length)"}
    out["wavelength"].attrs = {"units": length_units or "1", "long_name": "wavelength"}
    out["n_modes"].attrs = {"units": "1", "long_name": "number of Fourier modes in the ring"}
    return with_units(out, "power_spectrum", power_units(field.attrs.get("units", ""), 2),
                      "radially averaged power spectrum")


def spectral_slope(spectrum: xr.DataArray, *, wavelength_range: tuple[float, float]) -> xr.DataArray:
    """Log–log slope :math:`\\beta` of a spectrum, :math:`P(k) \\propto k^{\\beta}`, over a wavelength band.

    .. math:: \\beta = \\frac{\\sum_r (x_r - \\bar x)(y_r - \\bar y)}{\\sum_r (x_r - \\bar x)^2}, \\quad
              x_r = \\log_{10} k_r, \\ y_r = \\log_{10} P(k_r)

    over the rings with :math:`\\lambda_{lo} \\le 1/k_r \\le \\lambda_{hi}` (least squares).

    Parameters
    ----------
    spectrum : xr.DataArray
        Output of :func:`radial_power_spectrum` (dims ``(..., wavenumber)`` with a ``wavelength`` coord).
    wavelength_range : (float, float)
        Band (lo, hi) in the units of the ``wavelength`` coord.

    Returns
    -------
    xr.DataArray
        Slope (units ``"1"``) with the other dims of ``spectrum``.

    Raises
    ------
    ValueError
        If fewer than 3 rings fall in the band or a power in it is not positive.

    Examples
    --------
    >>> k = np.arange(1, 33) / 64.0
    >>> spec = xr.DataArray(k ** -3.0, dims="wavenumber", coords={"wavenumber": k, "wavelength": ("wavenumber", 1 / k)})
    >>> round(float(spectral_slope(spec, wavelength_range=(2.0, 64.0))), 6)
    -3.0
    """
    lo, hi = sorted(float(v) for v in wavelength_range)
    band = spectrum.where((spectrum.wavelength >= lo) & (spectrum.wavelength <= hi), drop=True)
    if band.sizes.get("wavenumber", 0) < 3:
        raise ValueError(f"only {band.sizes.get('wavenumber', 0)} rings in wavelengths [{lo}, {hi}]; need at least 3")
    if bool((band <= 0).any()) or bool(band.isnull().any()):
        raise ValueError(f"power must be positive in the wavelength band [{lo}, {hi}] to take its logarithm")
    x = np.log10(band["wavenumber"])
    y = np.log10(band)
    xa = x - x.mean()
    slope = (xa * (y - y.mean("wavenumber"))).sum("wavenumber") / (xa ** 2).sum()
    slope = slope.drop_vars([c for c in ("wavelength", "n_modes") if c in slope.coords])
    return with_units(slope, "spectral_slope", "1", f"log-log spectral slope over wavelengths {lo:g}-{hi:g}")
