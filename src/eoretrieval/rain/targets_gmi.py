"""Targets of study 4 (``04_gmi_ood_extremes``), declared once: the notebook prints them, the Results page checks them.

The "best method" of the targets is declared before evaluation: ``hybrid`` (quantile U-Net trained with simulated
warmer scenes), the method the study hypothesises to keep extremes right out of distribution. The MSE U-Net is
reported with its own figures in the chapter; a number without a threshold is not a target, so it is not listed
here. The OOD score of the target is the Mahalanobis distance of scene
Tb features.

Public names: :data:`TARGETS`, :data:`CONTROLS` (checks, not targets), :data:`BEST_METHOD`,
:data:`SCALING_TOLERANCE`.
"""

from __future__ import annotations

from eoretrieval.targets import Target, lookup

__all__ = ["TARGETS", "CONTROLS", "BEST_METHOD", "SCALING_TOLERANCE"]

#: The method the targets call "best" (declared, not chosen on test data).
BEST_METHOD = "hybrid"
#: How far (% K-1) the best method's scaling of extremes may be from the truth: the target and the controls.
SCALING_TOLERANCE = 1.0


def _num(metrics: dict, path: str) -> float | None:
    value = lookup(metrics, path)
    return None if value is None else float(value)


def _scaling_error(metrics: dict) -> float | None:
    best = _num(metrics, f"methods.{BEST_METHOD}.scaling_pct_per_K")
    truth = _num(metrics, "methods.truth.scaling_pct_per_K")
    return None if best is None or truth is None else abs(best - truth)


_scaling_error.description = f"|methods.{BEST_METHOD}.scaling_pct_per_K - methods.truth.scaling_pct_per_K|"


def _hss_gain(metrics: dict) -> float | None:
    best = _num(metrics, f"methods.{BEST_METHOD}.plus4K.hss_10")
    ref = _num(metrics, "methods.quantile.plus4K.hss_10")
    return None if best is None or ref is None else best - ref


_hss_gain.description = f"methods.{BEST_METHOD}.plus4K.hss_10 - methods.quantile.plus4K.hss_10"


def _finetune_margin(metrics: dict) -> float | None:
    tr = metrics.get("transfer") or {}
    n, ft, sc = tr.get("n_samples"), tr.get("finetune_mae"), tr.get("scratch_mae")
    if not n or not ft or not sc or len(n) < 2:
        return None
    # every size below the full set (the last entry)
    return min(s - f for s, f in zip(sc[:-1], ft[:-1]))


_finetune_margin.description = "min over n < full of (transfer.scratch_mae - transfer.finetune_mae)"

TARGETS: dict[str, list[Target]] = {
    "04_gmi_ood_extremes": [
        Target(f"+4 K: 99.9th-percentile ratio of the best method ({BEST_METHOD}) in [0.9, 1.1]",
               f"methods.{BEST_METHOD}.plus4K.q999_ratio", "between", (0.9, 1.1), section="protocol"),
        Target(f"Scaling of extremes of the best method within 1 %/K of the truth",
               _scaling_error, "<=", SCALING_TOLERANCE, section="protocol", units="% K-1"),
        Target(f"+4 K heavy-rain (> 10 mm/h) HSS: best method above the quantile U-Net", _hss_gain, ">", 0.0,
               section="protocol"),
        Target("OOD AUROC (Mahalanobis, present vs +4 K scenes) >= 0.9", "ood_auroc.mahalanobis", ">=", 0.9,
               section="ood"),
        Target("AMSR2-like sensor: fine-tuning beats scratch at every size below the full set", _finetune_margin,
               ">", 0.0, section="transfer", units="mm h-1"),
        Target("ci run time < 10 min", "runtime_s", "<", 600.0, section="targets", units="s"),
    ],
}


def _law_error(regime: str):
    """|best method's - true scaling| of the warming-law control ``regime`` (% K-1), from ``warming_law_control``."""
    def measure(metrics: dict) -> float | None:
        best = _num(metrics, f"warming_law_control.{regime}.{BEST_METHOD}")
        truth = _num(metrics, f"warming_law_control.{regime}.truth")
        return None if best is None or truth is None else abs(best - truth)

    measure.description = (f"|warming_law_control.{regime}.{BEST_METHOD} - warming_law_control.{regime}.truth|")
    return measure


#: Controls (not targets): the warming laws the networks never saw, rule fixed in the chapter before scoring.
CONTROLS: dict[str, list[Target]] = {
    "04_gmi_ood_extremes": [
        Target("Warming-law control, heavy rain not intensifying: scaling of the best method within 1 %/K of the "
               "truth", _law_error("plus4K_rain0"), "<=", SCALING_TOLERANCE,
               section="control-warming-laws-the-networks-never-saw",
               units="% K-1"),
        Target("Warming-law control, heavy rain at twice the CC rate: scaling of the best method within 1 %/K of the "
               "truth", _law_error("plus4K_rain14"), "<=", SCALING_TOLERANCE,
               section="control-warming-laws-the-networks-never-saw",
               units="% K-1"),
    ],
}
