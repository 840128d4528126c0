"""Batched random tabular MDPs, the task distribution of [1] Sec. 3.2, and exact planning.

A task has |S| = 10 states and |A| = 5 actions. The reward of (s, a) is Normal(mu_sa, 1) with
mu_sa ~ Normal(1, 1); the next-state distribution of (s, a) is drawn from a flat Dirichlet(1).
Every episode of `traj_len` = 10 steps starts in state 0. `plan_finite_horizon` is the
finite-horizon value iteration shared by the known-MDP oracle and the posterior-sampling baselines.
References: [1] Duan et al. 2016, "RL^2"; [3] Osband et al. 2013, "(More) efficient RL via
posterior sampling" (the TabulaRL baselines).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from rl2lib.sampling import sample_categorical, sample_dirichlet_flat


@dataclass
class MDPTasks:
    """B tabular MDP tasks stepped together."""

    reward_means: torch.Tensor  # (B, S, A) mu_sa
    transition_probs: torch.Tensor  # (B, S, A, S) P(s' | s, a)

    @classmethod
    def sample(cls, num_tasks: int, num_states: int, num_actions: int, generator: torch.Generator) -> "MDPTasks":
        """Draw tasks with mu_sa ~ N(1, 1) and P(. | s, a) ~ Dirichlet(1) ([1] Sec. 3.2)."""
        device = generator.device
        reward_means = 1.0 + torch.randn(num_tasks, num_states, num_actions, generator=generator, device=device)
        transition_probs = sample_dirichlet_flat((num_tasks, num_states, num_actions, num_states), generator)
        return cls(reward_means, transition_probs)

    @property
    def num_tasks(self) -> int:
        return self.reward_means.shape[0]

    @property
    def num_states(self) -> int:
        return self.reward_means.shape[1]

    @property
    def num_actions(self) -> int:
        return self.reward_means.shape[2]

    @property
    def device(self) -> torch.device:
        return self.reward_means.device

    def to(self, device: torch.device | str) -> "MDPTasks":
        return MDPTasks(self.reward_means.to(device), self.transition_probs.to(device))

    def select(self, index: torch.Tensor) -> "MDPTasks":
        """The tasks at `index` (B',), e.g. trials drawn from a fixed pool."""
        return MDPTasks(self.reward_means[index], self.transition_probs[index])

    def step(self, states: torch.Tensor, actions: torch.Tensor, generator: torch.Generator):
        """Take `actions` (B,) in `states` (B,).

        Returns:
            rewards (B,) ~ N(mu_sa, 1), next_states (B,) ~ P(. | s, a).
        """
        batch = torch.arange(self.num_tasks, device=states.device)
        means = self.reward_means[batch, states, actions]  # (B,)
        rewards = means + torch.randn(means.shape, generator=generator, device=means.device, dtype=means.dtype)
        next_states = sample_categorical(self.transition_probs[batch, states, actions], generator)  # (B,)
        return rewards, next_states

    def expected_rewards(self, states: torch.Tensor, actions: torch.Tensor) -> torch.Tensor:
        """E[r | s, a] = mu_sa, (B,)."""
        batch = torch.arange(self.num_tasks, device=states.device)
        return self.reward_means[batch, states, actions]


def plan_finite_horizon(reward_means: torch.Tensor, transition_probs: torch.Tensor, horizon: int) -> torch.Tensor:
    """Finite-horizon value iteration (undiscounted, as the trial total is undiscounted).

    Args:
        reward_means: (B, S, A) expected reward of each (s, a).
        transition_probs: (B, S, A, S) next-state distributions (rows need not be normalised
            exactly: optimistic MDPs pass their own).
        horizon: H, steps left in the episode at its start.

    Returns:
        q_values: (H, B, S, A); q_values[h] is Q with H - h steps to go, so step h of an episode
        acts greedily on q_values[h].

    Each expectation sum_t p(t | s, a) V(t) is summed elementwise in the order of t, not by a batched
    BLAS product, whose last bits may change with the thread count and the load (MKL's dynamic
    threading): a last-bit change can flip an argmax, and as the posterior samplers draw for all
    trials from one generator, one flipped action changes every later draw. So a baseline plays
    the same trials under any thread count.
    """
    probs = transition_probs.movedim(-1, 0).contiguous()  # (S', B, S, A): one slice per next state
    q_values = reward_means.new_empty((horizon,) + tuple(reward_means.shape))  # (H, B, S, A)
    next_values = reward_means.new_zeros(reward_means.shape[:2])  # (B, S) value with 0 steps to go
    expected, term = torch.empty_like(reward_means), torch.empty_like(reward_means)  # (B, S, A)
    for step in reversed(range(horizon)):
        values = next_values.T[:, :, None, None]  # (S', B, 1, 1)
        torch.mul(probs[0], values[0], out=expected)  # sum_t p(t | s, a) V(t), term by term in t's order
        for t in range(1, probs.shape[0]):
            torch.mul(probs[t], values[t], out=term)
            expected.add_(term)
        torch.add(reward_means, expected, out=q_values[step])
        next_values = q_values[step].amax(-1)
    return q_values


def optimal_episode_value(tasks: MDPTasks, horizon: int, start_state: int = 0) -> torch.Tensor:
    """Expected total reward of the optimal policy of each known task over one episode, (B,)."""
    q_values = plan_finite_horizon(tasks.reward_means, tasks.transition_probs, horizon)
    return q_values[0, :, start_state].amax(-1)
