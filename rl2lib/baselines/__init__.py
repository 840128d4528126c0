"""The papers' non-learning baselines, keyed by task and lower-case name.

`BASELINES["bandit"]` holds the bandit baselines of [1] Table 1 plus the ceilings (bayes_optimal,
oracle); `BASELINES["mdp"]` those of [1] Table 2 plus the known-MDP oracle.
"""

from rl2lib.baselines.bandits import BANDIT_BASELINES
from rl2lib.baselines.base import Baseline
from rl2lib.baselines.mdps import MDP_BASELINES

BASELINES: dict[str, dict[str, type[Baseline]]] = {"bandit": BANDIT_BASELINES, "mdp": MDP_BASELINES}

__all__ = ["BASELINES", "Baseline"]
