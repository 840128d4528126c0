"""Batched Bernoulli multi-armed bandits, the task distribution of [1] Sec. 3.1.

Arm i of a task pays 1 with probability p_i and 0 otherwise, p_i ~ Uniform[0, 1] independently
(a training curriculum may draw Beta(1, b) instead: `TrainConfig.train_prior_b`). A batch holds B
different tasks and steps them together as tensor operations.
References: [1] Duan et al. 2016, "RL^2: Fast Reinforcement Learning via Slow Reinforcement Learning".
"""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass
class BanditTasks:
    """B bandit tasks. A bandit is an MDP with one state (state 0) and episodes of one pull."""

    arm_probs: torch.Tensor  # (B, K) success probability of each arm

    @classmethod
    def sample(cls, num_tasks: int, num_actions: int, generator: torch.Generator, prior_b: float = 1.0) -> "BanditTasks":
        """Draw `num_tasks` tasks on the generator's device, p_i ~ Beta(1, prior_b): U[0, 1], the paper's, for
        prior_b = 1 (the same numbers as before the option existed), else 1 - U^(1 / prior_b) (inverse CDF)."""
        uniforms = torch.rand(num_tasks, num_actions, generator=generator, device=generator.device)  # (B, K)
        return cls(uniforms if prior_b == 1 else 1 - uniforms.pow(1 / prior_b))

    @property
    def num_tasks(self) -> int:
        return self.arm_probs.shape[0]

    @property
    def num_actions(self) -> int:
        return self.arm_probs.shape[1]

    @property
    def num_states(self) -> int:
        return 1

    @property
    def device(self) -> torch.device:
        return self.arm_probs.device

    def to(self, device: torch.device | str) -> "BanditTasks":
        return BanditTasks(self.arm_probs.to(device))

    def select(self, index: torch.Tensor) -> "BanditTasks":
        """The tasks at `index` (B',), e.g. trials drawn from a fixed pool."""
        return BanditTasks(self.arm_probs[index])

    def step(self, states: torch.Tensor, actions: torch.Tensor, generator: torch.Generator):
        """Pull arm `actions` (B,) in every task.

        Returns:
            rewards (B,) float 0/1, next_states (B,) long (always 0).
        """
        probs = self.arm_probs.gather(1, actions[:, None])[:, 0]  # (B,)
        uniforms = torch.rand(probs.shape, generator=generator, device=probs.device)  # (B,)
        rewards = (uniforms < probs).to(self.arm_probs.dtype)  # (B,)
        return rewards, torch.zeros_like(actions)

    def expected_rewards(self, states: torch.Tensor, actions: torch.Tensor) -> torch.Tensor:
        """E[r | a] = p_a, (B,)."""
        return self.arm_probs.gather(1, actions[:, None])[:, 0]
