"""Targets of the SEVIRI rain study (``03_seviri_flow_matching``), checked on its ``metrics.json``.

Measured on the held-out test domain (OPERA composites) with the committed trained models:

- flow matching keeps CSI at 1 mm h-1 within 5 % of the U-Net's;
- its 99.9th-percentile ratio (predicted/true) is within 0.9–1.1;
- its spectrum matches the truth as well as the DDPM's (spectral-slope error no larger);
- its CRPS beats the DDPM's at one tenth of the DDPM's NFE (two targets: CRPS ratio, NFE ratio);
- multi-frame input beats single-frame on CSI and on CRPS.

:data:`CONTROLS` are not targets: checks of what the headline numbers measure, whose rule the chapter fixed before
scoring them, listed on the Results page beside the targets. Study 3's is the control on the frames (three frames
against one frame, the one before the target time that the IR operator's cooling lag ties to the target's rain);
:data:`LAG_CONTROL_CHECKS` are the same checks on the ``methods`` layout that the tile bootstrap redraws.

Public names: :data:`TARGETS`, :data:`CONTROLS` (both also holding study 4's, from :mod:`eoretrieval.rain.targets_gmi`),
:data:`LAG_CONTROL_CHECKS`.
"""

from __future__ import annotations

from eoretrieval.targets import Target, ratio

__all__ = ["TARGETS", "CONTROLS", "LAG_CONTROL_CHECKS"]

_FM, _DDPM, _UNET, _FM1 = ("methods.flow_matching", "methods.ddpm", "methods.unet", "methods.flow_matching_1frame")


def _lag_checks(prefix: str) -> list[Target]:
    """Three frames beat the lag-matched single frame on CSI and on CRPS, read under ``prefix``."""
    fm, fm1p = f"{prefix}.flow_matching", f"{prefix}.flow_matching_1frame_prev"
    return [Target("Three frames beat the lag-matched frame on CSI(1 mm/h)", ratio(f"{fm}.csi_1", f"{fm1p}.csi_1"),
                   ">", 1.0, section="a-control-on-the-frames-one-frame-the-right-one"),
            Target("Three frames beat the lag-matched frame on CRPS", ratio(f"{fm}.crps", f"{fm1p}.crps"), "<", 1.0,
                   section="a-control-on-the-frames-one-frame-the-right-one")]


#: The control on the frames (not targets), on the ``{"methods": ...}`` layout the tile bootstrap redraws.
LAG_CONTROL_CHECKS: list[Target] = _lag_checks("methods")

TARGETS: dict[str, list[Target]] = {
    "03_seviri_flow_matching": [
        Target("Flow matching CSI(1 mm/h) >= 0.95x U-Net's", ratio(f"{_FM}.csi_1", f"{_UNET}.csi_1"), ">=", 0.95,
               section="4-scores-on-the-held-out-domain"),
        Target("Flow matching 99.9th-percentile ratio in 0.9-1.1", f"{_FM}.q999_ratio", "between", (0.9, 1.1),
               section="rain-rate-statistics-and-spectra"),
        Target("Flow matching spectral-slope error <= DDPM's",
               ratio(f"{_FM}.psd_slope_err", f"{_DDPM}.psd_slope_err"), "<=", 1.0, section="rain-rate-statistics-and-spectra"),
        Target("Flow matching CRPS < DDPM's", ratio(f"{_FM}.crps", f"{_DDPM}.crps"), "<", 1.0,
               section="ensembles-rank-histograms-spreadskill-fss-across-scales"),
        Target("... at <= 1/10 of the DDPM's NFE", ratio(f"{_FM}.nfe", f"{_DDPM}.nfe"), "<=", 0.1,
               section="skill-against-the-number-of-function-evaluations"),
        Target("Multi-frame beats 1-frame on CSI(1 mm/h)", ratio(f"{_FM}.csi_1", f"{_FM1}.csi_1"), ">", 1.0,
               section="4-scores-on-the-held-out-domain"),
        Target("Multi-frame beats 1-frame on CRPS", ratio(f"{_FM}.crps", f"{_FM1}.crps"), "<", 1.0,
               section="4-scores-on-the-held-out-domain"),
    ],
}

# Study 4 (``04_gmi_ood_extremes``) declares its targets in :mod:`eoretrieval.rain.targets_gmi`; the book's Results
# page reads one ``targets`` module per domain, so they are added here.
try:
    from eoretrieval.rain.targets_gmi import CONTROLS as _GMI_CONTROLS
    from eoretrieval.rain.targets_gmi import TARGETS as _GMI_TARGETS
except ImportError:  # pragma: no cover - study 4 not present
    _GMI_TARGETS, _GMI_CONTROLS = {}, {}
TARGETS.update({k: v for k, v in _GMI_TARGETS.items() if k not in TARGETS})

#: Controls (not targets) per notebook, read by the Results page.
CONTROLS: dict[str, list[Target]] = {
    "03_seviri_flow_matching": _lag_checks("controls.lag_matched_frame.methods"),
    **_GMI_CONTROLS,
}
