"""Policies with a full-trial `forward` (PPO update) and a one-step `step` with a state (sampling).

Both take `(obs_size, num_actions, max_len, hidden_size=256, ...)` and provide
`initial_state(B, device, values=True)`, `forward(obs (T, B, O)) -> logits (T, B, A), values (T, B)`
from a trial's start, and `step(obs (B, O), state) -> logits (B, A), values (B,), state`; T calls of
`step` from `initial_state` equal `forward` over the same T inputs (with `values` False, for playing
only, the same logits and values that may be NaN); `build_policy` makes either from its configs.
References: [1] Duan et al. 2016, "RL^2" (GRUPolicy); [2] Mishra et al. 2018, "SNAIL" (SNAILPolicy).
"""

from __future__ import annotations

import torch

from rl2lib.config import ModelConfig, TaskConfig
from rl2lib.models.gru import GRUPolicy
from rl2lib.models.snail import SNAILPolicy, SNAILState

__all__ = ["GRUPolicy", "SNAILPolicy", "SNAILState", "build_policy", "set_temperature"]


def build_policy(task: TaskConfig, model: ModelConfig) -> torch.nn.Module:
    """The policy network of `model` for trials of `task`, initialised from torch's global stream."""
    obs_size = task.obs_size + model.clock  # the clock column, when the agent appends one
    if model.model_type == "gru":
        return GRUPolicy(
            obs_size,
            task.num_actions,
            max_len=task.trial_len,
            hidden_size=model.hidden_size,
            separate_value=model.separate_value,
            layer_norm=model.layer_norm,
            nonlinearity=model.nonlinearity,
            clock=model.clock,
        )
    return SNAILPolicy(
        obs_size,
        task.num_actions,
        max_len=task.trial_len,
        policy_size=model.snail_width,
        value_size=model.snail_width // 2,
        first_dilation=model.first_dilation,
        depth_len=model.depth_len,
        clock=model.clock,
    )


@torch.no_grad()
def set_temperature(policy: torch.nn.Module, temperature: float) -> None:
    """Divide `policy`'s logits by `temperature`, in place: its policy head's weights and bias, so that it
    samples from softmax(logits / temperature) on every input and its values are unchanged."""
    policy.policy_head.weight.div_(temperature)
    policy.policy_head.bias.div_(temperature)
