"""Batched task distributions and the RL^2 trial protocol."""

from rl2lib.envs.bandit import BanditTasks
from rl2lib.envs.mdp import MDPTasks, optimal_episode_value, plan_finite_horizon
from rl2lib.envs.trial import StepResult, Tasks, TrialEnv, sample_tasks, seeded_tasks

__all__ = [
    "BanditTasks",
    "MDPTasks",
    "StepResult",
    "Tasks",
    "TrialEnv",
    "optimal_episode_value",
    "plan_finite_horizon",
    "sample_tasks",
    "seeded_tasks",
]
