"""The RL^2 policy: a GRU over the whole trial with a softmax policy head and a value head.

[1] Sec. 2.2-2.3 feed the RL^2 input (one-hot state, one-hot previous action, previous reward,
episode-done flag) to a GRU whose hidden state is kept across the episodes of a trial and starts
at zero at every trial's start. The authors' code used 256 units and a *separate* GRU of 256
units as the value baseline (`separate_value=True`); the default shares one trunk between two
linear heads, which is cheaper and what most reproductions do. Their GRU's candidate activation
was a ReLU (`nonlinearity="relu"`) where PyTorch's is tanh. Their weight normalisation is not
reproduced; `layer_norm=True` normalises the GRU output before the heads instead (as the public
PyTorch reproduction did). Heads use orthogonal init, gain 0.01 for the policy head so that the
first policy is near uniform, gain 1 for the value head (a common PPO practice, e.g. CleanRL).
References: [1] Duan et al. 2016, "RL^2", arXiv:1611.02779.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from rl2lib.config import GRU_NONLINEARITIES


def init_heads(policy_head: nn.Linear, value_head: nn.Linear) -> None:
    """Orthogonal init, gain 0.01 (near-uniform first policy) and 1.0 (value); zero biases."""
    nn.init.orthogonal_(policy_head.weight, gain=0.01)
    nn.init.zeros_(policy_head.bias)
    nn.init.orthogonal_(value_head.weight, gain=1.0)
    nn.init.zeros_(value_head.bias)


ACTIVATIONS = {name: getattr(torch, name) for name in GRU_NONLINEARITIES}
"""The GRU's candidate activation by name: PyTorch's tanh, or the ReLU of [1]'s code, whose unbounded
candidate can add up evidence over a long trial where tanh saturates at 1."""


def gru_cell(gru: nn.GRU, gi: Tensor, h: Tensor, activation=torch.tanh, out: Tensor | None = None) -> Tensor:
    """One step of a single-layer `nn.GRU`'s equations from the input's share gi = W_i x + b_i (B, 3H).

    r = sigmoid(W_ir x + b_ir + W_hr h + b_hr), z likewise, n = activation(W_in x + b_in + r * (W_hn h + b_hn)),
    h' = (1 - z) * n + z * h: PyTorch's GRU with tanh, [1]'s with relu. `out` (B, H) receives h' if given.
    """
    H = h.shape[-1]
    gh = torch.addmm(gru.bias_hh_l0, h, gru.weight_hh_l0.t())  # (B, 3H)
    rz = torch.sigmoid(gi[:, : 2 * H] + gh[:, : 2 * H])  # (B, 2H) reset and update gates
    n = activation(torch.addcmul(gi[:, 2 * H :], rz[:, :H], gh[:, 2 * H :]))  # (B, H)
    return torch.lerp(n, h, rz[:, H:], out=out) if out is not None else torch.lerp(n, h, rz[:, H:])


def gru_step(gru: nn.GRU, x: Tensor, h: Tensor, out: Tensor | None = None, activation=torch.tanh) -> Tensor:
    """One step (B, O) -> (B, H) of `gru` written out (`gru_cell`) rather than through `nn.GRU` on a
    length-1 sequence, to save its per-call overhead on large batches."""
    return gru_cell(gru, torch.addmm(gru.bias_ih_l0, x, gru.weight_ih_l0.t()), h, activation, out)


def gru_sequence(gru: nn.GRU, obs: Tensor, activation=torch.tanh) -> Tensor:
    """Outputs (T, B, H) of `gru` over obs (T, B, O) from a zero state, step by step in Python: the path
    of activations `nn.GRU` lacks. The inputs' share of the gates is one matrix product for all T."""
    T, B, _ = obs.shape
    gi = torch.addmm(gru.bias_ih_l0, obs.reshape(T * B, -1), gru.weight_ih_l0.t()).view(T, B, -1)  # (T, B, 3H)
    h = gi.new_zeros(B, gru.hidden_size)  # (B, H), in the dtype autocast gave gi
    outputs = []
    for gi_t in gi.unbind(0):  # one backward for all T slices, not a (T, B, 3H) zero tensor per step
        h = gru_cell(gru, gi_t, h, activation)
        outputs.append(h)
    return torch.stack(outputs)  # (T, B, H)


