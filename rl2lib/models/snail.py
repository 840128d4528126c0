"""SNAIL: temporal convolutions and causal attention over the whole trial ([2] Sec. 3, appendix).

The network for the tabular tasks as the appendix reports it (the bandit network is not confirmed;
the same one is used): policy Linear(O, 32), TCBlock(T, 32), TCBlock(T, 32), AttentionBlock(32, 32),
Linear to logits; value TCBlock(T, 16), TCBlock(T, 16), AttentionBlock(16, 16), Linear to the value.
The value network reads the raw RL^2 input, as listed (`value_embed=True` gives it its own Linear(O,
16) first). The blocks are [2]'s (`DenseBlock`, `TCBlock`, `AttentionBlock`): all dilations are even
(2, 4, ...), so the convolutions alone connect step t only to steps t - 2m and odd offsets reach t
through the attention (`first_dilation=1` starts every TCBlock at dilation 1 instead). `SNAILNet`
says how the whole-trial forward and the one-step cache are computed without concatenation copies.
References: [2] Mishra et al. 2018, "A Simple Neural Attentive Meta-Learner", arXiv:1707.03141.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from rl2lib.models.gru import init_heads


def num_dense_blocks(seq_len: int) -> int:
    """ceil(log2 T) for T >= 1, in exact integer arithmetic (T = 100 -> 7, T = 128 -> 7, T = 129 -> 8)."""
    return (seq_len - 1).bit_length()


class DenseStack(torch.autograd.Function):
    """Consecutive DenseBlocks over whole trials in one buffer, with a hand-written backward.

    Each DenseBlock appends D channels to its input, so block i reads the first c_i = C + i * D
    channels of one (T, B, C + n * D) buffer and writes the next D. Autograd through `torch.cat`
    would copy every block's input into a new tensor and keep each copy for the backward pass,
    and its slice for the tap on x[t - R] would build a zero-filled gradient as wide as the input:
    memory traffic and memory growing with the square of the depth. Here the forward writes each
    block's output into the buffer in place and keeps the buffer and the gates; the backward walks
    the blocks in reverse, adding each block's input gradient into the prefix of one gradient
    buffer in place (`addmm_`). Both taps of a block are one matrix product with the stacked weight
    [W_0; W_1] (4D, c_i): [f; g][t] = W_1 x[t] + b + W_0 x[t - R] (x[t - R] = 0 for t < R).
    """

    @staticmethod
    def forward(ctx, x: Tensor, dilations: tuple[int, ...], filters: int, *params: Tensor) -> Tensor:
        """x (T, B, C); params: per block its stacked weight (4D, c_i) and bias (2D,). -> (T, B, C + n D)."""
        T, B, C = x.shape
        D, num_blocks = filters, len(dilations)
        # (T, B, C_out) every block's input and output. Zero-filled, not empty: a bf16 matmul on AMX
        # reads past the c valid columns of its strided input and multiplies them by zero (oneDNN
        # issue #5717), which leaves a stale NaN byte there as NaN in the output.
        out = x.new_zeros(T, B, C + num_blocks * D)
        out[..., :C] = x
        flat = out.view(T * B, -1)  # (T B, C_out); a prefix of columns is a block's input
        gates = x.new_empty(num_blocks, 2, T, B, D)  # (n, 2, T, B, D) tanh(f) and sigmoid(g), for backward
        for i, dilation in enumerate(dilations):
            c, weight, bias = C + i * D, params[2 * i], params[2 * i + 1]
            both = torch.mm(flat[:, :c], weight.t()).view(T, B, 4 * D)  # (T, B, 4D) tap on x[t-R] | on x[t]
            pre = both[..., 2 * D :] + bias  # (T, B, 2D)
            if dilation < T:
                pre[dilation:] += both[:-dilation, :, : 2 * D]
            tanh_f, sigmoid_g = gates[i]  # (T, B, D) each, contiguous
            torch.tanh(pre[..., :D], out=tanh_f)
            torch.sigmoid(pre[..., D:], out=sigmoid_g)
            torch.mul(tanh_f, sigmoid_g, out=out[..., c : c + D])
        ctx.save_for_backward(out, gates, *params[0::2])
        ctx.dilations, ctx.in_size, ctx.filters = dilations, C, D
        return out

    @staticmethod
    def backward(ctx, grad_out: Tensor):
        out, gates, *weights = ctx.saved_tensors
        dilations, C, D = ctx.dilations, ctx.in_size, ctx.filters
        T, B, _ = out.shape
        grad = grad_out.contiguous().clone()  # (T, B, C_out) d loss / d buffer, completed block by block
        flat_out, flat_grad = out.view(T * B, -1), grad.view(T * B, -1)
        param_grads: list[Tensor | None] = [None] * (2 * len(dilations))
        for i in reversed(range(len(dilations))):
            c, dilation = C + i * D, dilations[i]
            grad_y = grad[..., c : c + D]  # (T, B, D) now final: only later blocks read these channels
            tanh_f, sigmoid_g = gates[i]  # (T, B, D) each
            grad_both = grad.new_zeros(T, B, 4 * D)  # (T, B, 4D) d loss / d [tap on x[t-R] | on x[t]]
            grad_pre = grad_both[..., 2 * D :]  # (T, B, 2D) d loss / d [f; g]
            torch.mul(grad_y * sigmoid_g, 1 - tanh_f * tanh_f, out=grad_pre[..., :D])
            torch.mul(grad_y * tanh_f, sigmoid_g * (1 - sigmoid_g), out=grad_pre[..., D:])
            if dilation < T:
                grad_both[:-dilation, :, : 2 * D] = grad_pre[dilation:]
            grad_both = grad_both.view(T * B, 4 * D)
            param_grads[2 * i] = grad_both.t() @ flat_out[:, :c]  # (4D, c)
            param_grads[2 * i + 1] = grad_pre.sum((0, 1))  # (2D,)
            flat_grad[:, :c].addmm_(grad_both, weights[i])  # the block's input gradient, in place
        return (grad[..., :C], None, None, *param_grads)


def dense_stack(x: Tensor, blocks: list["DenseBlock"]) -> Tensor:
    """x (T, B, C) through consecutive DenseBlocks -> (T, B, C + len(blocks) * D), causal over T.

    Under autocast the buffer, the weights and the backward run in the autocast dtype (as
    `nn.Linear` would); outside it in x's dtype."""
    if not blocks:
        return x
    device_type = x.device.type
    dtype = torch.get_autocast_dtype(device_type) if torch.is_autocast_enabled(device_type) else x.dtype
    params = []
    for block in blocks:
        weight = block.conv.weight  # (2D, c, 2): tap 0 on x[t - R], tap 1 on x[t]
        params += [weight.permute(2, 0, 1).reshape(4 * block.filters, block.in_size).to(dtype), block.conv.bias.to(dtype)]
    with torch.autocast(device_type, enabled=False):
        return DenseStack.apply(x.to(dtype), tuple(b.dilation for b in blocks), blocks[0].filters, *params)


