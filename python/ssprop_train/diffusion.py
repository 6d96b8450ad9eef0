"""DDPM (Ho et al. 2020) with the cosine noise schedule of Nichol & Dhariwal
(2021): the forward process, the ε-prediction loss and ancestral sampling.

Images live in [-1, 1]. ``alpha_bar(t) = f(t) / f(0)`` with
``f(t) = cos(((t / T) + s) / (1 + s) · π / 2)²``, ``s = 0.008``;
``beta_t = 1 - alpha_bar(t + 1) / alpha_bar(t)``, clipped to 0.999 (the schedule's
last steps would otherwise reach 1). Steps are 0-based: ``t = 0 .. T-1``.
"""

from __future__ import annotations

import math
from typing import Optional

import torch
import torch.nn as nn
import torch.nn.functional as F

from ssprop_train.progress import Progress


def cosine_betas(timesteps: int, s: float = 0.008, max_beta: float = 0.999) -> torch.Tensor:
    """[T] float64 betas of the cosine schedule."""
    if timesteps < 1:
        raise ValueError(f"timesteps must be >= 1, got {timesteps}")
    f = lambda t: math.cos((t / timesteps + s) / (1 + s) * math.pi / 2) ** 2  # noqa: E731
    return torch.tensor([min(1 - f(t + 1) / f(t), max_beta) for t in range(timesteps)],
                        dtype=torch.float64)


class Diffusion:
    """The schedule's constants for ``timesteps`` steps, on ``device``."""

    def __init__(self, timesteps: int = 200, device="cpu"):
        self.timesteps = timesteps
        betas = cosine_betas(timesteps)
        alpha_bar = torch.cumprod(1 - betas, 0)
        prev = torch.cat([torch.ones(1, dtype=torch.float64), alpha_bar[:-1]])
        self.betas = betas.to(device)
        self.alpha_bar = alpha_bar.to(device)
        # q(x_{t-1} | x_t, x_0) = N(c0 x_0 + ct x_t, posterior_var): the sampler's step.
        self.posterior_c0 = (betas * prev.sqrt() / (1 - alpha_bar)).to(device)
        self.posterior_ct = ((1 - prev) * (1 - betas).sqrt() / (1 - alpha_bar)).to(device)
        self.posterior_var = (betas * (1 - prev) / (1 - alpha_bar)).to(device)

    def _at(self, v: torch.Tensor, t: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
        return v[t].to(like.dtype)[:, None, None, None]

    def q_sample(self, x0: torch.Tensor, t: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        """x_t = sqrt(alpha_bar_t) x_0 + sqrt(1 - alpha_bar_t) ε."""
        ab = self._at(self.alpha_bar, t, x0)
        return ab.sqrt() * x0 + (1 - ab).sqrt() * noise

    def loss(self, model: nn.Module, x0: torch.Tensor, t: Optional[torch.Tensor] = None,
             noise: Optional[torch.Tensor] = None) -> torch.Tensor:
        """The ε-prediction MSE at uniformly drawn (or given) steps and noise."""
        if t is None:
            t = torch.randint(0, self.timesteps, (x0.shape[0],), device=x0.device)
        if noise is None:
            noise = torch.randn_like(x0)
        return F.mse_loss(model(self.q_sample(x0, t, noise), t), noise)

    @torch.no_grad()
    def sample(self, model: nn.Module, n: int, shape=(1, 28, 28), device="cpu",
               generator: Optional[torch.Generator] = None, progress: bool = False,
               batch: int = 256) -> torch.Tensor:
        """``n`` images [n, *shape] in [-1, 1] by ancestral sampling from x_T ~ N(0, I),
        in batches of ``batch``; the model runs in eval mode (Dropout off)."""
        was_training = model.training
        model.eval()
        chunks = [min(batch, n - i) for i in range(0, n, batch)]
        out = []
        with Progress(len(chunks) * self.timesteps, "sampling", enabled=progress) as bar:
            for m in chunks:
                out.append(self._sample_batch(model, m, shape, device, generator, bar))
        model.train(was_training)
        return torch.cat(out)

    def _sample_batch(self, model, n, shape, device, generator, bar) -> torch.Tensor:
        draw = lambda: torch.randn((n, *shape), generator=generator).to(device)  # noqa: E731
        x = draw()
        for step in reversed(range(self.timesteps)):
            t = torch.full((n,), step, device=device, dtype=torch.long)
            ab = self._at(self.alpha_bar, t, x)
            # Through the predicted x_0, clipped to the data range (Ho et al.'s
            # sampler): the cosine schedule's first steps (beta near 1) would
            # otherwise amplify the prediction's error 30-fold.
            x0 = ((x - (1 - ab).sqrt() * model(x, t)) / ab.sqrt()).clamp(-1, 1)
            x = self._at(self.posterior_c0, t, x) * x0 + self._at(self.posterior_ct, t, x) * x
            if step > 0:
                x = x + self._at(self.posterior_var, t, x).sqrt() * draw()
            bar.step()
        return x.clamp(-1, 1)  # the last step is x_0 times c0 = 1 up to round-off
