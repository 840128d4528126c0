"""Bandit baselines of [1] Table 1 against independent references: closed forms, a naive recursive
Gittins calibration, scipy's Beta distribution, and (slow) the published table.

References: [1] Duan et al. 2016, "RL^2", arXiv:1611.02779, Table 1; [2] Gittins, Glazebrook &
Weber 2011, "Multi-armed Bandit Allocation Indices", Table 8.
"""

import math
from functools import lru_cache

import numpy as np
import pytest
import scipy.stats
import torch

from rl2lib.baselines.bandits import (
    BANDIT_BASELINES,
    bayes_optimal_expected_total,
    gittins_index_table,
    gittins_lookahead,
    ucb1_index,
)
from rl2lib.config import ConfigError, TaskConfig
from rl2lib.sampling import sample_beta
from rl2lib.evaluate import evaluate_baseline, tune_baseline

COLUMNS = {
    "random": "Random",
    "gittins": "Gittins",
    "ts": "TS",
    "ots": "OTS",
    "ucb1": "UCB1",
    "eps_greedy": "eps_Greedy",
    "greedy": "Greedy",
}


def make_agent(name, num_actions, num_traj=10, param=None, num_trials=1, seed=0):
    agent = BANDIT_BASELINES[name](TaskConfig(num_actions=num_actions, num_traj=num_traj), param)
    agent.reset(num_trials, torch.device("cpu"), torch.Generator().manual_seed(seed))
    return agent


def pull(agent, arm, reward):
    zeros = torch.zeros(1, dtype=torch.long)
    agent.update(zeros, torch.tensor([arm]), torch.tensor([float(reward)]), zeros, True)


def test_random_scores_half_of_n():
    result = evaluate_baseline(TaskConfig(num_actions=5, num_traj=100), "random")
    assert abs(result.mean - 50.0) <= 3 * result.se


def test_oracle_matches_closed_form_and_beats_every_baseline():
    config = TaskConfig(num_actions=5, num_traj=10)
    oracle = evaluate_baseline(config, "oracle")
    assert abs(oracle.mean - 10 * 5 / 6) <= 3 * oracle.se  # n E[max of k uniforms] = n k / (k + 1)
    for name in BANDIT_BASELINES:
        if name != "oracle":
            assert evaluate_baseline(config, name).mean < oracle.mean, name


def test_greedy_breaks_ties_to_the_lowest_arm():
    agent = make_agent("greedy", num_actions=3)
    states = torch.zeros(1, dtype=torch.long)
    assert agent.act(states, 0).item() == 0  # all arms at 1/2
    pull(agent, 0, 0)  # arm 0: 1/3 < 1/2 = arms 1, 2
    assert agent.act(states, 0).item() == 1
    pull(agent, 1, 1)
    pull(agent, 1, 0)  # arm 1: 2/4 ties arm 2's 1/2 exactly
    assert agent.act(states, 0).item() == 1
    pull(agent, 1, 0)  # arm 1: 2/5 < 1/2
    assert agent.act(states, 0).item() == 2
    # epsilon-greedy at epsilon 0 is the same policy
    eps_agent = make_agent("eps_greedy", num_actions=3, param=0.0)
    for arm, reward in ((0, 0), (1, 1), (1, 0)):
        pull(eps_agent, arm, reward)
    assert eps_agent.act(states, 0).item() == 1


def test_ucb1_index_by_hand():
    successes = torch.tensor([[2.0, 1.0]], dtype=torch.float64)  # started at 1 success, 1 failure
    failures = torch.tensor([[1.0, 3.0]], dtype=torch.float64)
    index = ucb1_index(successes, failures, 0.5)[0]
    t = 7.0  # all pulls, pseudo-counts included
    assert index[0].item() == pytest.approx(2 / 3 + 0.5 * math.sqrt(2 * math.log(t) / 3), rel=1e-12)
    assert index[1].item() == pytest.approx(1 / 4 + 0.5 * math.sqrt(2 * math.log(t) / 4), rel=1e-12)
    agent = make_agent("ucb1", num_actions=2, param=0.5)
    agent.successes, agent.failures = successes.clone(), failures.clone()
    assert agent.act(torch.zeros(1, dtype=torch.long), 0).item() == 0


def naive_gittins_index(s, f, discount, horizon, tol=1e-7):
    """Bisection on the safe reward lambda; the arm's value by plain memoised recursion to `horizon`."""

    def continuation_minus_retire(lam):
        @lru_cache(maxsize=None)
        def value(a, b):  # a, b: posterior successes / failures; cut-off arms are valued as known
            mean = (a + 1) / (a + b + 2)
            if a + b >= horizon:
                return max(lam, mean) / (1 - discount)
            cont = mean * (1 + discount * value(a + 1, b)) + (1 - mean) * discount * value(a, b + 1)
            return max(lam / (1 - discount), cont)

        mean = (s + 1) / (s + f + 2)
        cont = mean * (1 + discount * value(s + 1, f)) + (1 - mean) * discount * value(s, f + 1)
        return cont - lam / (1 - discount)

    low, high = 0.0, 1.0
    while high - low > tol:
        mid = (low + high) / 2
        low, high = (mid, high) if continuation_minus_retire(mid) > 0 else (low, mid)
    return (low + high) / 2


