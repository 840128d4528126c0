"""GAE and the PPO loss against independent references."""

from dataclasses import replace

import torch

from rl2lib.config import PPOConfig
from rl2lib.envs.trial import steps_left
from rl2lib.ppo import ReturnNormalizer, compute_gae, ppo_loss, ppo_update
from rl2lib.rollout import RolloutBatch


def naive_gae(rewards, values, gamma, lam):
    """Textbook per-trial loop: delta_t = r_t + gamma V_{t+1} - V_t, A_t = sum (gamma lam)^l delta_{t+l}."""
    T, B = rewards.shape
    adv = torch.zeros(T, B, dtype=torch.float64)
    for b in range(B):
        for t in range(T):
            total = 0.0
            for ahead in range(T - t):
                v_next = values[t + ahead + 1, b] if t + ahead + 1 < T else 0.0
                delta = rewards[t + ahead, b] + gamma * v_next - values[t + ahead, b]
                total += (gamma * lam) ** ahead * delta
            adv[t, b] = total
    return adv


def test_gae_equals_naive_loop_and_crosses_episode_ends():
    g = torch.Generator().manual_seed(0)
    rewards, values = torch.randn(12, 3, generator=g, dtype=torch.float64), torch.randn(12, 3, generator=g, dtype=torch.float64)
    adv, returns = compute_gae(rewards, values, 0.97, 0.8)
    torch.testing.assert_close(adv, naive_gae(rewards, values, 0.97, 0.8))
    torch.testing.assert_close(returns, adv + values)
    # an MDP trial of 3 episodes of 4 steps: a reward in the last episode reaches the first step
    rewards = torch.zeros(12, 1, dtype=torch.float64)
    rewards[11] = 1.0
    adv, _ = compute_gae(rewards, torch.zeros(12, 1, dtype=torch.float64), 1.0, 1.0)
    assert adv[0, 0] == 1.0


def test_gae_lambda_one_gamma_one_is_reward_to_go_minus_value():
    rewards = torch.tensor([[1.0], [2.0], [3.0]])
    values = torch.tensor([[0.5], [0.1], [0.2]])
    adv, _ = compute_gae(rewards, values, 1.0, 1.0)
    torch.testing.assert_close(adv[:, 0], torch.tensor([6.0, 5.0, 3.0]) - values[:, 0])


def test_loss_at_ratio_one_is_policy_gradient():
    """At pi = pi_old the clipped surrogate's gradient equals grad of E[A log pi(a)]."""
    g = torch.Generator().manual_seed(1)
    logits = torch.randn(5, 4, 3, generator=g, requires_grad=True)
    actions = torch.randint(3, (5, 4), generator=g)
    advantages = torch.randn(5, 4, generator=g)
    old_log_probs = torch.log_softmax(logits, -1).gather(-1, actions[..., None])[..., 0].detach()
    values = torch.zeros(5, 4)
    cfg = PPOConfig(num_trials=4, minibatch_trials=4, vf_coef=0.0)
    terms = ppo_loss(logits, values, actions, old_log_probs, values, advantages, values, cfg, ent_coef=0.0)
    (grad_ppo,) = torch.autograd.grad(terms.loss, logits)
    log_lik = torch.log_softmax(logits, -1).gather(-1, actions[..., None])[..., 0]
    (grad_pg,) = torch.autograd.grad(-(advantages * log_lik).mean(), logits)
    torch.testing.assert_close(grad_ppo, grad_pg)
    assert terms.approx_kl.abs() < 1e-7 and terms.clip_frac == 0


def test_clipped_value_loss_takes_the_larger_error():
    cfg = PPOConfig(num_trials=1, minibatch_trials=1, clip_coef=0.2, clip_value_loss=True, vf_coef=1.0)
    old, new, target = torch.tensor([[0.0]]), torch.tensor([[1.0]]), torch.tensor([[1.0]])
    logits = torch.zeros(1, 1, 2)
    actions = torch.zeros(1, 1, dtype=torch.long)
    lp = torch.log_softmax(logits, -1)[..., 0]
    terms = ppo_loss(logits, new, actions, lp, old, torch.zeros(1, 1), target, cfg, 0.0)
    # unclipped error 0, clipped value 0.2 -> error 0.64: the max is kept (pessimistic)
    assert abs(terms.value_loss.item() - 0.5 * 0.64) < 1e-6


