"""Conditional flow matching :cite:`lipman2023` (torchcfm design :cite:`tong2024`): objectives that do not own
the network, an Euler/Heun ODE sampler with an explicit number of function evaluations (NFE), and a
residual variant (network mean + generative residual, CorrDiff style :cite:`mardani2025`).

The velocity network is called as ``model(torch.cat([xt, cond], 1), t)`` with ``t`` of shape ``(batch,)``
(e.g. :class:`~eoretrieval.nets.unet.UNet` with ``time_embedding=True``).

Public names: :class:`ConditionalFlowMatcher`, :class:`ResidualFlowMatcher`, :func:`integrate_ode`,
:func:`time_grid`.

References
----------
:cite:`lipman2023` (flow matching, eqs. 20-23 for the Gaussian conditional path with linear mean),
:cite:`tong2024` (torchcfm, independent-coupling CFM), :cite:`mardani2025` (CorrDiff residual).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

__all__ = ["ConditionalFlowMatcher", "ResidualFlowMatcher", "integrate_ode", "time_grid"]


def _pad_t(t: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Reshape ``t`` of shape ``(bs,)`` to ``(bs, 1, ..., 1)`` to broadcast against ``x`` ``(bs, *dim)``."""
    return t.reshape(-1, *([1] * (x.dim() - 1)))


