"""Random draws from an explicit `torch.Generator`, which torch's own Gamma, Beta and Dirichlet
samplers do not take: so that the same seed gives the same tasks and the same baseline actions on any
machine. Categorical draws by inverting the CDF and flat Dirichlet rows (the tasks, `rl2lib.envs`);
Beta draws for Thompson sampling and OTS (`rl2lib.baselines.bandits`), from Gamma draws by
Marsaglia-Tsang [1] through torch's C++ sampler; Gamma and Dirichlet draws for the MDP posterior
samplers (`rl2lib.baselines.mdps`), also Marsaglia-Tsang but written so that no draw depends on the
thread count. The two Gamma samplers are kept apart because each fixes the committed baseline tables'
random streams.
References: [1] Marsaglia & Tsang 2000, "A simple method for generating gamma variables", ACM TOMS 26.
"""

from __future__ import annotations

import math

import torch


def sample_categorical(probs: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """One draw from each row of `probs` (..., N) by inverting the CDF; returns (...) long."""
    cdf = probs.cumsum(-1)  # (..., N)
    uniforms = torch.rand(cdf.shape[:-1] + (1,), generator=generator, device=probs.device, dtype=probs.dtype)
    index = (cdf < uniforms * cdf[..., -1:]).sum(-1)  # (...)
    return index.clamp_(max=probs.shape[-1] - 1)


def sample_dirichlet_flat(shape: tuple, generator: torch.Generator, dtype=torch.float32) -> torch.Tensor:
    """Flat Dirichlet(1, ..., 1) rows of the last dimension of `shape`: normalised Exponential(1)."""
    uniforms = torch.rand(shape, generator=generator, device=generator.device, dtype=dtype)
    exponentials = -torch.log1p(-uniforms)
    return exponentials / exponentials.sum(-1, keepdim=True)


BLOCK_SIZE = 1 << 15
"""Draws per block in `_log_gamma`: blocks that stay in cache run several times faster than whole
passes over millions of freshly allocated elements (OTS draws up to B N K Beta variables per pull)."""


def _gamma_with_log(alpha: torch.Tensor, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """X ~ Gamma(alpha, 1) and log X, alpha >= 1, by Marsaglia-Tsang rejection [1]; float32 (M,) each.

    X = d v^3, v = 1 + c z, d = alpha - 1/3, c = 1 / sqrt(9 d), z standard normal, accepted when
    log U < z^2 / 2 + d (1 - v^3 + log v^3) ([1] eq. 3; v <= 0 is rejected: log v^3 is NaN or -inf
    there); about 1 draw in 20 is redrawn at alpha = 1, 1 in 50 at alpha = 2, fewer above. Rejected
    draws are redrawn within their block, so the generator alone fixes every draw.
    """
    alpha = alpha.to(torch.float32).reshape(-1)
    d = alpha - 1.0 / 3.0
    c = torch.rsqrt(9.0 * d)
    out, log_out = torch.empty_like(alpha), torch.empty_like(alpha)
    for start in range(0, alpha.numel(), BLOCK_SIZE):
        end = min(alpha.numel(), start + BLOCK_SIZE)
        dd, cc = d[start:end], c[start:end]
        todo = None  # after the first round: indices (in the block) of the draws still to redo
        while True:
            z = torch.randn(dd.shape, generator=generator, device=dd.device)
            log_u = torch.rand(dd.shape, generator=generator, device=dd.device).log_()
            v = torch.addcmul(torch.ones_like(z), cc, z)
            v3 = v.square().mul_(v)
            log_v3 = v3.log()
            accept = log_u < (log_v3 - v3).add_(1.0).mul_(dd).addcmul_(z, z, value=0.5)
            x = v3.mul_(dd)
            log_x = log_v3.add_(dd.log())
            if todo is None:
                out[start:end], log_out[start:end] = x, log_x
                todo = (~accept).nonzero().flatten()
            else:
                kept = todo[accept] + start
                out[kept], log_out[kept] = x[accept], log_x[accept]
                todo = todo[~accept]
            if todo.numel() == 0:
                break
            dd, cc = d[start:end][todo], c[start:end][todo]
    return out, log_out


def sample_gamma_exact(alpha: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Gamma(alpha, 1) draws, alpha >= 1, float32, same shape as `alpha`, from `generator`.

    torch's C++ sampler (`torch._standard_gamma`, the one behind `torch.distributions.Gamma`, also
    Marsaglia-Tsang [1]) takes a generator and runs about twice as fast as `_gamma_with_log`, the
    tensor-operation version kept as the fallback where that private function is missing.
    """
    alpha = alpha.to(torch.float32).contiguous()
    try:
        return torch._standard_gamma(alpha, generator=generator)
    except (AttributeError, TypeError):  # pragma: no cover - older or newer torch without it
        return _gamma_with_log(alpha, generator)[0].view(alpha.shape)


def beta_draws(a: torch.Tensor, b: torch.Tensor, num_draws: int, generator: torch.Generator):
    """`num_draws` Beta(a_r, b_r) draws for each row r, a_r, b_r >= 1, on the log scale, by kind of row.

    Exact for all a, b >= 1. Where a parameter is 1, a closed form from one uniform per draw: with
    V = 1 - U in (0, 1], Beta(1, 1) = V, Beta(1, b) = 1 - V^(1/b), Beta(a, 1) = V^(1/a); otherwise
    X / (X + Y), X ~ Gamma(a), Y ~ Gamma(b) [1]. The rows come back grouped by kind, in `order`.

    Args:
        a, b: (R,) parameters.  num_draws: N.
    Returns:
        order (R,) long: the input row of each output row; ends: the end of each kind's block of rows
        (kinds: a = b = 1; a = 1 < b; b = 1 < a; both > 1); value (R, N) float32: log theta, except
        log(1 - theta) in the rows of kind a = 1 < b (`log_theta_of_value` converts); log_density
        (R, N) float32: (a - 1) log theta + (b - 1) log(1 - theta), the log density up to its
        normaliser, finite where theta rounds to 0 or 1.
    """
    a32, b32 = a.to(torch.float32), b.to(torch.float32)
    one_a, one_b = a32 == 1, b32 == 1
    masks = (one_a & one_b, one_a & ~one_b, ~one_a & one_b, ~one_a & ~one_b)
    order = torch.cat([mask.nonzero().flatten() for mask in masks])  # (R,)
    ends = torch.stack([mask.sum() for mask in masks]).cumsum(0).tolist()
    value = torch.empty(a32.numel(), num_draws, device=a.device)  # (R, N)
    log_density = torch.empty(a32.numel(), num_draws, device=a.device)  # (R, N)
    ak, bk = a32[order, None], b32[order, None]  # (R, 1)
    one_param = ends[2]
    if one_param:  # kinds 0-2: log V, one uniform per draw
        log_v = value[:one_param]
        log_v.uniform_(generator=generator).neg_().add_(1.0).log_()
        log_density[: ends[0]] = 0.0
        if ends[1] > ends[0]:  # Beta(1, b): log(1 - theta) = log V / b
            rows = slice(ends[0], ends[1])
            value[rows].div_(bk[rows])
            torch.mul(value[rows], bk[rows] - 1, out=log_density[rows])
        if ends[2] > ends[1]:  # Beta(a, 1): log theta = log V / a
            rows = slice(ends[1], ends[2])
            value[rows].div_(ak[rows])
            torch.mul(value[rows], ak[rows] - 1, out=log_density[rows])
    if ends[3] > ends[2]:
        rows = slice(ends[2], ends[3])
        alphas = torch.cat((ak[rows], bk[rows]), dim=1)[:, None, :].expand(-1, num_draws, 2)  # (R3, N, 2)
        xy = sample_gamma_exact(alphas, generator)  # (R3, N, 2)
        log_xy = xy.log()
        log_sum = (xy[..., 0] + xy[..., 1]).log_()  # (R3, N)
        log_theta = torch.sub(log_xy[..., 0], log_sum, out=value[rows])
        log_1m = log_xy[..., 1].sub(log_sum)
        torch.mul(log_theta, ak[rows] - 1, out=log_density[rows]).add_(log_1m.mul_(bk[rows] - 1))
    return order, ends, value, log_density


def log_theta_of_value(value: torch.Tensor) -> torch.Tensor:
    """log theta from log(1 - theta) (the rows of kind a = 1 < b in `beta_draws`); -inf where theta = 0."""
    return torch.log(-torch.expm1(value))


def sample_beta(a: torch.Tensor, b: torch.Tensor, generator: torch.Generator, with_log_density: bool = False):
    """Beta(a, b) draws for a, b >= 1 (broadcast together), one per element; see `beta_draws`.

    Returns:
        theta (...) float32; with `with_log_density`, also (a - 1) log theta + (b - 1) log(1 - theta),
        the log Beta density up to its normaliser, (...) float32.
    """
    a, b = torch.broadcast_tensors(a, b)
    order, ends, value, log_density = beta_draws(a.reshape(-1), b.reshape(-1), 1, generator)
    value[ends[0] : ends[1]] = log_theta_of_value(value[ends[0] : ends[1]])
    theta = torch.empty(a.numel(), device=a.device)
    theta[order] = value[:, 0].exp()
    if with_log_density:
        density = torch.empty_like(theta)
        density[order] = log_density[:, 0]
        return theta.view(a.shape), density.view(a.shape)
    return theta.view(a.shape)


def sample_gamma(
    concentration: torch.Tensor, generator: torch.Generator, sample_shape: tuple = (), dtype: torch.dtype = torch.float32
) -> torch.Tensor:
    """Gamma(alpha, 1) variates, shape `sample_shape + concentration.shape` (alpha > 0), in `dtype`.

    Alpha = 1 (a Dirichlet prior count with no observation) is an Exponential(1) draw, -log(1 - u).
    Otherwise Marsaglia-Tsang [1]: with d = alpha - 1/3, c = 1 / sqrt(9 d), x ~ N(0, 1),
    u ~ U(0, 1) and v = (1 + c x)^3, accept d v when v > 0 and log u < x^2 / 2 + d - d v + d log v;
    rejected entries (under 5 %) are redrawn until all are accepted. Alpha < 1 draws
    Gamma(alpha + 1) and multiplies by u^(1/alpha) ([1] Sec. 4), computed as exp(log(u) / alpha):
    torch's vectorised `pow` and its scalar one (which computes the elements a thread's chunk ends
    with) differ in the last bit, so `pow` would tie the draws to the thread count. float32 by
    default: the draws only feed normalised Dirichlet rows, and it halves the cost of the posterior
    samplers.
    """
    alpha = concentration.to(dtype).reshape(-1)  # (K,)
    device = alpha.device
    num_samples = math.prod(sample_shape)
    out = -torch.log1p(
        -torch.rand((num_samples, alpha.numel()), generator=generator, device=device, dtype=dtype)
    )  # (N, K) Exponential(1) = Gamma(1, 1)
    general = torch.nonzero(alpha != 1.0).squeeze(-1)  # (M,) entries that need Marsaglia-Tsang
    if general.numel() > 0:
        a = alpha[general]  # (M,)
        small = a < 1.0
        d = torch.where(small, a + 1.0, a) - 1.0 / 3.0
        c = torch.rsqrt(9.0 * d)

        def propose(dd, cc, draw_shape):
            x = torch.randn(draw_shape, generator=generator, device=device, dtype=dtype)
            u = torch.rand(draw_shape, generator=generator, device=device, dtype=dtype)
            v = 1.0 + cc * x
            v = v * v * v
            positive = v > 0
            log_v = torch.log(torch.where(positive, v, torch.ones_like(v)))
            accept = positive & (torch.log(u) < 0.5 * x * x + dd - dd * v + dd * log_v)
            return dd * v, accept

        values, accept = propose(d, c, (num_samples, a.numel()))  # (N, M)
        flat_values = values.view(-1)
        todo = torch.nonzero(~accept.view(-1)).squeeze(-1)  # flat indices still rejected
        while todo.numel() > 0:
            column = todo % a.numel()
            retry, accept = propose(d[column], c[column], column.shape)
            flat_values[todo[accept]] = retry[accept]
            todo = todo[~accept]
        if bool(small.any()):
            u = torch.rand(values.shape, generator=generator, device=device, dtype=dtype)
            values = torch.where(small, values * torch.exp(torch.log(u) / a), values)
        out[:, general] = values
    return out.view(tuple(sample_shape) + tuple(concentration.shape))


def sample_dirichlet(concentration: torch.Tensor, generator: torch.Generator, sample_shape: tuple = ()) -> torch.Tensor:
    """Dirichlet rows of the last dimension of `concentration` (..., S): normalised Gamma draws,
    shape `sample_shape + concentration.shape`, float64."""
    gammas = sample_gamma(concentration, generator, sample_shape).to(torch.float64)
    return gammas / gammas.sum(-1, keepdim=True)
