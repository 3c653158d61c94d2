"""A generic normalisation of network inputs and targets, saved next to the weights of an artefact.

Public names: :class:`Normalisation`.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from ..errors import DataError

__all__ = ["Normalisation"]


@dataclass
class Normalisation:
    """Normalisation statistics of network inputs (from training data only) and the target transform.

    Generic: inputs are named channels normalised as ``(value - offset[src]) / scale[src]`` per source
    variable; the target is scaled (``"linear"``) or compressed (``"asinh"``). Saved as JSON next to the weights
    of every artefact, so that inference applies exactly the training statistics.

    Attributes
    ----------
    channels : list of str
        Input channel names, in order.
    offset, scale : dict
        Per source variable: ``(value - offset) / scale``. A channel's source is ``sources[channel]`` when given
        (e.g. the NOx channels ``no2`` and ``no2_prev`` share the statistics of ``no2_column``), else its own name;
        a channel whose source has no statistics (a mask, a calendar term) passes unchanged.
    target_transform : {"linear", "asinh"}
        ``linear``: ``y = E / target_scale``; ``asinh``: ``y = asinh(E / target_scale)``.
    target_scale : float
        In ``target_units``.
    target_units : str
        Units of the target.
    train_period : str
        Description of the training data the statistics came from (e.g. ``"YYYY-MM-DD/YYYY-MM-DD"``).
    sources : dict
        Channel -> source variable (see ``offset``).

    Examples
    --------
    >>> x = np.stack([np.full((4, 2, 2), 10.0), np.arange(16.0).reshape(4, 2, 2)], axis=1)
    >>> norm = Normalisation.fit(x, ["a", "b"], normalise=["b"])
    >>> float(norm.apply(x)[:, 0].max()), round(float(norm.apply(x)[:, 1].mean()), 6)
    (10.0, 0.0)
    """

    channels: list[str]
    offset: dict[str, float]
    scale: dict[str, float]
    target_transform: str = "linear"
    target_scale: float = 1.0
    target_units: str = ""
    train_period: str = ""
    extra: dict = field(default_factory=dict)
    sources: dict = field(default_factory=dict)

    @classmethod
    def fit(cls, x: np.ndarray, channels: list[str], *, normalise: list[str] | None = None,
            target: np.ndarray | None = None, target_transform: str = "linear", target_units: str = "",
            train_period: str = "") -> Normalisation:
        """Fit per-channel statistics on training inputs ``x`` ``(sample, channel, y, x)`` (NaNs ignored).

        ``normalise`` names the channels to standardise (default all); ``target`` (any shape) sets the target
        scale: its standard deviation (``linear``) or 90th percentile (``asinh``).

        Raises
        ------
        ValueError
            ``x`` does not have one channel per name, a channel has no finite value, or an unknown transform.
        """
        x = np.asarray(x)
        if x.ndim < 2 or x.shape[1] != len(channels):
            raise ValueError(f"inputs of shape {x.shape}: expected (sample, {len(channels)} channels, ...)")
        if target_transform not in ("linear", "asinh"):
            raise ValueError(f"unknown target_transform {target_transform!r}; valid: 'linear', 'asinh'")
        offset, scale = {}, {}
        for i, ch in enumerate(channels):
            if normalise is not None and ch not in normalise:
                continue
            vals = x[:, i][np.isfinite(x[:, i])]
            if vals.size == 0:
                raise ValueError(f"channel {ch!r} has no finite value in the training inputs")
            offset[ch], scale[ch] = float(vals.mean()), float(vals.std() or 1.0)
        tscale = 1.0
        if target is not None:
            t = np.asarray(target, dtype=float)
            t = t[np.isfinite(t)]
            tscale = float(np.std(t) if target_transform == "linear" else np.percentile(t, 90)) or 1.0
        return cls(channels=list(channels), offset=offset, scale=scale, target_transform=target_transform,
                   target_scale=tscale, target_units=target_units, train_period=train_period)

    def source_of(self, channel: str) -> str:
        """The variable whose statistics normalise ``channel``."""
        return self.sources.get(channel, channel)

    def apply(self, x: np.ndarray) -> np.ndarray:
        """Standardise inputs ``(sample, channel, ...)`` channel by channel (float32; masks etc. unchanged).

        Raises
        ------
        ValueError
            If ``x`` does not have one channel per name of :attr:`channels`.
        """
        x = np.asarray(x, dtype=np.float32)
        if x.ndim < 2 or x.shape[1] != len(self.channels):
            raise ValueError(f"inputs have shape {x.shape}; the normalisation was fitted on "
                             f"{len(self.channels)} channels {self.channels}")
        out = x.copy()
        for i, ch in enumerate(self.channels):
            src = self.source_of(ch)
            if src in self.offset:
                out[:, i] = (x[:, i] - self.offset[src]) / self.scale[src]
        return out

    def to_json(self, path: str | os.PathLike) -> Path:
        """Write the statistics to ``path`` (JSON) and return the path."""
        path = Path(path)
        path.write_text(json.dumps(asdict(self), indent=2) + "\n")
        return path

    @classmethod
    def from_json(cls, path: str | os.PathLike) -> Normalisation:
        """Read statistics written by :meth:`to_json`.

        Raises
        ------
        DataError
            If the file is missing or lacks a field; the message names the file.
        """
        path = Path(path)
        if not path.exists():
            raise DataError(f"{path}: normalisation file not found")
        record = json.loads(path.read_text())
        missing = [k for k in ("channels", "offset", "scale", "target_transform", "target_scale") if k not in record]
        if missing:
            raise DataError(f"{path}: normalisation lacks fields {missing}")
        return cls(**record)

    @property
    def n_channels(self) -> int:
        return len(self.channels)

    def forward_target(self, emission: np.ndarray) -> np.ndarray:
        """Emission (``target_units``) → network target."""
        y = np.asarray(emission, dtype=np.float64) / self.target_scale
        return np.arcsinh(y) if self.target_transform == "asinh" else y

    def inverse_target(self, y: np.ndarray) -> np.ndarray:
        """Network target → emission (``target_units``)."""
        y = np.asarray(y, dtype=np.float64)
        if self.target_transform == "asinh":
            y = np.sinh(y)
        return y * self.target_scale
