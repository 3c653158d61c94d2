"""Sizes of the NOx studies per profile ("ci", "paper"): the world (:data:`NOX_PROFILES`, from
:mod:`eoretrieval.nox.world`) and the evaluation in the study notebook (:data:`NOX_EVAL_PROFILES`).

Public names: :class:`NoxEvalProfile`, :data:`NOX_EVAL_PROFILES`, :data:`NOX_PROFILES`.
"""

from __future__ import annotations

from dataclasses import dataclass

from .world import NOX_PROFILES

__all__ = ["NoxEvalProfile", "NOX_EVAL_PROFILES", "NOX_PROFILES"]


@dataclass(frozen=True)
class NoxEvalProfile:
    """Sizes of the evaluation in the study notebook (one per profile).

    Attributes
    ----------
    test_stride : int
        Evaluate every ``test_stride``-th day of the test split (the same days for every method).
    variational_days : int
        Number of test days (evenly spaced among the evaluated ones) given to the variational inversion.
    trend_stride : int
        Stride of the days of the first and last year of the independent world used for the trend (not a
        multiple of 7, so that both years sample every weekday alike: the emissions have a weekly cycle).
    trend_variational_days : int
        Days per year given to the variational inversion in the trend test.
    n_members : int
        VAE ensemble size.
    sensitivity_stride : int
        Every n-th evaluated test day is used in the sensitivity tests.
    smoke_train_days, smoke_steps : int
        Size of the retraining smoke test (days, optimiser steps).
    """

    test_stride: int
    variational_days: int
    trend_stride: int
    trend_variational_days: int
    n_members: int
    sensitivity_stride: int
    smoke_train_days: int
    smoke_steps: int


#: Evaluation sizes per profile.
NOX_EVAL_PROFILES = {
    "ci": NoxEvalProfile(test_stride=3, variational_days=12, trend_stride=3, trend_variational_days=4,
                         n_members=32, sensitivity_stride=2, smoke_train_days=16, smoke_steps=2),
    "paper": NoxEvalProfile(test_stride=1, variational_days=365, trend_stride=1, trend_variational_days=365,
                            n_members=100, sensitivity_stride=1, smoke_train_days=64, smoke_steps=20),
}
