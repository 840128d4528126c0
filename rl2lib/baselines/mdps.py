"""MDP baselines of [1] Table 2 (stub: the foundation issue fills this module)."""
from __future__ import annotations

import torch

from rl2lib.baselines.base import Baseline


class RandomMDP(Baseline):
    """Uniformly random actions."""

    name, task = "random", "mdp"

    def act(self, states, step_in_episode):
        a = self.config.num_actions
        return torch.randint(a, (self.num_trials,), generator=self.generator, device=self.device)


MDP_BASELINES = {cls.name: cls for cls in (RandomMDP,)}
