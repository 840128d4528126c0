"""Policies with a full-trial `forward` (PPO update) and a one-step `step` with a state (sampling).

Both take `(obs_size, num_actions, max_len, hidden_size=256, ...)` and provide
`initial_state(B, device)`, `forward(obs (T, B, O)) -> logits (T, B, A), values (T, B)` from a
trial's start, and `step(obs (B, O), state) -> logits (B, A), values (B,), state`; T calls of
`step` from `initial_state` equal `forward` over the same T inputs.
References: [1] Duan et al. 2016, "RL^2" (GRUPolicy); [2] Mishra et al. 2018, "SNAIL" (SNAILPolicy).
"""
from rl2lib.models.gru import GRUPolicy
from rl2lib.models.snail import SNAILPolicy, SNAILState

__all__ = ["GRUPolicy", "SNAILPolicy", "SNAILState"]
