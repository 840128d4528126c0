"""The interface every baseline implements, so one loop (`rl2lib.agents.play_trials`) plays them all.

A baseline acts in B trials at once. Per trial it keeps the statistics of what it has seen (counts,
posteriors); nothing is shared between trials. Bandits are played as one-state MDPs with
episodes of one step, so the same calls serve both task families.
"""

from __future__ import annotations

import torch

from rl2lib.config import TaskConfig
from rl2lib.params import Interval, ParameterError, check_value


class Baseline:
    """Base class. Subclasses set `name`, `task`, and, when tuned, `param_name`, `param_grid`,
    `default_param` (whose type, int or float, is the hyper-parameter's) and `param_range`."""

    name: str = ""
    task: str = ""  # "bandit" or "mdp"
    param_name: str | None = None  # the tuned hyper-parameter ([1] Sec. 3), if any
    param_grid: tuple = ()  # the papers' tuning grid for it
    default_param: float | int | None = None
    param_range: Interval | None = None  # the values it may take (a probability: [0, 1], ...)
    tasks = None  # the true tasks, set by `rl2lib.agents.play_trials`; only oracles may read them

    def __init__(self, task_config: TaskConfig, param=None):
        self.config = task_config
        self.param = self.check_param(param)

    @classmethod
    def check_param(cls, value):
        """The hyper-parameter to play with: `value` checked against `param_range`, the default if None.

        A baseline without a hyper-parameter takes only None or its fixed default (greedy's 0).
        Raises ParameterError, one line naming the parameter, the value and the allowed range.
        """
        if value is None:
            return cls.default_param
        if cls.param_name is None:
            if value == cls.default_param:
                return cls.default_param
            raise ParameterError(f"baseline {cls.name!r} has no hyper-parameter, got {value!r}")
        return check_value(f"{cls.param_name} of {cls.name}", value, type(cls.default_param), cls.param_range)

    @classmethod
    def tuning_trials(cls, task_config: TaskConfig, num_trials: int) -> int:
        """Trials per grid value when tuning: `num_trials`, unless a costly baseline asks for fewer."""
        return num_trials

    @classmethod
    def tuning_task(cls, task_config: TaskConfig) -> TaskConfig:
        """The setting the hyper-parameter is tuned at: the evaluated one, unless a baseline says otherwise."""
        return task_config

    def reset(self, num_trials: int, device: torch.device, generator: torch.Generator) -> None:
        """Forget everything: a new batch of trials on new tasks starts."""
        self.num_trials = num_trials
        self.device = device
        self.generator = generator

    def begin_episode(self) -> None:
        """Called before the first step of every episode (MDP baselines re-plan here)."""

    def act(self, states: torch.Tensor, step_in_episode: int) -> torch.Tensor:
        """Actions (B,) long for the current `states` (B,)."""
        raise NotImplementedError

    def update(
        self, states: torch.Tensor, actions: torch.Tensor, rewards: torch.Tensor, next_states: torch.Tensor, episode_done: bool
    ) -> None:
        """Record one transition (B,) each; `episode_done` marks the last step of an episode."""


class RandomBaseline(Baseline):
    """Uniformly random actions ([1] Tables 1-2, 'Random'); subclasses name the task."""

    name = "random"

    def act(self, states: torch.Tensor, step_in_episode: int) -> torch.Tensor:
        return torch.randint(self.config.num_actions, (self.num_trials,), generator=self.generator, device=self.device)
