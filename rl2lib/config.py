"""Frozen configuration dataclasses, one per concern.

Every field names the paper symbol it stands for and where its default comes from.
References: [1] Duan et al. 2016, "RL^2", arXiv:1611.02779; [2] Mishra et al. 2018, "SNAIL",
arXiv:1707.03141. The command line (`rl2lib.train`, `rl2lib.evaluate`) and the notebooks'
`parameters` cells are two doors into these same classes.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

TASK_NAMES = ("bandit", "mdp")


class ConfigError(ValueError):
    """An impossible setting. Its message is one line: what is wrong and what is allowed."""


@dataclass(frozen=True)
class TaskConfig:
    """One cell of the papers' tables: a task distribution and the trial length."""

    task: str = "bandit"
    """'bandit' (Bernoulli arms, [1] Sec. 3.1) or 'mdp' (random tabular MDPs, [1] Sec. 3.2)."""
    num_actions: int = 5
    """k: arms of the bandit, or actions of the MDP (5 in [1] Sec. 3.2)."""
    num_traj: int = 10
    """n: episodes per trial ([1] Tables 1-2 columns)."""
    traj_len: int | None = None
    """Steps per episode: 1 for bandits, 10 for MDPs ([1] Sec. 3.2). None picks the task's value."""
    num_states: int | None = None
    """|S|: 10 for MDPs ([1] Sec. 3.2); a bandit has one state. None picks the task's value."""

    def __post_init__(self) -> None:
        if self.task not in TASK_NAMES:
            raise ConfigError(f"unknown task {self.task!r}; allowed: {', '.join(TASK_NAMES)}")
        if self.traj_len is None:
            object.__setattr__(self, "traj_len", 1 if self.task == "bandit" else 10)
        if self.num_states is None:
            object.__setattr__(self, "num_states", 1 if self.task == "bandit" else 10)
        if self.task == "bandit" and self.num_actions < 2:
            raise ConfigError(f"a bandit needs at least 2 arms, got num_actions={self.num_actions}")
        if self.num_actions < 1:
            raise ConfigError(f"num_actions must be >= 1, got {self.num_actions}")
        if self.num_traj < 1:
            raise ConfigError(f"num_traj (episodes per trial) must be >= 1, got {self.num_traj}")
        if self.task == "bandit" and self.traj_len != 1:
            raise ConfigError(f"a bandit episode is one pull: traj_len must be 1, got {self.traj_len}")
        if self.traj_len < 1:
            raise ConfigError(f"traj_len must be >= 1, got {self.traj_len}")
        if self.task == "bandit" and self.num_states != 1:
            raise ConfigError(f"a bandit has one state: num_states must be 1, got {self.num_states}")
        if self.num_states < 1:
            raise ConfigError(f"num_states must be >= 1, got {self.num_states}")

    @property
    def trial_len(self) -> int:
        """T = n * episode length: environment steps in one trial."""
        return self.num_traj * self.traj_len

    @property
    def obs_size(self) -> int:
        """Width of the RL^2 input: one-hot state, one-hot previous action, reward, done flag."""
        return self.num_states + self.num_actions + 2

    def to_dict(self) -> dict:
        return asdict(self)