class GRUPolicy(nn.Module):
    """RL^2 GRU policy and value function ([1] Sec. 2.2).

    `forward` runs `nn.GRU` over the whole (T, B) sequence in one call (for the PPO update, with
    full backpropagation through time); `step` advances B trials by one step with the same weights
    (for sampling) and equals `forward` step by step.

    Args:
        obs_size: width O of the input: the RL^2 input (`TaskConfig.obs_size`), plus one with `clock`.
        num_actions: A, logits per step.
        max_len: trial length T; unused by a GRU, taken so that both models share a constructor.
        hidden_size: H, GRU units (256 in [1]'s code).
        separate_value: a second GRU of H units for the value baseline ([1]'s code) instead of a
            value head on the policy GRU.
        layer_norm: LayerNorm on each GRU output before its head(s).
        nonlinearity: the candidate activation, "tanh" (`nn.GRU`) or "relu" ([1]'s code; `forward` then
            steps through the trial in Python, `gru_sequence`).
        clock: the input's last column is the trial's clock (`ModelConfig.clock`), which
            `rl2lib.agents.PolicyAgent` appends.

    The state is a tensor (num_trunks, B, H), num_trunks = 2 with `separate_value` (policy trunk
    first), else 1; `initial_state` is all zeros, the start of every trial.
    """

    def __init__(
        self,
        obs_size: int,
        num_actions: int,
        max_len: int,
        hidden_size: int = 256,
        separate_value: bool = False,
        layer_norm: bool = False,
        nonlinearity: str = "tanh",
        clock: bool = False,
    ):
        super().__init__()
        self.obs_size, self.clock = obs_size, clock
        self.num_actions = num_actions
        self.max_len = max_len
        self.hidden_size = hidden_size
        self.separate_value = separate_value
        self.nonlinearity = nonlinearity
        self.activation = ACTIVATIONS[nonlinearity]
        self.policy_gru = nn.GRU(obs_size, hidden_size)
        self.value_gru = nn.GRU(obs_size, hidden_size) if separate_value else None
        self.policy_norm = nn.LayerNorm(hidden_size) if layer_norm else nn.Identity()
        self.value_norm = nn.LayerNorm(hidden_size) if layer_norm and separate_value else None
        self.policy_head = nn.Linear(hidden_size, num_actions)
        self.value_head = nn.Linear(hidden_size, 1)
        init_heads(self.policy_head, self.value_head)

    @property
    def num_trunks(self) -> int:
        return 2 if self.separate_value else 1

    def initial_state(self, batch_size: int, device: torch.device | str | None = None, values: bool = True) -> Tensor:
        """Fresh memory for B trials: zeros (num_trunks, B, H). `values` is SNAIL's option to skip the
        value network when playing; a GRU's value trunk holds (B, H) floats, so it is stepped regardless."""
        dtype = self.policy_head.weight.dtype
        return torch.zeros(self.num_trunks, batch_size, self.hidden_size, device=device, dtype=dtype)  # (n, B, H)

    def _heads(self, h_pi: Tensor, h_v: Tensor | None) -> tuple[Tensor, Tensor]:
        feat_pi = self.policy_norm(h_pi)
        feat_v = feat_pi if h_v is None else self.value_norm(h_v) if self.value_norm is not None else h_v
        return self.policy_head(feat_pi), self.value_head(feat_v).squeeze(-1)

    def forward(self, obs: Tensor) -> tuple[Tensor, Tensor]:
        """Whole trials from their start, one `nn.GRU` call each (full BPTT).

        Args:
            obs: (T, B, O) inputs from step 0 of each trial.
        Returns:
            logits (T, B, A) and values (T, B).
        """
        h_pi = self._trunk(self.policy_gru, obs)  # (T, B, H), from zeros = initial_state
        h_v = self._trunk(self.value_gru, obs) if self.value_gru is not None else None  # (T, B, H)
        return self._heads(h_pi, h_v)

    def _trunk(self, gru: nn.GRU, obs: Tensor) -> Tensor:
        """Outputs (T, B, H) of one GRU over obs (T, B, O): one `nn.GRU` call where it has the activation."""
        return gru(obs)[0] if self.nonlinearity == "tanh" else gru_sequence(gru, obs, self.activation)

    def step(self, obs: Tensor, state: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """Advance B trials by one step.

        Args:
            obs: (B, O) this step's input; state: (num_trunks, B, H) from `initial_state` or `step`.
        Returns:
            logits (B, A), values (B,), the new state (num_trunks, B, H).
        """
        if torch.is_grad_enabled():  # `out=` does not support autograd: build the state by stacking
            h_pi = gru_step(self.policy_gru, obs, state[0], activation=self.activation)  # (B, H)
            h_v = gru_step(self.value_gru, obs, state[1], activation=self.activation) if self.value_gru is not None else None
            new_state = torch.stack([h_pi] if h_v is None else [h_pi, h_v])  # (n, B, H)
        else:  # sampling: write straight into the new state, no copy
            new_state = torch.empty_like(state)  # (n, B, H)
            h_pi = gru_step(self.policy_gru, obs, state[0], new_state[0], self.activation)
            h_v = gru_step(self.value_gru, obs, state[1], new_state[1], self.activation) if self.value_gru is not None else None
        logits, values = self._heads(h_pi, h_v)
        return logits, values, new_state
