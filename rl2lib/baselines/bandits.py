"""Bandit baselines of [1] Table 1, plus two ceilings: the Bayes-optimal policy and the oracle.

Every baseline acts in B trials at once with tensor operations; per trial it keeps the counts of
successes and failures of each arm. Where a prior is used it is the true Beta(1, 1) of the task
distribution. Random; Thompson sampling (TS) [2]; optimistic TS (OTS) [3]: N posterior samples, act
on the one of highest joint posterior density; UCB1 [4] with a tuned scale c on statistics started at
one success and one failure; epsilon-greedy and greedy on the same statistics, ties to the lowest arm
index; the Gittins index [5] of a Beta arm by calibration against a safe arm, with a tuned discount;
the exact Bayes-optimal policy for n <= 10 by dynamic programming over posterior states; the oracle
that knows the arm probabilities. The tuning grids are those of [1] Sec. 3.1 and the workbook's
`shared/paper/README.md`. Randomness comes only from the `generator` handed to `reset`, so a seed
fixes every number; Beta draws are built from its normals and uniforms (Marsaglia-Tsang [6]).
References: [1] Duan et al. 2016, "RL^2", arXiv:1611.02779, Sec. 3.1 and Table 1; [2] Thompson 1933;
[3] May et al. 2012, "Optimistic Bayesian sampling in contextual-bandit problems", JMLR 13;
[4] Auer et al. 2002, "Finite-time analysis of the multiarmed bandit problem", Mach. Learn. 47;
[5] Gittins 1979, "Bandit processes and dynamic allocation indices", JRSS B 41 (calibration as in
Gittins, Glazebrook & Weber 2011, "Multi-armed Bandit Allocation Indices", Sec. 7.6);
[6] Marsaglia & Tsang 2000, "A simple method for generating gamma variables", ACM TOMS 26.
"""
from __future__ import annotations

import math
from functools import lru_cache

import torch

from rl2lib.baselines.base import Baseline
from rl2lib.config import ConfigError

# ----------------------------------------------------------------------------------------------
# Beta draws from a torch.Generator (torch's own Gamma/Beta samplers take no generator)
# ----------------------------------------------------------------------------------------------


BLOCK_SIZE = 1 << 15
"""Draws per block in `sample_beta`: blocks that stay in cache run several times faster than whole
passes over millions of freshly allocated elements (OTS draws B N K Beta variables per pull)."""


