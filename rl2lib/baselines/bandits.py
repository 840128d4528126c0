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
fixes every number. Beta draws are exact: closed forms from one uniform where a parameter is 1, else
two Gamma draws (Marsaglia-Tsang [6], torch's C++ sampler, which takes a generator); OTS draws an
unpulled arm only for the kept sample (its flat density cannot change which sample is kept). The one
cell outside its tolerance (Gittins, n = 10, k = 50) is discussed in the README.
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

import numpy as np
import torch

from rl2lib.baselines.base import Baseline, RandomBaseline
from rl2lib.config import ConfigError
from rl2lib.params import Interval
from rl2lib.sampling import beta_draws, log_theta_of_value, sample_beta


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


class RandomBandit(RandomBaseline):
    """Pulls an arm uniformly at random: expected total n/2 ([1] Table 1, 'Random')."""

    task = "bandit"


class OracleBandit(Baseline):
    """Always pulls the arm of highest true p: expected total n k / (k + 1). A ceiling, not a column
    of [1] Table 1; it reads the true tasks that `rl2lib.agents.play_trials` sets as `self.tasks`."""

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
    so tuning uses fewer trials per grid value where n k > 1250: 1.25 10^6 / (n k) of them, at least
    100 (1000 up to n k = 1250, i.e. n = 10 and n = 100 with k <= 10; 500 at n = 500, k = 5; 250 at
    n = 100, k = 50 and n = 500, k = 10; 100 at n = 500, k = 50); evaluation always uses all trials.
    With 100 tuning trials n = 100, k = 50 picked N = 10 (66.87, below the paper's 67.7 by more than
    the tolerance); with 250 it picks N = 14 (N = 10 to 20 all score 67.06 to 67.59 on
    the evaluation seed, within tolerance), with 500 N = 15, with 1000 N = 19.
    """

    name = "ots"
    param_name = "num_samples"
    param_grid = tuple(range(1, 21))  # [1] Sec. 3.1: N in 1..20
    default_param = 1
    param_range = Interval(1)

    @classmethod
    def tuning_trials(cls, task_config, num_trials):
        pulls = task_config.num_traj * task_config.num_actions
        return min(num_trials, max(100, 1_250_000 // pulls))

    def act(self, states, step_in_episode):
        num_samples = int(self.param)
        k = self.config.num_actions
        a, b = self.successes.reshape(-1), self.failures.reshape(-1)  # (B K,)
        # An unpulled arm's Beta(1, 1) density is flat: its draws never change which sample is kept,
        # so only the kept sample's value is drawn for it (one uniform instead of N).
        pulled = (a + b > 2 * self.prior_count).nonzero().flatten()  # (P,) flat arm indices
        unpulled = (a + b <= 2 * self.prior_count).nonzero().flatten()  # (B K - P,)
        order, ends, value, log_density = beta_draws(a[pulled], b[pulled], num_samples, self.generator)
        arms = pulled[order]  # (P,) the flat arm of each row of value, log_density (P, N)
        trial = arms // k  # (P,)
        # joint log density of each sample up to its normaliser, the same for all N samples
        score = torch.zeros(self.num_trials, num_samples, device=self.device)  # (B, N)
        score.index_add_(0, trial, log_density)
        kept = score.argmax(dim=1)  # (B,)
        kept_value = value.gather(1, kept[trial][:, None])[:, 0]  # (P,)
        kept_value[ends[0] : ends[1]] = log_theta_of_value(kept_value[ends[0] : ends[1]])
        log_theta = torch.empty(a.numel(), device=self.device)  # (B K,) log theta of the kept sample
        log_theta[arms] = kept_value
        log_theta[unpulled] = torch.rand(unpulled.numel(), generator=self.generator, device=self.device).neg_().add_(1.0).log_()
        return log_theta.view(self.num_trials, k).argmax(dim=1)


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
    param_range = Interval(0.0)  # a confidence width

    def act(self, states, step_in_episode):
        return first_argmax(ucb1_index(self.successes, self.failures, float(self.param)))


class EpsilonGreedy(CountingBandit):
    """With probability epsilon a uniformly random arm, else the arm of highest mean S_i / T_i,
    ties to the lowest index ([1] 'eps-Greedy'); statistics start at one success and one failure."""

    name = "eps_greedy"
    param_name = "epsilon"
    param_grid = tuple(round(0.1 * i, 1) for i in range(11))  # [1] Sec. 3.1: epsilon in {0, ..., 1}
    default_param = 0.1
    param_range = Interval(0.0, 1.0)  # a probability

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
    param_range = None


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
    # numpy, not torch: some 10^3 small steps, where torch's per-call cost (and, on a loaded machine,
    # its thread pool) dominated: the gamma = 0.999 table took about 30 s instead of 1 s.
    lambdas = np.linspace(0.0, 1.0, GITTINS_GRID_SIZE)  # (G,)
    retire = lambdas / (1.0 - gamma)  # (G,)
    table = np.full((depth + 1, depth + 1), np.nan)
    s = np.arange(horizon + 1, dtype=np.float64)
    mean = (s + 1) / (horizon + 2)  # (m+1,) posterior means on the last layer
    value = np.maximum(lambdas[None, :], mean[:, None]) / (1.0 - gamma)  # (m+1, G)
    for m in range(horizon - 1, -1, -1):  # layer m: states with s + f = m, s = 0..m
        mean = ((s[: m + 1] + 1) / (m + 2))[:, None]  # (m+1, 1)
        # pull: success -> (s+1, f) = index s+1 of layer m+1; failure -> (s, f+1) = index s
        cont = mean * (1.0 + gamma * value[1:]) + (1.0 - mean) * gamma * value[:-1]  # (m+1, G)
        if m <= depth:
            advantage = cont - retire  # (m+1, G), decreasing in lambda
            below = np.clip((advantage > 0).sum(axis=1), 1, GITTINS_GRID_SIZE - 1)  # first grid point <= 0
            lo, hi = below - 1, below
            rows = np.arange(m + 1)
            a_lo, a_hi = advantage[rows, lo], advantage[rows, hi]
            frac = np.clip(a_lo / (a_lo - a_hi), 0.0, 1.0)
            table[rows, m - rows] = lambdas[lo] + frac * (lambdas[hi] - lambdas[lo])  # (m+1,)
        value = np.maximum(cont, retire[None, :])
    return torch.from_numpy(table)


class GittinsBandit(CountingBandit):
    """Pulls the arm of highest Gittins index [5] for its Beta posterior ([1] 'Gittins'); ties to the
    lowest arm. The discount is tuned ([1] Sec. 3.1: 'the best approximation per setting')."""

    name = "gittins"
    param_name = "discount"
    param_grid = (0.9, 0.99, 0.999, 0.9999)
    default_param = 0.999
    param_range = Interval(0.0, 1.0, low_open=True, high_open=True)  # a discount gamma [5]

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
            "the posterior states grow super-exponentially with n (n=100 is out of reach)"
        )
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
            keys.append(sum(d * base**i for i, d in enumerate(digits)))
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


BANDIT_BASELINES = {
    cls.name: cls
    for cls in (
        RandomBandit,
        GittinsBandit,
        ThompsonSampling,
        OptimisticThompsonSampling,
        UCB1,
        EpsilonGreedy,
        Greedy,
        OracleBandit,
        BayesOptimalBandit,
    )
}
