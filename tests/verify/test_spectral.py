"""Tests of eoretrieval.verify.spectral: plane waves, Parseval, power laws, and pysteps' rapsd."""

import numpy as np
import pytest
import xarray as xr

from eoretrieval.verify import radial_power_spectrum, spectral_slope


def _power_law_field(n, beta, seed, spacing=1.0):
    """Random-phase field whose expected radially averaged power is proportional to k**beta."""
    rng = np.random.default_rng(seed)
    k = np.hypot(*np.meshgrid(np.fft.fftfreq(n, spacing), np.fft.fftfreq(n, spacing), indexing="ij"))
    k[0, 0] = np.inf
    noise = np.fft.fft2(rng.standard_normal((n, n)))
    return np.real(np.fft.ifft2(noise * k ** (beta / 2.0)))


@pytest.mark.parametrize("n", [64, 65])
def test_equals_pysteps_rapsd_on_square_grids(n):
    spectral = pytest.importorskip("pysteps.utils.spectral")
    field = np.random.default_rng(n).gamma(0.5, 2.0, (n, n))
    ref, freq = spectral.rapsd(field, fft_method=np.fft, return_freq=True, d=2.0)
    ours = radial_power_spectrum(xr.DataArray(field, dims=("y", "x"), attrs={"units": "mm h-1"}), spacing=2.0,
                                 spacing_units="km")
    # rapsd's first value is the mean (k = 0), which we leave out; the rest is identical
    assert ours.sizes["wavenumber"] == ref.size - 1
    np.testing.assert_allclose(ours.values, ref[1:], rtol=1e-12)
    np.testing.assert_allclose(ours.wavenumber.values, freq[1:], rtol=1e-12)
    assert ours.attrs["units"] == "(mm h-1)^2" and ours.wavenumber.attrs["units"] == "km-1"
    assert ours.wavelength.attrs["units"] == "km"


def test_plane_wave_and_parseval():
    n, m, amp = 32, 5, 3.0
    x = np.arange(n)
    field = xr.DataArray(np.tile(amp * np.sin(2 * np.pi * m * x / n), (n, 1)), dims=("y", "x"))
    spec = radial_power_spectrum(field)
    total = spec * spec.n_modes
    # all the power, sum f^2 = amp^2 n^2 / 2, sits in ring m (wavelength n / m cells)
    assert float(total.sel(wavenumber=m / n)) == pytest.approx(amp ** 2 * n * n / 2)
    assert float(total.drop_sel(wavenumber=m / n).sum()) == pytest.approx(0.0, abs=1e-18)
    # Parseval for a general zero-mean field whose power lies inside the rings (a smooth field)
    smooth = _power_law_field(n, -4.0, 0)
    total = radial_power_spectrum(xr.DataArray(smooth, dims=("y", "x")))
    corners = (np.abs(np.fft.fft2(smooth)) ** 2 / n ** 2)
    kk = np.hypot(*np.meshgrid(np.fft.fftfreq(n), np.fft.fftfreq(n), indexing="ij")) * n
    inside = (np.rint(kk) >= 1) & (np.rint(kk) <= n // 2 - 1)
    assert float((total * total.n_modes).sum()) == pytest.approx(corners[inside].sum(), rel=1e-12)
    assert corners[inside].sum() == pytest.approx((smooth ** 2).sum() - corners[~inside].sum())


def test_power_law_slope_recovered():
    beta = -3.0
    fields = np.stack([_power_law_field(128, beta, s, spacing=4.0) for s in range(4)])
    da = xr.DataArray(fields, dims=("time", "y", "x"),
                      coords={"y": 4.0 * np.arange(128), "x": 4.0 * np.arange(128)})
    da["x"].attrs["units"] = "km"
    spec = radial_power_spectrum(da)  # spacing (4 km) from the coordinates
    assert spec.dims == ("time", "wavenumber") and spec.wavelength.attrs["units"] == "km"
    slopes = spectral_slope(spec, wavelength_range=(10.0, 200.0))
    assert slopes.dims == ("time",) and slopes.attrs["units"] == "1"
    np.testing.assert_allclose(slopes.values, beta, atol=0.15)
    mean_slope = float(spectral_slope(spec.mean("time"), wavelength_range=(10.0, 200.0)))
    assert mean_slope == pytest.approx(beta, abs=0.1)


def test_blurring_steepens_the_spectrum():
    from scipy.ndimage import gaussian_filter

    field = _power_law_field(128, -2.0, 3)
    raw = radial_power_spectrum(xr.DataArray(field, dims=("y", "x")))
    blur = radial_power_spectrum(xr.DataArray(gaussian_filter(field, 2.0, mode="wrap"), dims=("y", "x")))
    s_raw = float(spectral_slope(raw, wavelength_range=(3.0, 12.0)))
    s_blur = float(spectral_slope(blur, wavelength_range=(3.0, 12.0)))
    assert s_raw == pytest.approx(-2.0, abs=0.3) and s_blur < s_raw - 2.0


def test_rectangular_grid_uses_physical_rings():
    # brute force: ring of mode (iy, ix) on a ny x nx grid is round(sqrt((iy * L/ny)^2 + (ix * L/nx)^2)), L = max
    ny, nx = 24, 40
    field = np.random.default_rng(5).standard_normal((ny, nx))
    ours = radial_power_spectrum(xr.DataArray(field, dims=("y", "x")))
    power = np.abs(np.fft.fft2(field)) ** 2 / field.size
    iy, ix = np.meshgrid(np.fft.fftfreq(ny) * ny, np.fft.fftfreq(nx) * nx, indexing="ij")
    ring = np.rint(np.hypot(iy * nx / ny, ix))
    expected = [power[ring == r].mean() for r in range(1, nx // 2)]
    np.testing.assert_allclose(ours.values, expected, rtol=1e-12)
    # rings of width 1/(40 cells) up to the ring below the Nyquist wavenumber, 0.5 cycles per cell on both axes
    assert ours.sizes["wavenumber"] == nx // 2 - 1


def test_errors():
    f = xr.DataArray(np.zeros((8, 8)), dims=("y", "x"))
    with pytest.raises(ValueError, match="NaN"):
        radial_power_spectrum(f.where(f > 0))
    with pytest.raises(ValueError, match="spatial dims"):
        radial_power_spectrum(f.rename(x="lon"))
    with pytest.raises(ValueError, match="evenly spaced"):
        radial_power_spectrum(f.assign_coords(x=np.r_[0:7, 9.0], y=np.arange(8.0)))
    spec = radial_power_spectrum(f + np.random.default_rng(0).standard_normal((8, 8)))
    with pytest.raises(ValueError, match="need at least 3"):
        spectral_slope(spec, wavelength_range=(7.0, 8.0))
    with pytest.raises(ValueError, match="positive"):
        spectral_slope(spec * 0.0, wavelength_range=(2.0, 8.0))
