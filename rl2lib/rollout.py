"""Sampling: B whole trials at once, each on its own task, stepped as tensors ([1] Sec. 2.2).

The policy's recurrent state (GRU hidden state, SNAIL cache) starts fresh at every trial's start
and is carried across the episode boundaries inside the trial: that memory is what RL^2 learns to
use. Everything is time-major, (T, B), with T = n * episode length the trial length.
References: [1] Duan et al. 2016, "RL^2".
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from rl2lib.config import TaskConfig
from rl2lib.envs import Tasks, TrialEnv


@dataclass
class RolloutBatch:
    """B whole trials, time-major."""

    obs: torch.Tensor  # (T, B, obs_size) the RL^2 input at each step
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


def sample_actions(logits: torch.Tensor, generator: torch.Generator, greedy: bool = False) -> torch.Tensor:
    """Actions (B,) from logits (B, A): argmax if greedy, else a Gumbel-max draw (= softmax sampling)."""
    if greedy:
        return logits.argmax(-1)
    uniforms = torch.rand(logits.shape, generator=generator, device=logits.device, dtype=logits.dtype)
    gumbels = -torch.log(-torch.log(uniforms.clamp_(min=1e-20)))
    return (logits + gumbels).argmax(-1)


@torch.no_grad()
def collect_trials(policy: torch.nn.Module, tasks: Tasks, task_config: TaskConfig,
                   env_generator: torch.Generator, action_generator: torch.Generator,
                   greedy: bool = False) -> RolloutBatch:
    """Play one whole trial on each of the B `tasks` with `policy`.

    Args:
        policy: a model with `initial_state(B, device)` and `step(obs (B, O), state)` returning
            logits (B, A), values (B,) and the next state.
        tasks: B tasks (BanditTasks or MDPTasks) on the policy's device.
        env_generator / action_generator: the environment's and the action sampler's randomness.
        greedy: argmax actions instead of sampling (evaluation option).

    Returns:
        RolloutBatch of (T, B) tensors.
    """
    env = TrialEnv(tasks, task_config, env_generator)
    T, B, device = task_config.trial_len, tasks.num_tasks, tasks.device
    obs = torch.zeros(T, B, task_config.obs_size, device=device)  # (T, B, O)
    actions = torch.zeros(T, B, dtype=torch.long, device=device)  # (T, B)
    log_probs = torch.zeros(T, B, device=device)  # (T, B)
    values = torch.zeros(T, B, device=device)  # (T, B)
    rewards = torch.zeros(T, B, device=device)  # (T, B)
    episode_done = torch.zeros(T, dtype=torch.bool)  # (T,)
    trial_done = torch.zeros(T, dtype=torch.bool)  # (T,)
    state = policy.initial_state(B, device)  # fresh memory at the trial's start
    obs[0] = env.reset()
    for t in range(T):
        logits, values[t], state = policy.step(obs[t], state)
        actions[t] = sample_actions(logits, action_generator, greedy)
        log_probs[t] = torch.log_softmax(logits, -1).gather(1, actions[t, :, None])[:, 0]
        result = env.step(actions[t])
        rewards[t] = result.rewards
        episode_done[t], trial_done[t] = result.episode_done, result.trial_done
        if t + 1 < T:
            obs[t + 1] = result.obs
    return RolloutBatch(obs, actions, log_probs, values, rewards, episode_done, trial_done)
