"""Seeded, spatially correlated Gaussian random fields (private helper of :mod:`eoretrieval.nox`).

A white-noise field is filtered with a Gaussian kernel of standard deviation ``length`` (grid
cells) in Fourier space on a zero-padded, periodic canvas, cropped to the grid and normalised to
unit variance with the exact (Parseval) variance of the filter. Fields of successive days can be
chained into an AR(1) process, :math:`z_t = \\rho z_{t-1} + \\sqrt{1-\\rho^2}\\,w_t`.
"""

from __future__ import annotations

import numpy as np

__all__ = ["smooth_fields", "ar1_fields"]


def smooth_fields(rng: np.random.Generator, n: int, shape: tuple[int, int], length: float) -> np.ndarray:
    """Draw ``n`` independent unit-variance Gaussian random fields with Gaussian correlation.

    Parameters
    ----------
    rng : np.random.Generator
    n : int
        Number of fields.
    shape : (int, int)
        Grid shape (lat, lon).
    length : float
        Kernel standard deviation in grid cells (the correlation length is ``sqrt(2) * length``).
        ``length <= 0`` gives white noise.

    Returns
    -------
    np.ndarray
        Shape (n, lat, lon), float32, mean 0 and variance 1 at every point (in expectation).
    """
    ny, nx = shape
    if length <= 0:
        return rng.standard_normal((n, ny, nx)).astype(np.float32)
    pad = int(np.ceil(3 * length))
    py, px = ny + 2 * pad, nx + 2 * pad
    ky = np.fft.fftfreq(py)[:, None]
    kx = np.fft.rfftfreq(px)[None, :]
    transfer = np.exp(-2 * (np.pi * length) ** 2 * (kx**2 + ky**2))  # FT of a unit-mass Gaussian kernel
    # variance of the filtered unit white noise = mean(|H|^2) over the full (complex) spectrum
    full = np.exp(-2 * (np.pi * length) ** 2 * (np.fft.fftfreq(px)[None, :] ** 2 + ky**2))
    std = np.sqrt(np.mean(full**2))
    out = np.empty((n, ny, nx), dtype=np.float32)
    block = max(1, int(2e7 // (py * px)))
    for i in range(0, n, block):
        m = min(block, n - i)
        white = rng.standard_normal((m, py, px))
        f = np.fft.irfft2(np.fft.rfft2(white) * transfer, s=(py, px))
        out[i:i + m] = (f[:, pad:pad + ny, pad:pad + nx] / std).astype(np.float32)
    return out


def ar1_fields(rng: np.random.Generator, n: int, shape: tuple[int, int], length: float, rho: float) -> np.ndarray:
    """Unit-variance smooth random fields, AR(1)-correlated in time with lag-1 correlation ``rho``.

    Returns
    -------
    np.ndarray
        Shape (n, lat, lon), float32.
    """
    w = smooth_fields(rng, n, shape, length)
    if rho == 0 or n == 0:
        return w
    s = np.sqrt(1 - rho**2)
    out = np.empty_like(w)
    out[0] = w[0]
    for t in range(1, n):
        out[t] = rho * out[t - 1] + s * w[t]
    return out
