"""MAML (rl2lib.maml): the inner step against a closed form, batched against per-task autograd,
the split played through `play_trials`, and learning on a two-armed bandit with a large gap."""

import math

import pytest
import torch

from rl2lib.config import ConfigError, TaskConfig
from rl2lib.envs import BanditTasks, TrialEnv, sample_tasks
from rl2lib.agents import BaselineAgent, play_trials
from rl2lib.maml import (
    MAMLAgent,
    MAMLConfig,
    MAMLPolicy,
    adapt,
    advantages,
    evaluate_maml,
    inner_objective,
    outer_step,
    play_maml,
)
from rl2lib.maml_train import MAMLTrainConfig

TWO_ARMS = TaskConfig(task="bandit", num_actions=2, num_traj=12)


def linear_two_arm_policy() -> MAMLPolicy:
    """Logits z = w * 1 + b (no hidden layer), set by hand: z = (0.4, 0.2)."""
    policy = MAMLPolicy(1, 2, hidden_sizes=())
    with torch.no_grad():
        policy.net[0].weight.copy_(torch.tensor([[0.3], [-0.2]]))
        policy.net[0].bias.copy_(torch.tensor([0.1, 0.4]))
    return policy


def hand_step(actions, rewards, alpha, normalise, z=(0.4, 0.2)):
    """theta' of the linear policy by the closed form of the REINFORCE gradient.

    d/dz (1/N) sum_t A_t log softmax(z)[a_t] = (1/N) sum_t A_t (e_{a_t} - pi), and z = w + b with input 1,
    so w and b get the same gradient. A_t = r_t - mean(r) (the bandit's linear baseline), divided by
    the population standard deviation when normalised.
    """
    N, mean = len(rewards), sum(rewards) / len(rewards)
    adv = [r - mean for r in rewards]
    if normalise:
        std = math.sqrt(sum(a * a for a in adv) / N)
        adv = [a / (std + 1e-8) for a in adv]
    exp = [math.exp(v) for v in z]
    pi = [e / sum(exp) for e in exp]
    g = [sum(A * ((a == i) - pi[i]) for a, A in zip(actions, adv)) / N for i in range(2)]
    w = [0.3 + alpha * g[0], -0.2 + alpha * g[1]]
    b = [0.1 + alpha * g[0], 0.4 + alpha * g[1]]
    return torch.tensor(w)[:, None], torch.tensor(b)


@pytest.mark.parametrize("normalise", [False, True])
def test_inner_step_equals_hand_computed_policy_gradient(normalise):
    policy = linear_two_arm_policy()
    cfg = MAMLConfig(hidden_sizes=(), inner_lr=0.5, inner_norm_adv=normalise)
    actions_list, rewards_list = [0, 1, 0, 0, 1, 1], [1.0, 0.0, 1.0, 0.0, 1.0, 0.0]
    states = torch.zeros(6, 1, dtype=torch.long)  # (N, B=1)
    actions = torch.tensor(actions_list)[:, None]
    rewards = torch.tensor(rewards_list)[:, None]
    adv = advantages(states, rewards, TWO_ARMS, cfg, normalise)
    adapted = adapt(policy, dict(policy.named_parameters()), states, actions, adv, cfg)
    w, b = hand_step(actions_list, rewards_list, 0.5, normalise)
    torch.testing.assert_close(adapted["net.0.weight"][0], w, atol=1e-5, rtol=0)
    torch.testing.assert_close(adapted["net.0.bias"][0], b, atol=1e-5, rtol=0)


def test_agent_adapts_at_the_split_on_its_own_first_half():
    """Played through play_trials, the agent's policy after the split is the hand-computed theta'
    from the first n/2 pulls that trial recorded, and before it the initial policy."""
    policy = linear_two_arm_policy()
    cfg = MAMLConfig(hidden_sizes=(), inner_lr=0.5, inner_norm_adv=True)
    agent = MAMLAgent(TWO_ARMS, cfg, policy)
    tasks = BanditTasks(torch.tensor([[0.9, 0.1], [0.2, 0.7], [0.5, 0.5]]))
    record = play_trials(
        BaselineAgent(agent, torch.Generator().manual_seed(2)), TrialEnv(tasks, TWO_ARMS, torch.Generator().manual_seed(1))
    )
    assert agent.adapt_episodes == 6
    for task in range(3):
        w, b = hand_step(record.actions[:6, task].tolist(), record.rewards[:6, task].tolist(), 0.5, True)
        expected = torch.log_softmax((w[:, 0] + b), -1)
        torch.testing.assert_close(agent.logits[task, 0], expected, atol=1e-5, rtol=0)