class TinyPolicy(torch.nn.Module):
    """Open-loop policy: logits depend only on the time step (enough to test the update loop)."""

    def __init__(self, T, A):
        super().__init__()
        self.logits = torch.nn.Parameter(torch.zeros(T, 1, A))
        self.value = torch.nn.Parameter(torch.zeros(T, 1))

    def forward(self, obs):
        T, B, _ = obs.shape
        return self.logits.expand(T, B, -1), self.value.expand(T, B)


def make_batch(T=4, B=16, A=3):
    g = torch.Generator().manual_seed(0)
    actions = torch.randint(A, (T, B), generator=g)
    return RolloutBatch(
        obs=torch.zeros(T, B, 1),
        actions=actions,
        log_probs=torch.full((T, B), -torch.log(torch.tensor(3.0)).item()),
        values=torch.zeros(T, B),
        rewards=(actions == 0).float() * 5,
        episode_done=torch.ones(T, dtype=torch.bool),
        trial_done=torch.arange(T) == T - 1,
    )


def test_update_stops_early_on_target_kl():
    batch = make_batch()
    for target_kl, expect_early in ((1e-6, True), (None, False)):
        policy = TinyPolicy(4, 3)
        cfg = PPOConfig(num_trials=16, minibatch_trials=4, update_epochs=10, learning_rate=0.5, target_kl=target_kl)
        optimizer = torch.optim.Adam(policy.parameters(), lr=cfg.learning_rate)
        stats = ppo_update(policy, optimizer, batch, ReturnNormalizer(), cfg, 0.0, torch.Generator().manual_seed(0))
        assert (stats["epochs"] < 10) == expect_early


def test_return_normalizer_matches_batch_statistics():
    norm = ReturnNormalizer()
    data = torch.randn(1000, generator=torch.Generator().manual_seed(0)) * 3 + 7
    for chunk in data.split(100):
        norm.update(chunk)
    assert abs(norm.mean - data.mean().item()) < 1e-3
    assert abs(norm.std - data.std(unbiased=False).item()) < 1e-2
    x = torch.tensor([1.0, 2.0])
    torch.testing.assert_close(norm.denormalize(norm.normalize(x)), x)


def test_steps_left_is_the_discounted_count_of_the_remaining_steps():
    for gamma in (1.0, 0.9):
        naive = [sum(gamma**lag for lag in range(5 - t)) for t in range(5)]
        torch.testing.assert_close(steps_left(5, gamma), torch.tensor(naive, dtype=torch.float32))


def test_a_value_per_step_left_is_multiplied_back_for_gae_and_its_targets_divided(monkeypatch):
    """With `value_per_step` the update's GAE sees the value head's output times the steps left, and the
    head is trained on the TD(lambda) returns divided by them (ledger 14)."""
    import rl2lib.ppo as ppo

    T, B, gamma, lam = 4, 16, 0.9, 0.8
    batch = make_batch(T, B)
    batch.values = torch.randn(T, B, generator=torch.Generator().manual_seed(1))
    seen = {}

    def spy(logits, values, actions, old_log_probs, old_values, advantages, returns, cfg, ent_coef):
        seen.update(advantages=advantages, targets=returns)
        return ppo_loss(logits, values, actions, old_log_probs, old_values, advantages, returns, cfg, ent_coef)

    monkeypatch.setattr(ppo, "ppo_loss", spy)
    cfg = PPOConfig(num_trials=B, minibatch_trials=B, update_epochs=1, gamma=gamma, gae_lambda=lam, norm_adv=False)
    normalizer = ReturnNormalizer()  # fresh: the stored values are in reward units
    order = torch.randperm(B, generator=torch.Generator().manual_seed(0))
    ppo_update(
        TinyPolicy(T, 3),
        torch.optim.Adam(TinyPolicy(T, 3).parameters()),
        batch,
        normalizer,
        replace(cfg, value_per_step=True),
        0.0,
        torch.Generator().manual_seed(0),
    )
    left = torch.tensor([sum(gamma**lag for lag in range(T - t)) for t in range(T)])[:, None]  # (T, 1)
    advantages, returns = compute_gae(batch.rewards, batch.values * left, gamma, lam)
    torch.testing.assert_close(seen["advantages"], advantages[:, order])
    torch.testing.assert_close(normalizer.denormalize(seen["targets"]), (returns / left)[:, order])