class DenseBlock(nn.Module):
    """DenseBlock(R, D) of [2] Sec. 3: causal conv (kernel 2, dilation R) -> tanh * sigmoid -> concat.

    out[t] = tanh(f[t]) * sigmoid(g[t]) with [f; g][t] = W_0 x[t - R] + W_1 x[t] + b (x[t - R] = 0
    for t < R). The weight is stored as an `nn.Conv1d` (2D, C, 2) weight, tap 0 on x[t - R] and tap 1
    on x[t], and applied as matrix products on time-major input (no transposes, no padding); whole
    trials go through `dense_stack`, one step through `step`.
    """

    def __init__(self, in_size: int, dilation: int, filters: int):
        super().__init__()
        self.in_size, self.dilation, self.filters = in_size, dilation, filters
        self.out_size = in_size + filters
        self.conv = nn.Conv1d(in_size, 2 * filters, kernel_size=2, dilation=dilation)

    def forward(self, x: Tensor) -> Tensor:
        """x (T, B, C) -> (T, B, C + D), causal over T."""
        return dense_stack(x, [self])

    def step(self, features: Tensor, t: int) -> None:
        """Write row t of this block's output channels into `features` (T, B, C_out) in place."""
        c, R, w, D = self.in_size, self.dilation, self.conv.weight, self.filters
        pre = F.linear(features[t, :, :c], w[:, :, 1], self.conv.bias)  # (B, 2D)
        if t >= R:
            pre += F.linear(features[t - R, :, :c], w[:, :, 0])
        torch.mul(torch.tanh(pre[:, :D]), torch.sigmoid(pre[:, D:]), out=features[t, :, c : c + D])