def per_task_reference(policy, states, actions, adv, cfg, create_graph):
    """theta'_b by plain autograd on the module, one task at a time."""
    out = []
    for task in range(states.shape[1]):
        theta = dict(policy.named_parameters())
        for _ in range(cfg.num_inner_steps):
            objective = inner_objective(policy, theta, states[:, task], actions[:, task], adv[:, task])
            grads = torch.autograd.grad(objective, list(theta.values()), create_graph=create_graph)
            theta = {name: value + cfg.inner_lr * g for (name, value), g in zip(theta.items(), grads)}
        out.append(theta)
    return out


def random_mdp_batch(B=5, N=20, S=4, A=3, seed=0):
    g = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    policy = MAMLPolicy(S, A, hidden_sizes=(8, 8))
    with torch.no_grad():
        policy.net[-1].weight.normal_(0, 0.5, generator=g)  # a policy far from uniform
    states = torch.randint(S, (N, B), generator=g)
    actions = torch.randint(A, (N, B), generator=g)
    adv = torch.randn(N, B, generator=g)
    return policy, states, actions, adv


def test_batched_adaptation_equals_separate_adaptations():
    policy, states, actions, adv = random_mdp_batch()
    cfg = MAMLConfig(hidden_sizes=(8, 8), inner_lr=0.7, num_inner_steps=2)
    batched = adapt(policy, dict(policy.named_parameters()), states, actions, adv, cfg)
    reference = per_task_reference(policy, states, actions, adv, cfg, create_graph=False)
    for task, theta in enumerate(reference):
        for name, value in theta.items():
            torch.testing.assert_close(batched[name][task], value.detach(), atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("first_order", [False, True])
def test_meta_gradient_through_the_batched_step_equals_per_task_autograd(first_order):
    """d/d theta of a post-adaptation loss: second order through the step, or first order (identity)."""
    policy, states, actions, adv = random_mdp_batch(seed=1)
    cfg = MAMLConfig(hidden_sizes=(8, 8), inner_lr=0.7, first_order=first_order)
    eval_states, eval_actions = states.flip(0), actions.roll(1, 0)  # some other steps to score theta' on

    def post_loss(theta, task):
        return -inner_objective(policy, theta, eval_states[:, task], eval_actions[:, task], adv[:, task])

    batched = adapt(policy, dict(policy.named_parameters()), states, actions, adv, cfg)
    loss = sum(post_loss({k: v[b] for k, v in batched.items()}, b) for b in range(states.shape[1]))
    got = torch.autograd.grad(loss, list(policy.parameters()))
    reference = per_task_reference(policy, states, actions, adv, cfg, create_graph=not first_order)
    if first_order:  # gradient at theta'_b, passed to theta unchanged
        reference = [{k: v.detach().requires_grad_() for k, v in theta.items()} for theta in reference]
        grads = [torch.autograd.grad(post_loss(theta, b), list(theta.values())) for b, theta in enumerate(reference)]
        expected = [sum(g[i] for g in grads) for i in range(len(got))]
    else:
        expected = torch.autograd.grad(sum(post_loss(theta, b) for b, theta in enumerate(reference)), list(policy.parameters()))
    for g, e in zip(got, expected):
        torch.testing.assert_close(g, e, atol=1e-5, rtol=1e-4)


def gap_tasks(num_tasks: int, generator: torch.Generator) -> BanditTasks:
    """Two arms paying 0.9 and 0.1, in a random order."""
    flip = torch.rand(num_tasks, generator=generator) < 0.5
    return BanditTasks(torch.where(flip[:, None], torch.tensor([0.9, 0.1]), torch.tensor([0.1, 0.9])))


def test_large_gap_bandit_improves_after_adaptation_within_a_small_budget():
    """Ten pulls, one step: the untrained learner's second half already beats its first; 20 outer
    steps of 200 trials (40,000 pulls) bring the second half near the best arm's 0.9."""
    task = TaskConfig(task="bandit", num_actions=2, num_traj=20)
    cfg = MAMLConfig(hidden_sizes=(32, 32), inner_lr=0.5, meta_batch_tasks=200, minibatch_tasks=200, learning_rate=3e-3)
    torch.manual_seed(0)
    agent = MAMLAgent(task, cfg)
    generators = {name: torch.Generator().manual_seed(i) for i, name in enumerate(("tasks", "env", "actions", "minibatches"))}
    test_tasks = gap_tasks(2000, torch.Generator().manual_seed(123))

    def halves():
        record = play_maml(agent, test_tasks, torch.Generator().manual_seed(5), torch.Generator().manual_seed(6))
        return record.rewards[:10].mean().item(), record.rewards[10:].mean().item()

    pre, post = halves()
    assert abs(pre - 0.5) < 0.03  # a near-uniform initial policy (SE ~ 0.004)
    assert post > pre + 0.1
    optimizer = torch.optim.Adam(agent.policy.parameters(), lr=cfg.learning_rate, eps=1e-5)
    for _ in range(20):
        stats = outer_step(agent, optimizer, gap_tasks(200, generators["tasks"]), generators)
    assert stats["epochs"] >= 1 and math.isfinite(stats["policy_loss"])
    trained_pre, trained_post = halves()
    assert abs(trained_pre - 0.5) < 0.03  # by symmetry no fixed policy beats 0.5 before adapting
    assert trained_post > max(post + 0.05, 0.8)


def test_evaluation_is_seeded_and_scores_the_whole_trial():
    task = TaskConfig(task="bandit", num_actions=5, num_traj=10)
    torch.manual_seed(0)
    agent = MAMLAgent(task, MAMLConfig(hidden_sizes=(16,)))
    first, second = evaluate_maml(agent, num_trials=200, seed=3), evaluate_maml(agent, num_trials=200, seed=3)
    assert torch.equal(first.totals, second.totals)
    assert first.num_trials == 200 and 0 <= first.totals.min() and first.totals.max() <= 10


def test_mdp_agent_plays_and_steps():
    task = TaskConfig(task="mdp", num_traj=4)
    cfg = MAMLConfig(hidden_sizes=(16,), meta_batch_tasks=20, minibatch_tasks=10, update_epochs=2)
    torch.manual_seed(0)
    agent = MAMLAgent(task, cfg)
    optimizer = torch.optim.Adam(agent.policy.parameters(), lr=cfg.learning_rate)
    generators = {name: torch.Generator().manual_seed(i) for i, name in enumerate(("tasks", "env", "actions", "minibatches"))}
    stats = outer_step(agent, optimizer, sample_tasks(task, 20, generators["tasks"]), generators)
    assert agent.logits.shape == (20, 10, 5)
    assert all(math.isfinite(stats[key]) for key in ("policy_loss", "kl", "pre_reward", "post_reward"))


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"adapt_episodes": 10}, "1 <= adapt_episodes < n=10"),
        ({"inner_lr": -1.0}, "inner_lr must be >= 0"),
        ({"minibatch_tasks": 2000}, "minibatch_tasks must be in"),
        ({"hidden_sizes": (0,)}, "hidden_sizes must be positive"),
    ],
)
def test_bad_settings_are_one_line_errors(kwargs, message):
    with pytest.raises(ConfigError, match=message) as error:
        MAMLTrainConfig(task=TaskConfig(num_traj=10), model=MAMLConfig(**kwargs))
    assert "\n" not in str(error.value)


def test_one_step_ceiling_matches_closed_forms():
    """One pull of one arm, then the better of it and a fresh arm: a win (prob 1/2) keeps an arm of mean
    E[p | win] = 2/3, a loss moves to a fresh arm of mean 1/2, so each later pull earns 7/12; with no pull
    the chosen arm is a random one (1/2)."""
    from rl2lib.maml import one_step_ceiling

    assert one_step_ceiling(3, 10, 1, 1, scored_adaptation=False, num_tasks=200_000) == pytest.approx(10 * 7 / 12, abs=0.03)
    assert one_step_ceiling(3, 10, 1, 1, scored_adaptation=True, num_tasks=200_000) == pytest.approx(0.5 + 9 * 7 / 12, abs=0.03)
    assert one_step_ceiling(5, 10, 0, 5, scored_adaptation=True, num_tasks=200_000) == pytest.approx(5.0, abs=0.03)
