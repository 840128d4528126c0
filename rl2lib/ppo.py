"""PPO [4] with GAE [5] over whole RL^2 trials [1].

Implementation ledger (detail -> where -> source):
 1. Advantages by GAE over the whole trial, NOT cut at episode ends; the bootstrap value after the
    trial's last step is 0 -> `compute_gae` -> [5] Eq. 16, [1] Sec. 2.2 (the objective spans the
    trial, so exploring in episode 1 is paid by episode 2's reward).
 2. Returns = advantages + values (the TD(lambda) target) -> `compute_gae` -> [5] Sec. 5.
 3. Value head trained on returns normalised by running mean/std, denormalised before GAE ->
    `ReturnNormalizer` -> PopArt-lite, van Hasselt et al. 2016 (targets only, no weight rescaling).
 4. Minibatches of whole trials, each re-run from its start in one sequence call (full
    backpropagation through time, no stored hidden states) -> `ppo_update` -> [1] Sec. 3 (authors'
    code: minibatches of 128 whole trials with full BPTT).
 5. Per-minibatch advantage normalisation -> `ppo_update` -> OpenAI baselines PPO2.
 6. Clipped surrogate objective -> `ppo_loss` -> [4] Eq. 7.
 7. Optional clipped value loss, max of the clipped and unclipped squared errors -> `ppo_loss`
    -> OpenAI baselines PPO2.
 8. Entropy bonus, linearly decayed from ent_coef to ent_coef_final -> `ppo_loss`, `train` -> [4] Eq. 9.
 9. Global gradient-norm clipping -> `ppo_update` -> OpenAI baselines PPO2.
10. Early stop of the update when a minibatch's approximate KL passes target_kl; KL estimated as
    E[(r - 1) - log r] -> `ppo_update` -> Spinning Up PPO; Schulman's "Approximating KL" note.
11. Adam optimiser, epsilon 1e-5 (`PPOConfig.adam_eps`; torch's default is 1e-8) -> `rl2lib.train` -> [4]
    Sec. 6; the epsilon as in OpenAI baselines PPO2 and CleanRL.
12. Optional bfloat16 autocast over each minibatch's forward pass (its backward runs in the
    forward's dtypes); logits and values are cast back to fp32 before the loss, and sampling, GAE,
    the parameters and the Adam state stay fp32 -> `update_autocast`, `ppo_update` -> PyTorch AMP
    (`torch.autocast`), as mixed-precision training is usually done.
13. Heads initialised orthogonally, gain 0.01 for the policy (a near-uniform first policy) and 1 for
    the value, biases zero -> `rl2lib.models.gru` -> CleanRL's PPO.
14. Optionally, the value head in units of return per step left: its output times the discounted
    count of steps left (`rl2lib.envs.trial.steps_left`) is the value GAE uses, and the TD(lambda)
    returns divided by it are its targets -> `ppo_update` -> Pardo et al. 2018, "Time Limits in
    Reinforcement Learning" (a value function must know the time left; the RL^2 input has no clock,
    `ModelConfig.clock` gives the policy one).

References: [1] Duan et al. 2016, "RL^2"; [4] Schulman et al. 2017, "Proximal Policy Optimization
Algorithms"; [5] Schulman et al. 2016, "High-Dimensional Continuous Control Using Generalized
Advantage Estimation".
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

import torch
import torch.nn as nn

from rl2lib.config import PPOConfig
from rl2lib.envs.trial import steps_left
from rl2lib.rollout import RolloutBatch


def compute_gae(rewards: torch.Tensor, values: torch.Tensor, gamma: float, gae_lambda: float):
    """Generalised advantage estimates over whole trials ([5] Eq. 16).

    Episode ends inside a trial do not cut the sum; after the trial's last step the value is 0.

    Args:
        rewards: (T, B) rewards of B whole trials.
        values: (T, B) value estimates V(h_t) in reward units.

    Returns:
        advantages (T, B) and returns (T, B) = advantages + values.
    """
    T = rewards.shape[0]
    advantages = torch.zeros_like(rewards)  # (T, B)
    last_advantage = torch.zeros_like(rewards[0])  # (B,)
    next_values = torch.zeros_like(values[0])  # (B,) V after the trial's end is 0
    for t in reversed(range(T)):
        delta = rewards[t] + gamma * next_values - values[t]
        last_advantage = delta + gamma * gae_lambda * last_advantage
        advantages[t] = last_advantage
        next_values = values[t]
    return advantages, advantages + values


def advantages_and_targets(rewards: torch.Tensor, head_values: torch.Tensor, cfg: PPOConfig) -> tuple[torch.Tensor, torch.Tensor]:
    """GAE advantages (T, B) in reward units and the value head's targets (T, B) before normalisation, from
    the rewards (T, B) and the head's denormalised outputs `head_values` (T, B) (ledgers 1, 2, 14): with
    `cfg.value_per_step` the head's units are return per step left, else reward units. With `head_values`
    zero and lambda 1 the targets are the discounted returns-to-go themselves (Monte Carlo)."""
    T = rewards.shape[0]
    per_step = steps_left(T, cfg.gamma, head_values.device)[:, None] if cfg.value_per_step else None  # (T, 1), ledger 14
    values = head_values if per_step is None else head_values * per_step  # (T, B) in reward units
    advantages, returns = compute_gae(rewards, values, cfg.gamma, cfg.gae_lambda)
    return advantages, returns if per_step is None else returns / per_step


class ReturnNormalizer:
    """Running mean and variance of value targets (Chan et al. parallel update)."""

    def __init__(self, enabled: bool = True):
        self.enabled = enabled
        self.mean, self.var, self.count = 0.0, 1.0, 1e-4

    def update(self, returns: torch.Tensor) -> None:
        if not self.enabled:
            return
        batch_mean, batch_var, batch_count = returns.mean().item(), returns.var(unbiased=False).item(), returns.numel()
        delta, total = batch_mean - self.mean, self.count + batch_count
        self.mean += delta * batch_count / total
        self.var = (self.var * self.count + batch_var * batch_count + delta**2 * self.count * batch_count / total) / total
        self.count = total

    @property
    def std(self) -> float:
        return max(self.var, 1e-8) ** 0.5 if self.enabled else 1.0

    def normalize(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.mean) / self.std if self.enabled else x

    def denormalize(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.std + self.mean if self.enabled else x

    def state_dict(self) -> dict:
        return {"mean": self.mean, "var": self.var, "count": self.count}

    def load_state_dict(self, state: dict) -> None:
        self.mean, self.var, self.count = state["mean"], state["var"], state["count"]


@dataclass
class LossTerms:
    loss: torch.Tensor
    policy_loss: torch.Tensor
    value_loss: torch.Tensor
    entropy: torch.Tensor
    approx_kl: torch.Tensor
    clip_frac: torch.Tensor


def ppo_loss(
    logits: torch.Tensor,
    values: torch.Tensor,
    actions: torch.Tensor,
    old_log_probs: torch.Tensor,
    old_values: torch.Tensor,
    advantages: torch.Tensor,
    returns: torch.Tensor,
    cfg: PPOConfig,
    ent_coef: float,
) -> LossTerms:
    """The PPO objective on one minibatch; every tensor is (T, b) except logits (T, b, A).

    `values`, `old_values` and `returns` are in the value head's (normalised) units. `ent_coef` is this
    update's entropy weight, the schedule's (`rl2lib.train.schedule`, from `cfg.ent_coef` to
    `cfg.ent_coef_final`), so `cfg.ent_coef` itself is not read here.
    """
    log_probs_all = torch.log_softmax(logits, -1)  # (T, b, A)
    log_probs = log_probs_all.gather(-1, actions[..., None])[..., 0]  # (T, b)
    log_ratio = log_probs - old_log_probs
    ratio = log_ratio.exp()
    surrogate = torch.min(ratio * advantages, ratio.clamp(1 - cfg.clip_coef, 1 + cfg.clip_coef) * advantages)
    policy_loss = -surrogate.mean()  # [4] Eq. 7
    if cfg.clip_value_loss:
        clipped_values = old_values + (values - old_values).clamp(-cfg.clip_coef, cfg.clip_coef)
        value_loss = 0.5 * torch.max((values - returns) ** 2, (clipped_values - returns) ** 2).mean()
    else:
        value_loss = 0.5 * ((values - returns) ** 2).mean()
    entropy = -(log_probs_all.exp() * log_probs_all).sum(-1).mean()
    loss = policy_loss + cfg.vf_coef * value_loss - ent_coef * entropy
    with torch.no_grad():
        approx_kl = ((ratio - 1) - log_ratio).mean()
        clip_frac = ((ratio - 1).abs() > cfg.clip_coef).float().mean()
    return LossTerms(loss, policy_loss, value_loss, entropy, approx_kl, clip_frac)


BF16_UNITS = (("_is_amx_tile_supported", "AMX"), ("_is_avx512_bf16_supported", "AVX512-BF16"))
"""The CPU's bfloat16 matrix units, each with the `torch.cpu` probe that finds it."""