def _log_gamma_block(alpha: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """log X for X ~ Gamma(alpha, 1), alpha >= 1, by Marsaglia-Tsang rejection [6]; float32 (M,).

    X = d (1 + c z)^3 with d = alpha - 1/3, c = 1 / sqrt(9 d), z standard normal, accepted when
    log U < z^2 / 2 + d - d (1 + c z)^3 + 3 d log(1 + c z) ([6] eq. 3); about 1 draw in 20 is
    redrawn at alpha = 1, far fewer above.
    """
    d = alpha - 1.0 / 3.0
    c = torch.rsqrt(9.0 * d)
    out = torch.empty_like(alpha)
    todo = None  # all on the first round, then the indices of the rejected draws
    while True:
        dd, cc = (d, c) if todo is None else (d[todo], c[todo])
        z = torch.randn(dd.shape, generator=generator, device=dd.device, dtype=dd.dtype)
        log_u = torch.rand(dd.shape, generator=generator, device=dd.device, dtype=dd.dtype).log_()
        log_v = torch.log1p(cc * z).mul_(3.0)  # NaN where 1 + c z <= 0: rejected below
        accept = log_u < 0.5 * z * z + dd * (1.0 - log_v.exp() + log_v)
        log_x = dd.log() + log_v
        if todo is None:
            out.copy_(log_x)
            todo = (~accept).nonzero().flatten()
        else:
            out[todo[accept]] = log_x[accept]
            todo = todo[~accept]
        if todo.numel() == 0:
            return out


def sample_gamma(shape: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Gamma(shape, 1) draws from `generator` [6]; shapes below 1 by Gamma(a) = Gamma(a + 1) U^(1/a).

    Args:
        shape: (...) float tensor of shape parameters > 0.
    Returns:
        (...) float32 tensor.
    """
    alpha = shape.to(torch.float32).flatten()
    small = alpha < 1
    out = _log_gamma_block(torch.where(small, alpha + 1, alpha), generator).exp()
    if small.any():
        u = torch.rand(int(small.sum()), generator=generator, device=alpha.device)
        out[small] = out[small] * u ** (1.0 / alpha[small])
    return out.view(shape.shape)


def sample_beta(a: torch.Tensor, b: torch.Tensor, generator: torch.Generator,
                with_log_density: bool = False):
    """Beta(a, b) draws X / (X + Y), X ~ Gamma(a), Y ~ Gamma(b), for a, b >= 1 (broadcast together).

    The normals and uniforms are float32 draws from `generator` (they are the cost of the whole
    bandit table; float32 moves the acceptance test by about 1e-6 in log-probability). log theta and
    log(1 - theta) come from log X and log Y, so they stay finite where theta rounds to 0 or 1.

    Returns:
        theta (...) float32; with `with_log_density`, also (a - 1) log theta + (b - 1) log(1 - theta),
        the log Beta density up to its normaliser, (...) float32.
    """
    a, b = torch.broadcast_tensors(a, b)
    a_flat = a.to(torch.float32).reshape(-1)  # (M,)
    b_flat = b.to(torch.float32).reshape(-1)  # (M,)
    theta = torch.empty_like(a_flat)  # (M,)
    log_density = torch.empty_like(a_flat) if with_log_density else None  # (M,)
    for start in range(0, a_flat.numel(), BLOCK_SIZE):
        end = start + BLOCK_SIZE
        log_x = _log_gamma_block(a_flat[start:end], generator)
        log_y = _log_gamma_block(b_flat[start:end], generator)
        log_sum = torch.logaddexp(log_x, log_y)
        log_theta = log_x - log_sum
        torch.exp(log_theta, out=theta[start:end])
        if with_log_density:
            log_density[start:end] = (a_flat[start:end] - 1) * log_theta + (b_flat[start:end] - 1) * (log_y - log_sum)
    if with_log_density:
        return theta.view(a.shape), log_density.view(a.shape)
    return theta.view(a.shape)


def first_argmax(values: torch.Tensor) -> torch.Tensor:
    """Index of the largest entry of each row (B, K) -> (B,), ties to the lowest index.

    torch.argmax documents first-occurrence ties; exact equality of the compared means holds because
    equal fractions s/t divide to the same float.
    """
    best = values.max(dim=-1, keepdim=True).values  # (B, 1)
    return (values == best).to(torch.int8).argmax(dim=-1)


# ----------------------------------------------------------------------------------------------
# Shared statistics
# ----------------------------------------------------------------------------------------------


class CountingBandit(Baseline):
    """Keeps successes S and failures F of each arm per trial, (B, K) float64, from a pseudo-count.

    `prior_count` is added to both S and F at the start: 1 gives the Beta(1, 1) posterior of the
    task distribution, and the "one success and one failure" start of UCB1 and epsilon-greedy.
    """

    task = "bandit"
    prior_count = 1.0

    def reset(self, num_trials, device, generator):
        super().reset(num_trials, device, generator)
        k = self.config.num_actions
        self.successes = torch.full((num_trials, k), self.prior_count, dtype=torch.float64, device=device)  # (B, K)
        self.failures = torch.full((num_trials, k), self.prior_count, dtype=torch.float64, device=device)  # (B, K)

    def update(self, states, actions, rewards, next_states, episode_done):
        rewards = rewards.to(torch.float64)[:, None]  # (B, 1)
        self.successes.scatter_add_(1, actions[:, None], rewards)
        self.failures.scatter_add_(1, actions[:, None], 1.0 - rewards)

    @property
    def pulls(self) -> torch.Tensor:
        """T_i: pulls of each arm plus the pseudo-counts, (B, K)."""
        return self.successes + self.failures

    @property
    def means(self) -> torch.Tensor:
        """Empirical (posterior) mean S_i / T_i, (B, K)."""
        return self.successes / self.pulls


class RandomBandit(Baseline):
    """Pulls an arm uniformly at random: expected total n/2 ([1] Table 1, 'Random')."""

    name, task = "random", "bandit"

    def act(self, states, step_in_episode):
        k = self.config.num_actions
        return torch.randint(k, (self.num_trials,), generator=self.generator, device=self.device)


class OracleBandit(Baseline):
    """Always pulls the arm of highest true p: expected total n k / (k + 1). A ceiling, not a column
    of [1] Table 1; it reads the true tasks that `rl2lib.evaluate.play_trials` sets as `self.tasks`."""

    name, task = "oracle", "bandit"

    def reset(self, num_trials, device, generator):
        super().reset(num_trials, device, generator)
        if self.tasks is None:
            raise RuntimeError("the oracle needs the true tasks: set `agent.tasks` before `reset`")
        self.best_arm = self.tasks.arm_probs.to(device).argmax(dim=1)  # (B,)

    def act(self, states, step_in_episode):
        return self.best_arm


class ThompsonSampling(CountingBandit):
    """Thompson sampling [2]: one draw from each arm's Beta posterior, pull the largest ([1] 'TS')."""

    name = "ts"

    def act(self, states, step_in_episode):
        return sample_beta(self.successes, self.failures, self.generator).argmax(dim=1)


class OptimisticThompsonSampling(CountingBandit):
    """Optimistic TS ([1] 'OTS', after [3]): draw N joint posterior samples of the arm means, keep the
    sample of highest joint posterior density, pull its best arm. N = 1 is Thompson sampling.

    The draws are the cost of the whole table (B N K Beta draws per pull, 210 n k B over the grid),
    so tuning uses fewer trials per grid value where n k > 200: 2 10^5 / (n k) of them, at least 100
    (1000 at n = 10, k = 5 and 10; 400 at n = 10, k = 50; 100 from n k >= 2000 on, e.g. all n = 500);
    evaluation always uses all trials.
    """

    name = "ots"
    param_name = "num_samples"
    param_grid = tuple(range(1, 21))  # [1] Sec. 3.1: N in 1..20
    default_param = 1

    @classmethod
    def tuning_trials(cls, task_config, num_trials):
        pulls = task_config.num_traj * task_config.num_actions
        return min(num_trials, max(100, 200_000 // pulls))

    def act(self, states, step_in_episode):
        num_samples = int(self.param)
        a = self.successes[:, None, :].expand(-1, num_samples, -1)  # (B, N, K)
        b = self.failures[:, None, :].expand(-1, num_samples, -1)  # (B, N, K)
        theta, log_density = sample_beta(a, b, self.generator, with_log_density=True)  # (B, N, K) each
        # joint log density up to the normaliser, which is the same for all N samples; summed in float64
        log_density = log_density.sum(-1, dtype=torch.float64)  # (B, N)
        kept = log_density.argmax(dim=1)  # (B,)
        theta_kept = theta[torch.arange(self.num_trials, device=self.device), kept]  # (B, K)
        return theta_kept.argmax(dim=1)


def ucb1_index(successes: torch.Tensor, failures: torch.Tensor, scale: float) -> torch.Tensor:
    """UCB1 index [4] on pseudo-counted statistics: S_i / T_i + c sqrt(2 log t / T_i).

    Args:
        successes, failures: (B, K) counts including the starting pseudo-counts; T_i = S_i + F_i.
        scale: c, the tuned multiplier of the confidence width ([1] Sec. 3.1).
    Returns:
        (B, K) float64 index; t = sum_i T_i, the pulls so far plus the pseudo-counts.
    """
    pulls = successes + failures  # (B, K)
    total = pulls.sum(dim=1, keepdim=True)  # (B, 1)
    return successes / pulls + scale * torch.sqrt(2.0 * torch.log(total) / pulls)


class UCB1(CountingBandit):
    """UCB1 [4] with a tuned width c ([1] 'UCB1'); ties to the lowest arm index. c = 0 is greedy."""

    name = "ucb1"
    param_name = "c"
    param_grid = tuple(round(0.1 * i, 1) for i in range(11))  # [1] Sec. 3.1: c in {0, 0.1, ..., 1}
    default_param = 1.0

    def act(self, states, step_in_episode):
        return first_argmax(ucb1_index(self.successes, self.failures, float(self.param)))


class EpsilonGreedy(CountingBandit):
    """With probability epsilon a uniformly random arm, else the arm of highest mean S_i / T_i,
    ties to the lowest index ([1] 'eps-Greedy'); statistics start at one success and one failure."""

    name = "eps_greedy"
    param_name = "epsilon"
    param_grid = tuple(round(0.1 * i, 1) for i in range(11))  # [1] Sec. 3.1: epsilon in {0, ..., 1}
    default_param = 0.1

    def act(self, states, step_in_episode):
        greedy = first_argmax(self.means)  # (B,)
        epsilon = float(self.param)
        if epsilon == 0.0:
            return greedy
        k = self.config.num_actions
        explore = torch.rand(self.num_trials, generator=self.generator, device=self.device, dtype=torch.float64) < epsilon
        random_arms = torch.randint(k, (self.num_trials,), generator=self.generator, device=self.device)
        return torch.where(explore, random_arms, greedy)


class Greedy(EpsilonGreedy):
    """Epsilon-greedy with epsilon = 0 ([1] 'Greedy'): untuned."""

    name = "greedy"
    param_name = None
    param_grid = ()
    default_param = 0.0


# ----------------------------------------------------------------------------------------------
# Gittins index
# ----------------------------------------------------------------------------------------------

GITTINS_GRID_SIZE = 512
"""Safe-arm rewards lambda on a uniform grid of [0, 1]; the index is interpolated between them."""


def gittins_lookahead(discount: float) -> int:
    """Depth of the look-ahead tree below the deepest state whose index is needed.

    Enough for discount^depth < 1e-3 at discount 0.9 and 0.99; capped at 1000 pulls above that,
    where the cut-off arm is valued as a known arm of its posterior mean (a standard truncation [5]).
    """
    return int(min(1000, math.ceil(math.log(1e-3) / math.log(discount))))


@lru_cache(maxsize=16)
def gittins_index_table(discount: float, depth: int) -> torch.Tensor:
    """Gittins indices [5] of a Bernoulli arm with a Beta(1 + s, 1 + f) posterior, for s + f <= depth.

    Calibration against a safe arm paying lambda per pull: the index of state (s, f) is the lambda at
    which continuing to pull (with the option to retire to the safe arm forever after) is worth
    exactly retiring now, lambda / (1 - discount). Backward induction runs once per lambda on a
    uniform grid (all lambdas at once, as a tensor dimension) over the tree of states
    s + f <= depth + lookahead; at the cut-off an arm is valued as known, max(lambda, mean)/(1-discount).
    The advantage of continuing over retiring decreases in lambda; its zero, linearly interpolated
    between grid points, is the index. Cached in memory per (discount, depth).

    Args:
        discount: gamma in (0, 1).
        depth: the deepest s + f whose index is needed (n pulls reach s + f <= n).
    Returns:
        (depth + 1, depth + 1) float64 tensor G with G[s, f] the index (NaN where s + f > depth).
    """
    gamma = float(discount)
    horizon = depth + gittins_lookahead(gamma)
    lambdas = torch.linspace(0.0, 1.0, GITTINS_GRID_SIZE, dtype=torch.float64)  # (G,)
    retire = lambdas / (1.0 - gamma)  # (G,)
    table = torch.full((depth + 1, depth + 1), float("nan"), dtype=torch.float64)
    s = torch.arange(horizon + 1, dtype=torch.float64)
    mean = (s + 1) / (horizon + 2)  # (m+1,) posterior means on the last layer
    value = torch.maximum(lambdas[None, :], mean[:, None]) / (1.0 - gamma)  # (m+1, G)
    for m in range(horizon - 1, -1, -1):  # layer m: states with s + f = m, s = 0..m
        mean = (s[: m + 1] + 1) / (m + 2)  # (m+1,)
        # pull: success -> (s+1, f) = index s+1 of layer m+1; failure -> (s, f+1) = index s
        cont = mean[:, None] * (1.0 + gamma * value[1:]) + (1.0 - mean[:, None]) * gamma * value[:-1]  # (m+1, G)
        if m <= depth:
            advantage = cont - retire  # (m+1, G), decreasing in lambda
            below = (advantage > 0).sum(dim=1).clamp(1, GITTINS_GRID_SIZE - 1)  # first grid point <= 0
            lo, hi = below - 1, below
            a_lo = advantage.gather(1, lo[:, None])[:, 0]
            a_hi = advantage.gather(1, hi[:, None])[:, 0]
            frac = (a_lo / (a_lo - a_hi)).clamp(0.0, 1.0)
            index = lambdas[lo] + frac * (lambdas[hi] - lambdas[lo])  # (m+1,)
            successes = torch.arange(m + 1)
            table[successes, m - successes] = index
        value = torch.maximum(cont, retire[None, :])
    return table


class GittinsBandit(CountingBandit):
    """Pulls the arm of highest Gittins index [5] for its Beta posterior ([1] 'Gittins'); ties to the
    lowest arm. The discount is tuned ([1] Sec. 3.1: 'the best approximation per setting')."""

    name = "gittins"
    param_name = "discount"
    param_grid = (0.9, 0.99, 0.999, 0.9999)
    default_param = 0.999

    def reset(self, num_trials, device, generator):
        super().reset(num_trials, device, generator)
        table = gittins_index_table(float(self.param), self.config.num_traj)
        self.table = table.to(device).nan_to_num(0.0)  # (n+1, n+1)

    def act(self, states, step_in_episode):
        s = (self.successes - self.prior_count).long()  # (B, K)
        f = (self.failures - self.prior_count).long()  # (B, K)
        return first_argmax(self.table[s, f])


# ----------------------------------------------------------------------------------------------
# Bayes-optimal policy by dynamic programming over posterior states
# ----------------------------------------------------------------------------------------------

MAX_BAYES_OPTIMAL_TRAJ = 10
"""Largest n solved exactly: beyond it the posterior states (multisets of per-arm counts) outgrow
memory and the int64 key of a state (one base-(pairs+1) digit per pulled arm) overflows."""


def _pair_codes(num_traj: int) -> dict:
    """Code of each per-arm count (s, f), s + f <= n; (0, 0), an unpulled arm, has code 0."""
    pairs = [(s, t - s) for t in range(num_traj + 1) for s in range(t + 1)]
    return {pair: code for code, pair in enumerate(pairs)}


@lru_cache(maxsize=8)
def solve_bayes_optimal(num_actions: int, num_traj: int):
    """Exact Bayes-optimal play of a Beta(1, 1)-Bernoulli bandit with k arms for n pulls.

    A posterior state is the multiset of (successes, failures) of the pulled arms; unpulled arms are
    interchangeable, so a state is a sorted tuple of at most min(k, n) pairs and k >= n behaves like
    k = n. Backward induction: V(state) = max over distinct pairs (and a fresh arm while one is left)
    of p (1 + V(success)) + (1 - p) V(failure), p = (s + 1) / (s + f + 2); V = 0 after n pulls.

    Args:
        num_actions: k >= 2.  num_traj: n, 1 <= n <= MAX_BAYES_OPTIMAL_TRAJ.
    Returns:
        (value, keys, best_codes): the expected total (float), and for every decision state the
        int64 key (sorted, see `_state_keys`) and the code of the pair to pull (0: a fresh arm),
        as 1-D tensors sorted by key.
    """
    if num_traj > MAX_BAYES_OPTIMAL_TRAJ:
        raise ConfigError(
            f"bayes_optimal is solved exactly only for n <= {MAX_BAYES_OPTIMAL_TRAJ} (got n={num_traj}): "
            "the posterior states grow super-exponentially with n (n=100 is out of reach)")
    codes = _pair_codes(num_traj)
    base = len(codes) + 1
    width = min(num_actions, num_traj)
    layers = [{()}]
    for _ in range(num_traj):  # forward: states reachable after t pulls
        nxt = set()
        for state in layers[-1]:
            for pair, fresh in _choices(state, num_actions):
                nxt.add(_successor(state, pair, fresh, 1))
                nxt.add(_successor(state, pair, fresh, 0))
        layers.append(nxt)
    value = {state: 0.0 for state in layers[-1]}
    keys, best_codes = [], []
    for t in range(num_traj - 1, -1, -1):
        new_value = {}
        for state in layers[t]:
            best, best_pair = -1.0, None
            for pair, fresh in _choices(state, num_actions):
                p = (pair[0] + 1) / (pair[0] + pair[1] + 2)
                q = p * (1.0 + value[_successor(state, pair, fresh, 1)]) + (1 - p) * value[_successor(state, pair, fresh, 0)]
                if q > best + 1e-12:
                    best, best_pair = q, pair
            new_value[state] = best
            digits = sorted((codes[pair] for pair in state), reverse=True) + [0] * (width - len(state))
            keys.append(sum(d * base ** i for i, d in enumerate(digits)))
            best_codes.append(codes[best_pair])
        value = new_value
    keys = torch.tensor(keys, dtype=torch.int64)
    order = keys.argsort()
    return value[()], keys[order], torch.tensor(best_codes, dtype=torch.int64)[order]


def _choices(state: tuple, num_actions: int):
    """Distinct actions in a state: (pair, False) per distinct pulled pair, ((0, 0), True) if a fresh arm is left."""
    for pair in sorted(set(state)):
        yield pair, False
    if len(state) < num_actions:
        yield (0, 0), True


def _successor(state: tuple, pair: tuple, fresh: bool, reward: int) -> tuple:
    arms = list(state)
    if not fresh:
        arms.remove(pair)
    arms.append((pair[0] + reward, pair[1] + 1 - reward))
    return tuple(sorted(arms))


def bayes_optimal_expected_total(num_actions: int, num_traj: int) -> float:
    """Exact expected total reward of the Bayes-optimal policy, k arms, n pulls, p_i ~ U[0, 1]."""
    return solve_bayes_optimal(num_actions, num_traj)[0]


class BayesOptimalBandit(CountingBandit):
    """Acts with the exact Bayes-optimal policy of `solve_bayes_optimal` (n <= 10); among arms in the
    chosen posterior state, the lowest index. A ceiling for [1] Table 1, not one of its columns."""

    name = "bayes_optimal"

    def reset(self, num_trials, device, generator):
        super().reset(num_trials, device, generator)
        n, k = self.config.num_traj, self.config.num_actions
        _, keys, best_codes = solve_bayes_optimal(k, n)
        self.keys, self.best_codes = keys.to(device), best_codes.to(device)
        codes = _pair_codes(n)
        self.code_table = torch.zeros(n + 1, n + 1, dtype=torch.int64, device=device)  # (n+1, n+1)
        for (s, f), code in codes.items():
            self.code_table[s, f] = code
        self.base = len(codes) + 1
        self.width = min(k, n)

    def act(self, states, step_in_episode):
        s = (self.successes - self.prior_count).long()  # (B, K)
        f = (self.failures - self.prior_count).long()  # (B, K)
        arm_codes = self.code_table[s, f]  # (B, K)
        digits = arm_codes.sort(dim=1, descending=True).values[:, : self.width]  # (B, width)
        powers = self.base ** torch.arange(self.width, dtype=torch.int64, device=self.device)  # (width,)
        keys = (digits * powers).sum(dim=1)  # (B,)
        position = torch.searchsorted(self.keys, keys).clamp(max=self.keys.numel() - 1)
        if not torch.equal(self.keys[position], keys):
            raise RuntimeError("bayes_optimal met a posterior state outside its table")
        best = self.best_codes[position]  # (B,)
        return (arm_codes == best[:, None]).to(torch.int8).argmax(dim=1)


BANDIT_BASELINES = {cls.name: cls for cls in (
    RandomBandit, GittinsBandit, ThompsonSampling, OptimisticThompsonSampling, UCB1, EpsilonGreedy,
    Greedy, OracleBandit, BayesOptimalBandit)}
