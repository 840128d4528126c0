"""The RL^2 trial protocol ([1] Sec. 2.2): n episodes on one task, memory kept across them.

At every step the agent sees the one-hot current state, the one-hot previous action, the previous
reward and a flag that the previous step ended an episode; at a trial's start these are action 0,
reward 0 and flag 1 (the authors' code). MDP episodes restart in state 0; the trial ends after n
episodes. `TrialEnv` steps B trials of B different tasks together; baselines and learned agents
are both played through it, so every number in the tables comes through the same code path.
References: [1] Duan et al. 2016, "RL^2".
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from rl2lib.config import TaskConfig
from rl2lib.envs.bandit import BanditTasks
from rl2lib.envs.mdp import MDPTasks

Tasks = BanditTasks | MDPTasks


def sample_tasks(task_config: TaskConfig, num_tasks: int, generator: torch.Generator, arm_prior_b: float = 1.0) -> Tasks:
    """Draw `num_tasks` independent tasks of the configured distribution; bandit arms from Beta(1, arm_prior_b)
    (1: the paper's uniform; `TrainConfig.train_prior_b` sets another for training tasks only)."""
    if task_config.task == "bandit":
        return BanditTasks.sample(num_tasks, task_config.num_actions, generator, arm_prior_b)
    return MDPTasks.sample(num_tasks, task_config.num_states, task_config.num_actions, generator)


def seeded_tasks(task_config: TaskConfig, num_tasks: int, seed: int, device: torch.device | str = "cpu") -> Tasks:
    """The same `num_tasks` tasks for the same seed on every device (drawn on the CPU, then moved)."""
    generator = torch.Generator().manual_seed(seed)
    return sample_tasks(task_config, num_tasks, generator).to(device)


def steps_left(trial_len: int, gamma: float, device: torch.device | str = "cpu") -> torch.Tensor:
    """(T,) the discounted count of the steps left at each step of a trial, this one included:
    sum_{l < T - t} gamma^l, so T - t for gamma 1 (ledger 14)."""
    left = torch.arange(trial_len, 0, -1, dtype=torch.float64)  # (T,) T - t
    counts = left if gamma == 1.0 else (1 - gamma**left) / (1 - gamma)
    return counts.to(device=device, dtype=torch.float32)


@dataclass
class StepResult:
    """What one synchronous step of all B trials returns."""

    obs: torch.Tensor  # (B, obs_size) input for the next step
    rewards: torch.Tensor  # (B,) reward of this step
    next_states: torch.Tensor  # (B,) state after this step (the episode's end state if it ended)
    episode_done: bool  # this step ended an episode (the next step starts in state 0)
    trial_done: bool  # this step ended the trial (the last of n episodes)


class TrialEnv:
    """B trials stepped in lock-step; all trials have the same length, so done flags are shared."""

    def __init__(self, tasks: Tasks, task_config: TaskConfig, generator: torch.Generator):
        if tasks.num_actions != task_config.num_actions or tasks.num_states != task_config.num_states:
            raise ValueError(
                f"tasks have {tasks.num_states} states and {tasks.num_actions} actions, "
                f"the config {task_config.num_states} and {task_config.num_actions}"
            )
        self.tasks = tasks
        self.config = task_config
        self.generator = generator
        self.num_trials = tasks.num_tasks
        self.device = tasks.device
        self.states = torch.zeros(self.num_trials, dtype=torch.long, device=self.device)  # (B,)
        self.step_in_trial = 0
        self.step_in_episode = 0

    def observe(self, prev_actions: torch.Tensor, prev_rewards: torch.Tensor, episode_done: bool) -> torch.Tensor:
        """RL^2 input (B, obs_size): [one-hot state | one-hot prev action | prev reward | done flag]."""
        cfg = self.config
        obs = torch.zeros(self.num_trials, cfg.obs_size, device=self.device)  # (B, obs_size)
        obs[torch.arange(self.num_trials, device=self.device), self.states] = 1.0
        obs[torch.arange(self.num_trials, device=self.device), cfg.num_states + prev_actions] = 1.0
        obs[:, -2] = prev_rewards
        obs[:, -1] = float(episode_done)
        return obs

    def reset(self) -> torch.Tensor:
        """Start the trials: state 0, previous action 0, reward 0, flag 1. Returns obs (B, obs_size)."""
        self.states = torch.zeros(self.num_trials, dtype=torch.long, device=self.device)
        self.step_in_trial = 0
        self.step_in_episode = 0
        zeros = torch.zeros(self.num_trials, device=self.device)
        return self.observe(zeros.long(), zeros, episode_done=True)

    def step(self, actions: torch.Tensor) -> StepResult:
        """Take `actions` (B,) long in every trial."""
        if self.step_in_trial >= self.config.trial_len:
            raise RuntimeError("the trial has ended: call reset()")
        rewards, next_states = self.tasks.step(self.states, actions, self.generator)
        self.step_in_trial += 1
        self.step_in_episode += 1
        episode_done = self.step_in_episode == self.config.traj_len
        trial_done = self.step_in_trial == self.config.trial_len
        if episode_done:
            self.step_in_episode = 0
            self.states = torch.zeros_like(next_states)  # [1] Sec. 3.2: every episode starts in state 0
        else:
            self.states = next_states
        obs = self.observe(actions, rewards, episode_done)
        return StepResult(obs, rewards, next_states, episode_done, trial_done)
