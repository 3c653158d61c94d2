"""Sizes of the NOx studies per profile ("ci", "paper"): the world (:data:`NOX_PROFILES`, from
:mod:`eoretrieval.nox.world`) and the evaluation in the study notebook (:data:`NOX_EVAL_PROFILES`).

The world seeds of each role (:data:`WORLD_SEEDS`) are disjoint: every seed draws its own inventory, trends
and weather (:mod:`eoretrieval.nox.inventory`), so the test worlds' inventories are unseen in training.

Public names: :class:`NoxEvalProfile`, :data:`NOX_EVAL_PROFILES`, :data:`NOX_PROFILES`, :data:`WORLD_SEEDS`.
"""

from __future__ import annotations

from dataclasses import dataclass

from .world import NOX_PROFILES

__all__ = ["NoxEvalProfile", "NOX_EVAL_PROFILES", "NOX_PROFILES", "WORLD_SEEDS"]

#: World seeds per role: training, validation (early stopping), calibration (the cVAE's spread inflation,
#: :mod:`eoretrieval.nox.calibrate`), test, shifted domain.
WORLD_SEEDS = {"train": tuple(range(100, 140)), "val": (200, 201), "calibration": tuple(range(210, 220)),
               "test": (300, 301, 302, 303, 304), "shifted": (400,)}


@dataclass(frozen=True)
class NoxEvalProfile:
    """Sizes of the evaluation in the study notebook (one per profile).

    Attributes
    ----------
    test_stride : int
        Evaluate every ``test_stride``-th day of each test world (the same days for every method; not a multiple
        of 7, so that both years sample every weekday alike: the emissions have a weekly cycle).
    variational_days : int
        Days of the first year given to the variational inversion per test world (plus the same calendar days of
        the second year).
    spinup_days : int
        Days of its own analyses the variational inversion cycles before each inverted day.
    n_members : int
        cVAE ensemble size.
    sensitivity_stride : int
        Every n-th evaluated day of the first test world is used in the controls and sensitivity tests.
    smoke_train_days, smoke_steps : int
        Size of the retraining smoke test (days, optimiser steps).
    """

    test_stride: int
    variational_days: int
    spinup_days: int
    n_members: int
    sensitivity_stride: int
    smoke_train_days: int
    smoke_steps: int


#: Evaluation sizes per profile.
NOX_EVAL_PROFILES = {
    "ci": NoxEvalProfile(test_stride=4, variational_days=1, spinup_days=2, n_members=16, sensitivity_stride=3,
                         smoke_train_days=16, smoke_steps=2),
    "paper": NoxEvalProfile(test_stride=1, variational_days=60, spinup_days=5, n_members=64, sensitivity_stride=1,
                            smoke_train_days=64, smoke_steps=20),
}
