"""Random tabular MDPs ([1] Sec. 3.2) and exact planning, against independent references."""

import itertools

import numpy as np
import pytest
import torch
from scipy import stats

from rl2lib.config import TaskConfig
from rl2lib.envs import MDPTasks, TrialEnv, optimal_episode_value, plan_finite_horizon
from rl2lib.sampling import sample_categorical, sample_dirichlet_flat

S, A, H = 10, 5, 10


@pytest.fixture(scope="module")
def tasks():
    return MDPTasks.sample(400, S, A, torch.Generator().manual_seed(0))


def test_transition_rows_are_distributions(tasks):
    probs = tasks.transition_probs
    assert probs.shape == (400, S, A, S)
    assert (probs >= 0).all()
    torch.testing.assert_close(probs.sum(-1), torch.ones(400, S, A), atol=1e-5, rtol=0)


def test_flat_dirichlet_marginals_are_beta_1_9(tasks):
    # A coordinate of a flat Dirichlet over 10 states is Beta(1, 9).
    coordinate = tasks.transition_probs[..., 0].flatten().double().numpy()
    assert stats.kstest(coordinate, stats.beta(1, S - 1).cdf).pvalue > 1e-3


def test_reward_means_are_normal_1_1(tasks):
    means = tasks.reward_means.flatten().double().numpy()  # 20,000 draws
    assert abs(means.mean() - 1.0) < 4 / np.sqrt(means.size)
    assert abs(means.var() - 1.0) < 4 * np.sqrt(2 / means.size)
    assert stats.kstest(means, stats.norm(1.0, 1.0).cdf).pvalue > 1e-3


def test_step_rewards_have_unit_noise(tasks):
    generator = torch.Generator().manual_seed(1)
    states = torch.zeros(tasks.num_tasks, dtype=torch.long)
    actions = torch.full((tasks.num_tasks,), 2, dtype=torch.long)
    noise = (
        torch.cat([tasks.step(states, actions, generator)[0] - tasks.expected_rewards(states, actions) for _ in range(25)])
        .double()
        .numpy()
    )
    assert stats.kstest(noise, stats.norm(0.0, 1.0).cdf).pvalue > 1e-3


def test_categorical_sampling_frequencies():
    probs = torch.tensor([0.05, 0.25, 0.0, 0.4, 0.3], dtype=torch.float64)
    draws = sample_categorical(probs.expand(200_000, 5), torch.Generator().manual_seed(2))
    counts = torch.bincount(draws, minlength=5).double().numpy()
    assert counts[2] == 0  # a zero-probability state is never drawn
    keep = probs.numpy() > 0
    assert stats.chisquare(counts[keep], 200_000 * probs.numpy()[keep]).pvalue > 1e-3


def test_next_state_frequencies_follow_the_task():
    tasks = MDPTasks.sample(1, S, A, torch.Generator().manual_seed(3))
    tasks = tasks.select(torch.zeros(50_000, dtype=torch.long))  # the same task 50,000 times
    states = torch.full((50_000,), 4, dtype=torch.long)
    actions = torch.full((50_000,), 1, dtype=torch.long)
    _, next_states = tasks.step(states, actions, torch.Generator().manual_seed(4))
    counts = torch.bincount(next_states, minlength=S).double().numpy()
    expected = 50_000 * tasks.transition_probs[0, 4, 1].double().numpy()
    assert stats.chisquare(counts, expected / expected.sum() * counts.sum()).pvalue > 1e-3


def test_flat_dirichlet_rows_sum_to_one():
    rows = sample_dirichlet_flat((1000, 7), torch.Generator().manual_seed(5), dtype=torch.float64)
    torch.testing.assert_close(rows.sum(-1), torch.ones(1000, dtype=torch.float64))
    # E[p_i] = 1/7 for every coordinate
    assert (rows.mean(0) - 1 / 7).abs().max() < 4 * np.sqrt(6 / 49 / 8 / 1000)


def test_episodes_restart_in_state_0():
    config = TaskConfig(task="mdp", num_traj=4)
    tasks = MDPTasks.sample(64, S, A, torch.Generator().manual_seed(6))
    env = TrialEnv(tasks, config, torch.Generator().manual_seed(7))
    obs = env.reset()
    assert (env.states == 0).all() and (obs[:, 0] == 1).all() and (obs[:, -1] == 1).all()
    generator = torch.Generator().manual_seed(8)
    ended_elsewhere = 0
    for t in range(config.trial_len):
        result = env.step(torch.randint(A, (64,), generator=generator))
        assert result.episode_done == ((t + 1) % H == 0)
        assert result.trial_done == (t + 1 == config.trial_len)
        if result.episode_done:
            assert (env.states == 0).all()
            assert (result.obs[:, 0] == 1).all() and (result.obs[:, -1] == 1).all()
            ended_elsewhere += int((result.next_states != 0).sum())
        else:
            assert torch.equal(env.states, result.next_states)
            assert (result.obs[:, -1] == 0).all()
    assert ended_elsewhere > 0  # the restart is the env's doing, not the task's
    with pytest.raises(RuntimeError):
        env.step(torch.zeros(64, dtype=torch.long))


def naive_value_iteration(rewards: np.ndarray, probs: np.ndarray, horizon: int) -> np.ndarray:
    """Q[h, s, a] by explicit loops over steps, states, actions and next states."""
    num_states, num_actions = rewards.shape
    q = np.zeros((horizon, num_states, num_actions))
    values = [0.0] * num_states
    for h in reversed(range(horizon)):
        for s, a in itertools.product(range(num_states), range(num_actions)):
            q[h, s, a] = rewards[s, a] + sum(probs[s, a, t] * values[t] for t in range(num_states))
        values = [max(q[h, s]) for s in range(num_states)]
    return q


def test_plan_finite_horizon_matches_naive_loops():
    generator = torch.Generator().manual_seed(9)
    small = MDPTasks.sample(3, 4, 3, generator)
    rewards = small.reward_means.double()
    probs = small.transition_probs.double()
    q = plan_finite_horizon(rewards, probs, 5)
    assert q.shape == (5, 3, 4, 3)
    for b in range(3):
        reference = naive_value_iteration(rewards[b].numpy(), probs[b].numpy(), 5)
        np.testing.assert_allclose(q[:, b].numpy(), reference, rtol=1e-12, atol=1e-12)
    small64 = MDPTasks(rewards, probs)
    torch.testing.assert_close(optimal_episode_value(small64, 5), q[0, :, 0].amax(-1))


def test_optimal_value_of_a_one_step_episode_is_the_best_reward():
    tasks = MDPTasks.sample(10, S, A, torch.Generator().manual_seed(10))
    torch.testing.assert_close(optimal_episode_value(tasks, 1, start_state=3), tasks.reward_means[:, 3].amax(-1))
