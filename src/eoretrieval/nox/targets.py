"""Targets of the NOx studies, declared once: the notebook prints them and the book's Results page checks them.

Study 1 (``01_nox_osse``): the targets of its first version, measured on ``metrics.json`` as that notebook writes
it (RMSE ratios against flux divergence and the variational inversion, domain-total error, trend error, cVAE
coverage, speed-up). Study 2 (``02_nox_real_validation``): the real-data path run on format-exact TROPOMI L2 files
of a study-1 world must recover that world's truth about as well as study 1 does on gridded inputs (RMSE within
10 %), and the leave-one-station-out score of the deweathering model is reported for every station.

Public names: :data:`TARGETS`.
"""

from __future__ import annotations

from eoretrieval.targets import Target, ratio

__all__ = ["TARGETS"]


def _abs(path: str, description: str):
    from eoretrieval.targets import lookup

    def measure(metrics: dict) -> float | None:
        value = lookup(metrics, path)
        return None if value is None else abs(float(value))

    measure.description = description
    return measure


def _trend_error(metrics: dict) -> float | None:
    trend = metrics.get("trend") or {}
    if "smaat_unet_pct" not in trend or "true_pct" not in trend:
        return None
    return abs(float(trend["smaat_unet_pct"]) - float(trend["true_pct"]))


_trend_error.description = "|trend.smaat_unet_pct - trend.true_pct|"

def _n_stations_scored(metrics: dict) -> float | None:
    stations = metrics.get("stations") or {}
    scored = [s for s in stations.values() if isinstance(s, dict) and s.get("r") is not None]
    return float(len(scored)) if stations else None


_n_stations_scored.description = "number of stations with a leave-one-station-out R in stations.<name>.r"

TARGETS: dict[str, list[Target]] = {
    "01_nox_osse": [
        Target("SmaAt-UNet RMSE <= 0.6x flux divergence (0.25 deg daily)",
               ratio("methods.smaat_unet.rmse", "methods.flux_divergence.rmse"), "<=", 0.6,
               section="4-scores-on-the-held-out-days"),
        Target("SmaAt-UNet RMSE <= 1.2x the variational inversion (its days)",
               ratio("methods_on_variational_days.smaat_unet.rmse", "methods_on_variational_days.variational.rmse"),
               "<=", 1.2, section="4-scores-on-the-held-out-days"),
        Target("SmaAt-UNet domain-total error < 5 %",
               _abs("methods.smaat_unet.total_rel_err", "|methods.smaat_unet.total_rel_err|"), "<", 0.05,
               section="4-scores-on-the-held-out-days"),
        Target("SmaAt-UNet trend error <= 3 pp", _trend_error, "<=", 3.0, units="pp",
               section="5-recovery-of-the-imposed-reduction"),
        Target("cVAE 90 % interval coverage in 85-95 % (calibrated)", "vae.coverage90", "between", (0.85, 0.95),
               section="6-uncertainty-of-the-vae-ensemble"),
        Target("Inference >= 100x cheaper per day than the variational inversion",
               "timing.speedup_smaat_vs_variational", ">=", 100.0, section="8-cost"),
    ],
    "02_nox_real_validation": [
        Target("Round trip (L2 files -> reader -> oversampling -> network) RMSE <= 1.1x study 1 on gridded inputs",
               ratio("roundtrip.rmse", "roundtrip.rmse_study1"), "<=", 1.1,
               section="5-the-round-trip-a-known-world-through-the-real-data-path-synthetic"),
        Target("Leave-one-station-out R reported for all 12 stations", _n_stations_scored, ">=", 12.0,
               section="3-leave-one-station-out-evaluation-real-data"),
    ],
}
