"""Sampling for training: B whole trials of a policy, each on its own task, kept as the PPO update reads them.

`collect_trials` plays them through the one trial loop (`rl2lib.agents.play_trials`, [1] Sec. 2.2:
the policy's memory is fresh at every trial's start and carried across the episode boundaries
inside it) and returns a `RolloutBatch`: inputs, actions, log-probabilities, values and rewards,
time-major (T, B), with T = n * episode length the trial length.
References: [1] Duan et al. 2016, "RL^2".
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from rl2lib.agents import PolicyAgent, play_trials
from rl2lib.config import TaskConfig
from rl2lib.envs import Tasks, TrialEnv


@dataclass
class RolloutBatch:
    """B whole trials, time-major."""

    obs: torch.Tensor  # (T, B, O) the policy's input at each step: the RL^2 input (and its clock, `PolicyAgent`)
    actions: torch.Tensor  # (T, B) long
    log_probs: torch.Tensor  # (T, B) log pi_old(a_t | history)
    values: torch.Tensor  # (T, B) the value head's output (normalised units when returns are)
    rewards: torch.Tensor  # (T, B)
    episode_done: torch.Tensor  # (T,) bool, step t ended an episode
    trial_done: torch.Tensor  # (T,) bool, step t ended the trial (only the last)

    @property
    def totals(self) -> torch.Tensor:
        """Undiscounted total reward of each trial, (B,)."""
        return self.rewards.sum(0)

    @staticmethod
    def join(batches: list["RolloutBatch"]) -> "RolloutBatch":
        """Batches of trials of the same length, played one after another, as one (T, B_1 + B_2 + ...)."""
        if len(batches) == 1:
            return batches[0]
        trials = [
            torch.cat([getattr(b, name) for b in batches], dim=1) for name in ("obs", "actions", "log_probs", "values", "rewards")
        ]
        return RolloutBatch(*trials, batches[0].episode_done, batches[0].trial_done)


@torch.no_grad()
def collect_trials(
    policy: torch.nn.Module,
    tasks: Tasks,
    task_config: TaskConfig,
    env_generator: torch.Generator,
    action_generator: torch.Generator,
    greedy: bool = False,
    values: bool = True,
) -> RolloutBatch:
    """Play one whole trial on each of the B `tasks` with `policy`.

    Args:
        policy: a model as `rl2lib.agents.PolicyAgent` plays it.
        tasks: B tasks (BanditTasks or MDPTasks) on the policy's device.
        env_generator / action_generator: the environment's and the action sampler's randomness.
        greedy: argmax actions instead of sampling (evaluation option).
        values: step the value network (False for playing only: the batch's values may be NaN).

    Returns:
        RolloutBatch of (T, B) tensors.
    """
    agent = PolicyAgent(policy, action_generator, greedy, values)
    record = play_trials(agent, TrialEnv(tasks, task_config, env_generator))
    return RolloutBatch(
        agent.obs, record.actions, agent.log_probs, agent.values, record.rewards.float(), record.episode_done, record.trial_done
    )
