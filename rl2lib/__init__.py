"""rl2lib: a workbook library reproducing RL^2 and SNAIL on bandits and tabular MDPs.

References: [1] Duan et al. 2016, "RL^2: Fast Reinforcement Learning via Slow Reinforcement
Learning", arXiv:1611.02779; [2] Mishra et al. 2018, "A Simple Neural Attentive Meta-Learner",
arXiv:1707.03141.
"""

from rl2lib.threads import apply_wait_policy

apply_wait_policy()  # before any rl2lib module imports torch (see rl2lib.threads)

__version__ = "0.1.0"
