"""The bandit task distribution of [1] Sec. 3.1: p_i ~ U[0, 1] independently, rewards Bernoulli(p_i).

References: [1] Duan et al. 2016, "RL^2", arXiv:1611.02779.
"""

import math

import scipy.stats
import torch

from rl2lib.envs import BanditTasks


def test_arm_probabilities_are_uniform():
    generator = torch.Generator().manual_seed(123)
    tasks = BanditTasks.sample(2000, 5, generator)
    assert tasks.arm_probs.shape == (2000, 5)
    probs = tasks.arm_probs.flatten().double().numpy()
    assert scipy.stats.kstest(probs, "uniform").pvalue > 0.01
    # arms independent of each other: correlation of arm 0 and arm 1 near 0 (SE 1 / sqrt(2000))
    corr = torch.corrcoef(tasks.arm_probs[:, :2].T.double())[0, 1].item()
    assert abs(corr) < 4 / math.sqrt(2000)


def test_a_training_prior_draws_beta_arms_and_b_1_draws_the_papers_numbers():
    """Beta(1, b) arms (`TrainConfig.train_prior_b`) follow its CDF 1 - (1 - p)^b; b = 1 gives the very
    numbers the paper's U[0, 1] draw gave before the option existed (the same generator state)."""
    tasks = BanditTasks.sample(4000, 5, torch.Generator().manual_seed(321), prior_b=3.0)
    probs = tasks.arm_probs.flatten().double().numpy()
    assert scipy.stats.kstest(probs, scipy.stats.beta(1, 3).cdf).pvalue > 0.01
    assert scipy.stats.kstest(probs, "uniform").pvalue < 1e-6
    paper = BanditTasks.sample(300, 5, torch.Generator().manual_seed(9), prior_b=1.0).arm_probs
    assert torch.equal(paper, torch.rand(300, 5, generator=torch.Generator().manual_seed(9)))


def test_rewards_are_bernoulli_of_the_pulled_arm():
    num_tasks = 20000
    arm_probs = torch.tensor([0.1, 0.5, 0.9]).repeat(num_tasks, 1)  # (B, 3)
    tasks = BanditTasks(arm_probs)
    generator = torch.Generator().manual_seed(7)
    states = torch.zeros(num_tasks, dtype=torch.long)
    for arm, p in enumerate((0.1, 0.5, 0.9)):
        actions = torch.full((num_tasks,), arm, dtype=torch.long)
        rewards, next_states = tasks.step(states, actions, generator)
        assert set(rewards.unique().tolist()) <= {0.0, 1.0}
        assert torch.equal(next_states, states)
        frequency = rewards.double().mean().item()
        assert abs(frequency - p) < 4 * math.sqrt(p * (1 - p) / num_tasks)
        assert torch.allclose(tasks.expected_rewards(states, actions), torch.full((num_tasks,), p))