def cpu_bf16_units() -> list[str]:
    """The bfloat16 matrix units of this CPU (AMX, AVX512-BF16) that torch finds: none on an AVX2-only CPU."""
    return [unit for probe, unit in BF16_UNITS if getattr(torch.cpu, probe, lambda: False)()]


def native_bf16(device: torch.device) -> bool:
    """Whether `device` computes bfloat16 matmuls in hardware: a CUDA GPU that supports bf16, or a CPU
    with AVX512-BF16 or AMX. Elsewhere bf16 autocast is emulated, and on an AVX2-only CPU the SNAIL
    update at T = 100 ran 9x slower than in fp32 (README, "Precision")."""
    if device.type == "cuda":
        return torch.cuda.is_available() and torch.cuda.is_bf16_supported()
    return bool(cpu_bf16_units())


def update_autocast(precision: str, device: torch.device):
    """The context of a minibatch's forward pass: bfloat16 autocast for precision 'bf16' (CPU or
    CUDA), nothing for 'fp32' (ledger 12)."""
    if precision == "fp32":
        return contextlib.nullcontext()
    return torch.autocast(device.type, dtype=torch.bfloat16)


class NonFiniteLoss(RuntimeError):
    """A loss became NaN or infinite."""


def ppo_update(
    policy: nn.Module,
    optimizer: torch.optim.Optimizer,
    batch: RolloutBatch,
    normalizer: ReturnNormalizer,
    cfg: PPOConfig,
    ent_coef: float,
    generator: torch.Generator,
    precision: str = "fp32",
) -> dict:
    """One PPO update on B whole trials. Returns the mean of each loss term and the epochs run.

    `precision` 'bf16' runs each minibatch's forward (and so its backward) under bfloat16 autocast.

    Raises NonFiniteLoss (before any parameter changes from that minibatch) if a loss is not finite.
    """
    T, B = batch.actions.shape
    advantages, targets = advantages_and_targets(batch.rewards, normalizer.denormalize(batch.values), cfg)
    normalizer.update(targets)
    value_targets = normalizer.normalize(targets)  # (T, B)
    old_values = batch.values
    sums, count, epochs_run, stopped = {}, 0, 0, False
    for epoch in range(cfg.update_epochs):
        order = torch.randperm(B, generator=generator, device=generator.device).to(batch.actions.device)
        for index in order.split(cfg.minibatch_trials):
            with update_autocast(precision, batch.obs.device):
                logits, values = policy(batch.obs[:, index])  # (T, b, A), (T, b)
            logits, values = logits.float(), values.float()  # the loss in fp32 (ledger 12)
            mb_advantages = advantages[:, index]
            if cfg.norm_adv and mb_advantages.numel() > 1:
                mb_advantages = (mb_advantages - mb_advantages.mean()) / (mb_advantages.std() + 1e-8)
            terms = ppo_loss(
                logits,
                values,
                batch.actions[:, index],
                batch.log_probs[:, index],
                old_values[:, index],
                mb_advantages,
                value_targets[:, index],
                cfg,
                ent_coef,
            )
            if not torch.isfinite(terms.loss):
                raise NonFiniteLoss("loss is not finite")
            optimizer.zero_grad(set_to_none=True)
            terms.loss.backward()
            nn.utils.clip_grad_norm_(policy.parameters(), cfg.max_grad_norm)
            optimizer.step()
            for key in ("policy_loss", "value_loss", "entropy", "approx_kl", "clip_frac"):
                sums[key] = sums.get(key, 0.0) + getattr(terms, key).item()
            count += 1
            if cfg.target_kl is not None and terms.approx_kl.item() > cfg.target_kl:
                stopped = True
                break
        epochs_run = epoch + 1
        if stopped:
            break
    stats = {key: value / count for key, value in sums.items()}
    stats["epochs"] = epochs_run
    return stats