class TCBlock(nn.Module):
    """TCBlock(T, D) of [2] Sec. 3: DenseBlocks with dilations 2^i, i = 1 .. ceil(log2 T) (log base 2);
    with first_dilation=1 the dilations are 2^(i-1)."""

    def __init__(self, seq_len: int, in_size: int, filters: int, first_dilation: int = 2):
        super().__init__()
        blocks = []
        for i in range(num_dense_blocks(seq_len)):
            blocks.append(DenseBlock(in_size + i * filters, first_dilation * 2**i, filters))
        self.blocks = nn.ModuleList(blocks)
        self.out_size = in_size + len(blocks) * filters

    def forward(self, x: Tensor) -> Tensor:
        return dense_stack(x, list(self.blocks))

    def step(self, features: Tensor, t: int) -> None:
        for block in self.blocks:
            block.step(features, t)


class AttentionBlock(nn.Module):
    """AttentionBlock(K, V) of [2] Sec. 3: single-head causal self-attention, read concatenated.

    read[t] = sum_{j <= t} softmax_j(q_t . k_j / sqrt(K)) v_j: the softmax runs over the keys j,
    and keys after t are masked. q, k, v are affine maps of the block input (one fused Linear).
    """

    def __init__(self, in_size: int, key_size: int, value_size: int):
        super().__init__()
        self.in_size, self.key_size, self.value_size = in_size, key_size, value_size
        self.out_size = in_size + value_size
        self.qkv = nn.Linear(in_size, 2 * key_size + value_size)

    def _split(self, x: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        K = self.key_size
        qkv = self.qkv(x)  # (..., 2K + V)
        return qkv[..., :K], qkv[..., K : 2 * K], qkv[..., 2 * K :]

    def weights(self, x: Tensor) -> Tensor:
        """Attention weights (B, T queries, T keys) for x (T, B, C), computed explicitly (for tests)."""
        q, k, _ = (a.transpose(0, 1) for a in self._split(x))  # (B, T, K) each
        T = x.shape[0]
        scores = q @ k.transpose(1, 2) / math.sqrt(self.key_size)  # (B, T, T) [query, key]
        future = torch.ones(T, T, dtype=torch.bool, device=x.device).triu(1)  # key j > query i
        return torch.softmax(scores.masked_fill(future, float("-inf")), dim=-1)  # over the keys

    def forward(self, x: Tensor, explicit: bool = False) -> Tensor:
        """x (T, B, C) -> (T, B, C + V). `explicit` uses `weights` instead of PyTorch's fused kernel."""
        q, k, v = (a.transpose(0, 1).unsqueeze(1) for a in self._split(x))  # (B, 1, T, K|V)
        if explicit:
            read = self.weights(x) @ v.squeeze(1)  # (B, T, V)
        else:  # same softmax over keys with a causal mask, without materialising (B, T, T) for backward;
            # in fp32 under autocast too: its bf16 backward on CPU took longer than the DenseBlocks' matmuls
            wide = torch.promote_types(q.dtype, torch.float32)  # fp32, or fp64 where the model is
            with torch.autocast(x.device.type, enabled=False):
                read = F.scaled_dot_product_attention(q.to(wide), k.to(wide), v.to(wide), is_causal=True)
            read = read.squeeze(1).to(q.dtype)  # (B, T, V)
        return torch.cat([x, read.transpose(0, 1)], dim=-1)

    def step(self, features: Tensor, keys: Tensor, values: Tensor, t: int) -> None:
        """Row t: store k_t, v_t in `keys` (B, T, K) / `values` (B, T, V), attend over rows 0..t,
        write the read into `features` (T, B, C_out) in place."""
        q, k, v = self._split(features[t, :, : self.in_size])  # (B, K), (B, K), (B, V)
        keys[:, t] = k
        values[:, t] = v
        scores = torch.bmm(keys[:, : t + 1], q.unsqueeze(2)).squeeze(2) / math.sqrt(self.key_size)  # (B, t+1)
        attn = torch.softmax(scores, dim=-1)  # over the keys 0..t
        read = torch.bmm(attn.unsqueeze(1), values[:, : t + 1]).squeeze(1)  # (B, V)
        features[t, :, self.in_size : self.out_size] = read


@dataclass
class SNAILCache:
    """One network's cache for B trials of length T (allocated once per trial, filled row by row)."""

    features: Tensor  # (T, B, C_out) every block's input and output channels, row t written at step t
    keys: Tensor  # (B, T, K) attention keys of steps 0..t-1
    values: Tensor  # (B, T, V) attention values of steps 0..t-1


@dataclass
class SNAILState:
    """`SNAILPolicy.step` state: steps taken so far in the trial and the two networks' caches.

    The buffers are shared between the state passed to `step` and the one it returns (rows >= t
    are written in place), so only the newest state of a trial should be stepped.
    """

    t: int
    policy: SNAILCache
    value: SNAILCache | None  # None: the value network is not stepped (`initial_state(values=False)`)


class SNAILNet(nn.Module):
    """[embedding Linear] -> TCBlock(T, D) -> TCBlock(T, D) -> AttentionBlock(K, V): features (T, B, C_out).

    Every block appends channels, so the input of each block is a *prefix* of the channels of the
    final features. The whole-trial forward writes both TCBlocks into one such buffer with a
    hand-written backward (`DenseStack`: no concatenation copies, memory linear in the depth), and
    runs the attention in fp32 even under bf16 autocast. The one-step forward (`step`) keeps a cache,
    allocated once per trial by `new_cache`: a feature buffer (T, B, C_out) written in place at row t
    (a dense block with dilation R reads row t - R of its input prefix) and key/value buffers (B, T,
    K) and (B, T, V) (attention at t reads rows 0..t); nothing is recomputed for the prefix and
    nothing grows by concatenation. Memory: T * B * (C_out + K + V) floats, with C_out = E + 2 * D *
    ceil(log2 T') + V (E the input or embedding width, T' the depth's trial length; 512 for the
    policy at T = 100).
    """

    def __init__(
        self,
        in_size: int,
        seq_len: int,
        filters: int,
        key_size: int,
        value_size: int,
        embed_size: int | None,
        first_dilation: int = 2,
        depth_len: int | None = None,
    ):
        super().__init__()
        self.seq_len = seq_len  # the cache's length; depth_len (default seq_len) sets the TCBlocks' depth
        self.embed = nn.Linear(in_size, embed_size) if embed_size else None
        self.first_size = embed_size or in_size
        self.tc1 = TCBlock(depth_len or seq_len, self.first_size, filters, first_dilation)
        self.tc2 = TCBlock(depth_len or seq_len, self.tc1.out_size, filters, first_dilation)
        self.attention = AttentionBlock(self.tc2.out_size, key_size, value_size)
        self.out_size = self.attention.out_size

    def forward(self, x: Tensor) -> Tensor:
        x = self.embed(x) if self.embed is not None else x
        return self.attention(dense_stack(x, [*self.tc1.blocks, *self.tc2.blocks]))  # both TCBlocks, one buffer

    def new_cache(self, batch_size: int, device, dtype) -> SNAILCache:
        T, B, att = self.seq_len, batch_size, self.attention
        # row t is always written before it is read and rows > t are never read; the buffers are
        # zero-filled all the same, as in DenseStack.forward (a bf16 matmul may read past a slice)
        return SNAILCache(
            features=torch.zeros(T, B, self.out_size, device=device, dtype=dtype),  # (T, B, C_out)
            keys=torch.zeros(B, T, att.key_size, device=device, dtype=dtype),  # (B, T, K)
            values=torch.zeros(B, T, att.value_size, device=device, dtype=dtype),  # (B, T, V)
        )

    def step(self, x: Tensor, cache: SNAILCache, t: int) -> Tensor:
        """x (B, in) at step t -> features (B, C_out) (a view of row t of the cache)."""
        row = cache.features[t]  # (B, C_out)
        if self.embed is not None:
            torch.addmm(self.embed.bias, x, self.embed.weight.t(), out=row[:, : self.first_size])
        else:
            row[:, : self.first_size] = x
        self.tc1.step(cache.features, t)
        self.tc2.step(cache.features, t)
        self.attention.step(cache.features, cache.keys, cache.values, t)
        return row


class SNAILPolicy(nn.Module):
    """SNAIL policy and value networks for trials of length `max_len` ([2] Sec. 3 and appendix).

    Args:
        obs_size: width O of the input: the RL^2 input (`TaskConfig.obs_size`), plus one with `clock`.
        num_actions: A, logits per step.
        max_len: trial length T; sets ceil(log2 T) dense blocks per TCBlock and the cache length.
        hidden_size: accepted so that both models share a constructor; SNAIL's widths are below.
        policy_size: D of the policy network: its input Linear, its TCBlock filters and its
            attention K = V (32 in [2]).
        value_size: D and K = V of the value network (16 in [2]).
        value_embed: give the value network its own Linear(O, value_size) first; default False:
            it reads the raw RL^2 input, as the architecture is listed.
        first_dilation: 2 ([2]'s TCBlock) or 1 (every TCBlock starts at dilation 1).
        depth_len: the trial length whose ceil(log2) sets the dense blocks per TCBlock instead of
            `max_len` (a short-trial network at a long-trial depth; `ModelConfig.depth_len`).
        clock: the input's last column is the trial's clock (`ModelConfig.clock`), which
            `rl2lib.agents.PolicyAgent` appends.

    `step` runs under `torch.no_grad()` (the cache is written in place; it is for sampling);
    gradients go through `forward`. The state is a `SNAILState`.
    """

    def __init__(
        self,
        obs_size: int,
        num_actions: int,
        max_len: int,
        hidden_size: int = 256,
        policy_size: int = 32,
        value_size: int = 16,
        value_embed: bool = False,
        first_dilation: int = 2,
        depth_len: int | None = None,
        clock: bool = False,
    ):
        super().__init__()
        if max_len < 1:
            raise ValueError(f"max_len (the trial length T) must be >= 1, got {max_len}")
        self.obs_size, self.num_actions, self.max_len, self.clock = obs_size, num_actions, max_len, clock
        self.policy_net = SNAILNet(
            obs_size, max_len, policy_size, policy_size, policy_size, policy_size, first_dilation, depth_len
        )
        self.value_net = SNAILNet(
            obs_size, max_len, value_size, value_size, value_size, value_size if value_embed else None, first_dilation, depth_len
        )
        self.policy_head = nn.Linear(self.policy_net.out_size, num_actions)
        self.value_head = nn.Linear(self.value_net.out_size, 1)
        init_heads(self.policy_head, self.value_head)

    def initial_state(self, batch_size: int, device: torch.device | str | None = None, values: bool = True) -> SNAILState:
        """Empty caches for B trials of `max_len` steps (allocated here, once per trial). `values`
        False: no value cache, and `step` returns NaN values: playing only, in two thirds of the memory."""
        dtype = self.policy_head.weight.dtype
        value_cache = self.value_net.new_cache(batch_size, device, dtype) if values else None
        return SNAILState(0, self.policy_net.new_cache(batch_size, device, dtype), value_cache)

    def forward(self, obs: Tensor) -> tuple[Tensor, Tensor]:
        """Whole trials from their start.

        Args:
            obs: (T, B, O), T <= max_len.
        Returns:
            logits (T, B, A) and values (T, B).
        """
        if obs.shape[0] > self.max_len:
            raise ValueError(f"sequence of {obs.shape[0]} steps is longer than max_len={self.max_len}")
        return self.policy_head(self.policy_net(obs)), self.value_head(self.value_net(obs)).squeeze(-1)

    @torch.no_grad()
    def step(self, obs: Tensor, state: SNAILState) -> tuple[Tensor, Tensor, SNAILState]:
        """Advance B trials by one step using the cache (no recomputation of the prefix).

        Args:
            obs: (B, O) the input at step state.t; state: from `initial_state` or `step`.
        Returns:
            logits (B, A), values (B,) (NaN when the state has no value cache), the state at step t + 1
            (same buffers).
        """
        t = state.t
        if t >= self.max_len:
            raise RuntimeError(f"the trial has {self.max_len} steps: call initial_state for a new trial")
        logits = self.policy_head(self.policy_net.step(obs, state.policy, t))  # (B, A)
        if state.value is None:
            values = torch.full(logits.shape[:1], float("nan"), device=logits.device, dtype=logits.dtype)  # (B,)
        else:
            values = self.value_head(self.value_net.step(obs, state.value, t)).squeeze(-1)  # (B,)
        return logits, values, SNAILState(t + 1, state.policy, state.value)
