"""Bandit baselines of [1] Table 1 (stub: the foundation issue fills this module)."""
from __future__ import annotations

import torch

from rl2lib.baselines.base import Baseline


class RandomBandit(Baseline):
    """Pulls an arm uniformly at random: expected total n/2."""

    name, task = "random", "bandit"

    def act(self, states, step_in_episode):
        k = self.config.num_actions
        return torch.randint(k, (self.num_trials,), generator=self.generator, device=self.device)


BANDIT_BASELINES = {cls.name: cls for cls in (RandomBandit,)}