class ConditionalFlowMatcher:
    """Independent-coupling conditional flow matching (torchcfm ``ConditionalFlowMatcher``).

    The conditional path between a noise sample :math:`x_0` and a data sample :math:`x_1` is

    .. math::
        \\mu_t = t x_1 + (1 - t) x_0, \\quad \\sigma_t = \\sigma, \\quad
        x_t = \\mu_t + \\sigma_t \\epsilon, \\quad u_t = x_1 - x_0,

    and the loss is :math:`\\mathbb{E}\\,\\lVert v_\\theta(x_t, t, c) - u_t \\rVert^2` (Lipman et al. 2023,
    eq. 23 with :math:`\\sigma_{min} \\to` a constant; Tong et al. 2024, eq. 14).

    Parameters
    ----------
    sigma : float
        Standard deviation of the Gaussian path (0: straight, deterministic paths).
    """

    def __init__(self, *, sigma: float = 0.0) -> None:
        if sigma < 0:
            raise ValueError(f"sigma must be >= 0, got {sigma}")
        self.sigma = float(sigma)

    # -- the path ---------------------------------------------------------------------------------------
    def compute_mu_t(self, x0: torch.Tensor, x1: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """Mean of the path, :math:`t x_1 + (1 - t) x_0`; ``x0, x1`` ``(bs, *dim)``, ``t`` ``(bs,)``."""
        t = _pad_t(t, x0)
        return t * x1 + (1 - t) * x0

    def compute_sigma_t(self, t: torch.Tensor) -> torch.Tensor:
        """Standard deviation of the path, :math:`\\sigma` (constant); ``(bs,)``."""
        return torch.full_like(t, self.sigma)

    def sample_xt(self, x0: torch.Tensor, x1: torch.Tensor, t: torch.Tensor, epsilon: torch.Tensor) -> torch.Tensor:
        """Draw :math:`x_t = \\mu_t + \\sigma_t \\epsilon`; shapes ``(bs, *dim)``."""
        return self.compute_mu_t(x0, x1, t) + _pad_t(self.compute_sigma_t(t), x0) * epsilon

    def compute_conditional_flow(self, x0: torch.Tensor, x1: torch.Tensor, t: torch.Tensor,
                                 xt: torch.Tensor) -> torch.Tensor:
        """Conditional vector field :math:`u_t(x \\mid x_0, x_1) = x_1 - x_0`; ``(bs, *dim)``."""
        del t, xt
        return x1 - x0

    def sample_location_and_conditional_flow(self, x0: torch.Tensor, x1: torch.Tensor,
                                             t: torch.Tensor | None = None, *,
                                             generator: torch.Generator | None = None,
                                             return_noise: bool = False):
        """Sample ``t`` (uniform on [0, 1] unless given), :math:`x_t` and :math:`u_t`.

        Parameters
        ----------
        x0, x1 : torch.Tensor
            Source (noise) and target samples, ``(bs, *dim)``.
        t : torch.Tensor, optional
            Times ``(bs,)`` in [0, 1].
        generator : torch.Generator, optional
            Random generator for ``t`` and :math:`\\epsilon`.
        return_noise : bool
            Also return :math:`\\epsilon`.

        Returns
        -------
        t : ``(bs,)``; xt : ``(bs, *dim)``; ut : ``(bs, *dim)``; [eps : ``(bs, *dim)``]
        """
        if x0.shape != x1.shape:
            raise ValueError(f"x0 and x1 must have the same shape, got {tuple(x0.shape)} and {tuple(x1.shape)}")
        if t is None:
            t = torch.rand(x0.shape[0], generator=generator, device=x0.device, dtype=x0.dtype)
        eps = torch.randn(x0.shape, generator=generator, device=x0.device, dtype=x0.dtype)
        xt = self.sample_xt(x0, x1, t, eps)
        ut = self.compute_conditional_flow(x0, x1, t, xt)
        return (t, xt, ut, eps) if return_noise else (t, xt, ut)

    # -- training and sampling --------------------------------------------------------------------------
    def loss(self, model: nn.Module, x1: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        """Mean squared error between ``model(cat(xt, cond), t)`` and :math:`u_t`, with :math:`x_0 \\sim N(0, I)`.

        ``x1`` ``(bs, c, y, x)``, ``cond`` ``(bs, c', y, x)`` → scalar.
        """
        x0 = torch.randn_like(x1)
        t, xt, ut = self.sample_location_and_conditional_flow(x0, x1)
        vt = model(torch.cat([xt, cond], dim=1), t)
        return torch.mean((vt - ut) ** 2)

    def sample(self, model: nn.Module, cond: torch.Tensor, *, out_channels: int = 1, n_steps: int = 10,
               method: str = "euler", time_power: float = 1.0,
               generator: torch.Generator | None = None) -> torch.Tensor:
        """Integrate :math:`dx/dt = v_\\theta(x, t, c)` from :math:`x_0 \\sim N(0, I)` at t=0 to t=1.

        Parameters
        ----------
        model : torch.nn.Module
            Velocity network.
        cond : torch.Tensor
            Condition ``(bs, c', y, x)``; draw an ensemble by repeating it along the batch.
        out_channels : int
            Channels of the sample.
        n_steps : int
            Integration steps; the number of function evaluations is :meth:`nfe` (``n_steps`` for Euler,
            ``2 * n_steps - 1`` for Heun, whose last step is Euler as in EDM :cite:`karras2022`).
        method : {"euler", "heun"}
        time_power : float
            Time grid of :func:`time_grid` (1: uniform; > 1: steps shorten toward the data end t=1).
        generator : torch.Generator, optional
            Seeds the initial noise.

        Returns
        -------
        torch.Tensor
            Samples ``(bs, out_channels, y, x)``.
        """
        shape = (cond.shape[0], out_channels, *cond.shape[2:])
        x0 = torch.randn(shape, generator=generator, dtype=cond.dtype).to(cond.device)

        def velocity(x, t):
            return model(torch.cat([x, cond], dim=1), t.expand(x.shape[0]))

        with torch.no_grad():
            return integrate_ode(velocity, x0, n_steps=n_steps, method=method, time_power=time_power)

    @staticmethod
    def nfe(n_steps: int, method: str = "euler") -> int:
        """Number of network evaluations of :meth:`sample` for ``n_steps`` steps of ``method``."""
        return int(n_steps) if method == "euler" else int(2 * n_steps - 1)


def time_grid(n_steps: int, *, power: float = 1.0, t0: float = 0.0, t1: float = 1.0,
              dtype: torch.dtype = torch.float32, device=None) -> torch.Tensor:
    """The ``n_steps + 1`` times of the ODE sampler, :math:`t_k = t_0 + (t_1 - t_0)(1 - (1 - k/n)^p)`.

    ``power`` :math:`p = 1` is the uniform grid; :math:`p > 1` shortens the steps toward ``t1`` (the data end of
    the flow), where an Euler step from :math:`t` lands on the conditional mean :math:`E[x_1 | x_t]`, smooth unless
    :math:`t` is close to 1 (the same idea as the :math:`\\rho` grid of EDM :cite:`karras2022`).

    Raises
    ------
    ValueError
        If ``n_steps < 1`` or ``power <= 0``.
    """
    if n_steps < 1:
        raise ValueError(f"n_steps must be >= 1, got {n_steps}")
    if not power > 0:
        raise ValueError(f"time power must be > 0, got {power}")
    if float(power) == 1.0:  # the uniform grid exactly as torch spaces it
        return torch.linspace(t0, t1, n_steps + 1, dtype=dtype, device=device)
    u = torch.linspace(0.0, 1.0, n_steps + 1, dtype=torch.float64)
    ts = t0 + (t1 - t0) * (1.0 - (1.0 - u) ** float(power))
    ts[0], ts[-1] = t0, t1
    return ts.to(dtype=dtype, device=device)


def integrate_ode(velocity: Callable[[torch.Tensor, torch.Tensor], torch.Tensor], x0: torch.Tensor, *,
                  n_steps: int, method: str = "euler", t0: float = 0.0, t1: float = 1.0,
                  time_power: float = 1.0) -> torch.Tensor:
    """Integrate :math:`dx/dt = v(x, t)` from ``t0`` to ``t1`` in ``n_steps`` steps on :func:`time_grid`.

    Parameters
    ----------
    velocity : callable
        ``velocity(x, t)`` with ``x`` ``(bs, *dim)`` and ``t`` a 1-element tensor.
    x0 : torch.Tensor
        State at ``t0``.
    n_steps : int
        Steps (>= 1).
    method : {"euler", "heun"}
        Explicit Euler (NFE = ``n_steps``) or Heun's second-order method (NFE = ``2 n_steps - 1``).
    time_power : float
        Grid of :func:`time_grid` (1: uniform).

    Returns
    -------
    torch.Tensor
        State at ``t1``, same shape as ``x0``.
    """
    if method not in ("euler", "heun"):
        raise ValueError(f"unknown method {method!r}; valid: 'euler', 'heun'")
    ts = time_grid(n_steps, power=time_power, t0=t0, t1=t1, dtype=x0.dtype, device=x0.device)
    x = x0
    for k in range(n_steps):
        t, dt = ts[k:k + 1], ts[k + 1] - ts[k]
        v = velocity(x, t)
        if method == "heun" and k < n_steps - 1:
            x_pred = x + dt * v
            v = 0.5 * (v + velocity(x_pred, ts[k + 1:k + 2]))
        x = x + dt * v
    return x


class ResidualFlowMatcher(ConditionalFlowMatcher):
    """Flow matching on the residual of a frozen mean network (CorrDiff :cite:`mardani2025`).

    The target becomes :math:`r = (x_1 - m(c)) / s` with a trained, frozen regression network :math:`m`
    and a residual scale :math:`s`; the velocity network sees ``cat(xt, cond, m(c))``. Samples are
    :math:`m(c) + s\\,\\hat r`. The objective does not own (or train) either network.

    Parameters
    ----------
    mean_model : torch.nn.Module
        Regression network ``mean_model(cond) -> (bs, c, y, x)``; set to eval mode and used without gradients.
    residual_scale : float
        :math:`s`, e.g. the standard deviation of the training residuals.
    sigma : float
        As in :class:`ConditionalFlowMatcher`.
    """

    def __init__(self, mean_model: nn.Module, *, residual_scale: float = 1.0, sigma: float = 0.0) -> None:
        super().__init__(sigma=sigma)
        if residual_scale <= 0:
            raise ValueError(f"residual_scale must be > 0, got {residual_scale}")
        self.mean_model = mean_model.eval()
        for p in self.mean_model.parameters():
            p.requires_grad_(False)
        self.residual_scale = float(residual_scale)

    def mean(self, cond: torch.Tensor) -> torch.Tensor:
        """The frozen mean :math:`m(c)`, ``(bs, c, y, x)``."""
        with torch.no_grad():
            return self.mean_model(cond)

    def loss(self, model: nn.Module, x1: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        """Flow-matching loss on the scaled residual, the velocity network conditioned on ``cat(cond, m(c))``."""
        mu = self.mean(cond)
        return super().loss(model, (x1 - mu) / self.residual_scale, torch.cat([cond, mu], dim=1))

    def sample(self, model: nn.Module, cond: torch.Tensor, *, out_channels: int = 1, n_steps: int = 10,
               method: str = "euler", time_power: float = 1.0,
               generator: torch.Generator | None = None) -> torch.Tensor:
        """Return :math:`m(c) + s\\,\\hat r` with :math:`\\hat r` from the ODE sampler; ``(bs, c, y, x)``."""
        mu = self.mean(cond)
        r = super().sample(model, torch.cat([cond, mu], dim=1), out_channels=out_channels, n_steps=n_steps,
                           method=method, time_power=time_power, generator=generator)
        return mu + self.residual_scale * r