def test_gittins_index_against_naive_calibration():
    discount, depth = 0.9, 4
    table = gittins_index_table(discount, depth)
    horizon = depth + gittins_lookahead(discount)
    for s, f in ((0, 0), (1, 0), (0, 1), (2, 1), (0, 4), (3, 1)):
        assert table[s, f].item() == pytest.approx(naive_gittins_index(s, f, discount, horizon), abs=2e-4)
    # the index exceeds the posterior mean and orders arms of equal mean by their uncertainty
    assert table[0, 0] > 0.5 and table[0, 0] > table[1, 1]
    # [2] Table 8 (Beta prior, a = b = 1, discount 0.9): 0.7029
    assert table[0, 0].item() == pytest.approx(0.7029, abs=1e-3)


def test_beta_sampler_against_scipy():
    generator = torch.Generator().manual_seed(3)
    for a, b in ((1, 1), (2, 7), (40, 15), (1, 6), (5, 1)):  # both-above-1 and the closed-form kinds
        draws = sample_beta(torch.full((20000,), float(a)), torch.full((20000,), float(b)), generator)
        assert scipy.stats.kstest(draws.double().numpy(), scipy.stats.beta(a, b).cdf).pvalue > 0.01


def test_ots_action_frequencies_against_naive_scipy_reference():
    """OTS draws Beta(1, 1) arms only for the kept sample and uses closed forms where a or b is 1;
    its action distribution must match the plain definition: N full joint draws (scipy), keep the one
    of highest joint density (scipy's logpdf), pull its best arm."""
    a = torch.tensor([1.0, 1.0, 4.0, 3.0], dtype=torch.float64)  # arm 0 unpulled, 1: Beta(1, 3), ...
    b = torch.tensor([1.0, 3.0, 2.0, 1.0], dtype=torch.float64)
    num_samples, trials = 4, 40000
    agent = make_agent("ots", num_actions=4, param=num_samples, num_trials=trials, seed=5)
    agent.successes, agent.failures = a.repeat(trials, 1), b.repeat(trials, 1)
    ours = torch.bincount(agent.act(torch.zeros(trials, dtype=torch.long), 0), minlength=4).double() / trials
    rng = np.random.default_rng(7)
    dist = scipy.stats.beta(a.numpy(), b.numpy())
    theta = dist.rvs(size=(trials, num_samples, 4), random_state=rng)  # (T, N, K)
    kept = dist.logpdf(theta).sum(-1).argmax(1)  # (T,)
    naive = np.bincount(theta[np.arange(trials), kept].argmax(1), minlength=4) / trials
    # binomial SE of a frequency is at most 0.0025 at 40000 trials: 4 SE
    assert np.abs(ours.numpy() - naive).max() < 0.01, (ours, naive)


def test_bayes_optimal_closed_forms():
    assert bayes_optimal_expected_total(2, 1) == pytest.approx(0.5, abs=1e-12)
    # n = 2: pull a fresh arm (1/2); after a success stay (2/3), after a failure switch (1/2)
    for k in (2, 5, 50):
        assert bayes_optimal_expected_total(k, 2) == pytest.approx(0.5 + 0.5 * 2 / 3 + 0.5 * 0.5, abs=1e-12)
    # more arms never hurt, and k >= n behaves like k = n (unpulled arms are interchangeable)
    assert bayes_optimal_expected_total(5, 10) < bayes_optimal_expected_total(10, 10)
    assert bayes_optimal_expected_total(10, 10) == pytest.approx(bayes_optimal_expected_total(50, 10), abs=1e-12)
    with pytest.raises(ConfigError, match="n <= 10"):
        bayes_optimal_expected_total(5, 100)


def test_bayes_optimal_agent_matches_its_exact_value():
    config = TaskConfig(num_actions=5, num_traj=10)
    exact = bayes_optimal_expected_total(5, 10)
    assert exact == pytest.approx(6.66, abs=0.01)  # the value quoted in shared/paper/README.md
    result = evaluate_baseline(config, "bayes_optimal", num_trials=4000, seed=1)
    assert abs(result.mean - exact) <= 3 * result.se
    for name in ("greedy", "gittins"):
        assert evaluate_baseline(config, name, num_trials=4000, seed=1).mean < result.mean + 3 * result.se


def published(num_traj, num_actions):
    """A row of RL^2 Table 1 from the package's copy of the published tables (rl2lib/data)."""
    from rl2lib.paper import load_table

    for row in load_table("rl2_bandits"):
        if int(row["n"]) == num_traj and int(row["k"]) == num_actions:
            return row
    raise KeyError((num_traj, num_actions))


@pytest.mark.slow
@pytest.mark.parametrize("num_traj,num_actions", [(10, 5), (100, 5)])
@pytest.mark.parametrize("name", list(COLUMNS))
def test_matches_published_table(name, num_traj, num_actions):
    config = TaskConfig(num_actions=num_actions, num_traj=num_traj)
    param, _ = tune_baseline(config, name)
    result = evaluate_baseline(config, name, param)
    paper = float(published(num_traj, num_actions)[COLUMNS[name]])
    relative = 0.015 if name == "gittins" else 0.01
    assert abs(result.mean - paper) <= max(3 * result.se, relative * paper), (param, result.mean, paper)
