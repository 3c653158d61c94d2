"""Targets of study 5 (VPRM and its upgrade at forest towers), checked against ``metrics.json``.

Issue 9: within-class leave-one-site-out daily GPP R² >= 0.8 for ENF and DBF with the recommended model
(``vprm_plus``) and its gain over the reference form with a bootstrap interval above zero; deseasonalised
GPP R² > 0 and above the null baselines; monthly NEE R² >= 0.6 where NEE exists; the ci run under 10 min.

:data:`CONTROLS` are not targets: checks of what the headline numbers measure, whose rule notebook 05 fixed before
scoring them. With each held-out tower's neighbourhood (towers within the notebook's ``neighbour_km``) left out of
training, ``vprm_plus``'s daily GPP R² and its gain over ``vprm`` must stay at or above the lower bounds of the 90 %
intervals of the leave-one-site-out table (ENF, DBF): otherwise the leave-one-site-out number was flattered by
neighbours in training.

Public names: :data:`TARGETS`, :data:`CONTROLS`.
"""

from __future__ import annotations

from ..targets import Target, lookup

__all__ = ["TARGETS", "CONTROLS"]


def _diff(a: str, b: str):
    def f(m):
        x, y = lookup(m, a), lookup(m, b)
        return None if x is None or y is None else float(x) - float(y)
    f.description = f"{a} - {b}"
    return f


def _per_class(cls: str) -> list[Target]:
    base = f"within_class_loso.{cls}"
    return [
        Target(f"{cls}: daily GPP R² (vprm_plus, within-class LOSO) >= 0.8", f"{base}.vprm_plus.gpp_r2", ">=", 0.8,
               section="2-within-class-leave-one-site-out-the-headline", units=""),
        Target(f"{cls}: lower bound of the 90% CI of the gain over vprm > 0", f"{base}.vprm_plus.gain_over_vprm_ci.0",
               ">", 0.0, section="2-within-class-leave-one-site-out-the-headline", units=""),
        Target(f"{cls}: deseasonalised daily GPP R² (vprm_plus) > 0", f"{base}.vprm_plus.gpp_anom_r2", ">", 0.0,
               section="2-within-class-leave-one-site-out-the-headline", units=""),
        Target(f"{cls}: deseasonalised R² of vprm_plus above the linear null", _diff(f"{base}.vprm_plus.gpp_anom_r2",
               f"null.{cls}.linear.gpp_anom_r2"), ">", 0.0, section="2-within-class-leave-one-site-out-the-headline", units=""),
        Target(f"{cls}: deseasonalised R² of vprm_plus above the LUE null", _diff(f"{base}.vprm_plus.gpp_anom_r2",
               f"null.{cls}.lue.gpp_anom_r2"), ">", 0.0, section="2-within-class-leave-one-site-out-the-headline", units=""),
        Target(f"{cls}: monthly NEE R² (vprm_plus) >= 0.6", f"{base}.vprm_plus.nee_r2", ">=", 0.6,
               section="3-nee-and-respiration-at-the-towers-with-monthly-nee", units=""),
    ]


#: Targets per notebook stem.
TARGETS = {"05_vprm_sentinel2": [*_per_class("ENF"), *_per_class("DBF"),
                                 Target("MF: monthly NEE R² (vprm_plus) >= 0.6", "within_class_loso.MF.vprm_plus.nee_r2",
                                        ">=", 0.6, section="3-nee-and-respiration-at-the-towers-with-monthly-nee", units=""),
                                 Target("ci run under 10 minutes", "runtime_s", "<", 600.0, section="summary-targets-met-and-missed", units="s")]}


_CONTROL_SECTION = "a-control-neighbouring-towers-left-out-together"


def _neighbourhood_control(cls: str) -> list[Target]:
    out, loso = f"neighbourhood_control.classes.{cls}.vprm_plus", f"within_class_loso.{cls}.vprm_plus"
    return [
        Target(f"{cls}: vprm_plus daily GPP R² with neighbourhoods left out, minus the lower 90% bound of its "
               "leave-one-site-out R²", _diff(f"{out}.gpp_r2", f"{loso}.gpp_r2_ci.0"), ">=", 0.0,
               section=_CONTROL_SECTION, units=""),
        Target(f"{cls}: gain of vprm_plus over vprm with neighbourhoods left out, minus the lower 90% bound of its "
               "leave-one-site-out gain", _diff(f"{out}.gain_over_vprm", f"{loso}.gain_over_vprm_ci.0"), ">=", 0.0,
               section=_CONTROL_SECTION, units=""),
    ]


#: Controls per notebook stem (rule fixed in notebook 05 before they were scored).
CONTROLS = {"05_vprm_sentinel2": [*_neighbourhood_control("ENF"), *_neighbourhood_control("DBF")]}
