"""MAML [1] on the batched bandits and tabular MDPs, played through the RL^2 trial protocol [3], the
third meta-learner of [2] Tables 3-4. A memoryless MLP policy (input: the one-hot state, so a bandit
sees the constant 1) plays the first `adapt_episodes` episodes of a trial with its initial
parameters theta; one (or `num_inner_steps`) REINFORCE step [1] Sec. 3.2 on that experience then
gives each task its own theta' = theta + alpha * grad J(theta), computed for all B tasks at once
with `torch.func` (grad inside vmap, no loop over tasks), and theta' plays the rest of the trial.
The reported number is the whole trial's undiscounted total, as for every other column. Inner and
outer advantages follow the MAML authors' code [6]: returns within an episode (gamma 0.99, GAE
lambda 1) minus a linear feature baseline [5] fitted per task, standardised per task in the inner
step. The outer objective is the post-adaptation return, differentiated through the inner step with
the pre-update samples held fixed as in [1] Alg. 3; where [1] takes a TRPO step of max KL 0.01, we
take PPO's clipped surrogate [4] on theta' with Adam and stop the epochs once the mean KL of the
post-adaptation policy passes `target_kl`: it needs only first and second derivatives (TRPO's
Hessian-vector products of a KL that itself holds a gradient need third ones) and no line search.
How [2] split its trials is not stated; `adapt_episodes` (adapt within the scored trial, n // 2 by
default) and `adapt_trials` (adapt on unscored trials of the same task first, MAML-RL's own
protocol) are the two readings, played as one longer trial whose scored part alone counts.
`MAMLAgent` offers the baselines' interface, so `rl2lib.agents.play_trials` plays it on the same
seeded tasks as every other agent (`evaluate_maml`); `rl2lib.maml_train` runs the training.
References: [1] Finn et al. 2017, "Model-Agnostic Meta-Learning", arXiv:1703.03400; [2] Mishra et
al. 2018, "SNAIL", arXiv:1707.03141; [3] Duan et al. 2016, "RL^2"; [4] Schulman et al. 2017, "PPO";
[5] Duan et al. 2016, "Benchmarking Deep RL for Continuous Control" (rllab's LinearFeatureBaseline);
[6] github.com/cbfinn/maml_rl, maml_examples/maml_trpo_point.py and batch_maml_polopt.py (hidden
(100, 100) ReLU, linear baseline, center_adv=True, discount 0.99, gae_lambda 1, one inner step).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.func import functional_call, grad, vmap

from rl2lib.agents import BaselineAgent, TrialRecord, play_trials, sample_actions
from rl2lib.baselines.base import Baseline
from rl2lib.config import ConfigError, TaskConfig
from rl2lib.envs import Tasks, TrialEnv, seeded_tasks
from rl2lib.evaluate import EvalResult, evaluation_generators


@dataclass(frozen=True)
class MAMLConfig:
    """The MAML learner: policy, inner step, trial split and outer (meta) update."""

    hidden_sizes: tuple[int, ...] = (100, 100)
    """ReLU hidden layers of the policy MLP: (100, 100) in [1] Sec. 5.3 and [6]; () is linear logits."""
    adapt_episodes: int | None = None
    """Episodes of a trial played with theta before the inner step; None: n // 2 (issue 14's hypothesis)."""
    adapt_trials: int = 0
    """0: adapt within the scored trial (after `adapt_episodes`). m >= 1: MAML-RL's own protocol [1] Sec. 3.2,
    [6]: m trials of the same task played with theta and not scored, one inner step on them, then the scored
    trial of n episodes played with theta' (the agent sees m + 1 trials of each task)."""
    num_inner_steps: int = 1
    """Policy-gradient steps on the adaptation episodes ([1] Sec. 5.3 and [6]: one)."""
    inner_lr: float = 0.1
    """alpha of theta' = theta + alpha * grad J ([1] App. A.2: 0.1; [6]'s point example and the public
    PyTorch bandit configs use 0.5). The outer loop can rescale it through the weights' norm."""
    inner_norm_adv: bool = True
    """Standardise each task's inner advantages ([6]: center_adv=True, per task)."""
    first_order: bool = False
    """First-order MAML ([1] Sec. 5.2): treat d theta' / d theta as the identity."""
    gamma: float = 0.99
    """Discount of the returns within an episode ([6]); no effect on one-pull bandit episodes."""
    baseline_reg: float = 1e-5
    """Ridge term of the per-task linear baseline's least squares ([5]'s reg_coeff)."""
    meta_batch_tasks: int = 1000
    """Tasks (one trial each) per outer step ([1] App. A.2: 20-40; ours are cheap, batched)."""
    minibatch_tasks: int = 1000
    """Tasks per outer minibatch."""
    update_epochs: int = 5
    """Passes of the clipped surrogate over the meta-batch per outer step."""
    clip_coef: float = 0.2
    """epsilon of the clipped surrogate [4] Eq. 7 on pi_theta' / pi_theta'_old."""
    learning_rate: float = 1e-3
    """Adam step size of the outer update."""
    target_kl: float | None = 0.01
    """Stop the epochs once the post-adaptation policy's mean KL(old || new) passes this ([1]: a TRPO
    step of max KL 0.01); None: never."""
    max_grad_norm: float = 1.0
    """Global gradient-norm clip of the outer update."""

    @property
    def model_type(self) -> str:
        """The learner's name in run folders and tables, as `ModelConfig.model_type` names GRU and SNAIL."""
        return "maml"

    def __post_init__(self) -> None:
        object.__setattr__(self, "hidden_sizes", tuple(self.hidden_sizes))  # JSON gives a list
        checks = [
            (
                all(isinstance(h, int) and h >= 1 for h in self.hidden_sizes),
                f"hidden_sizes must be positive ints, got {self.hidden_sizes}",
            ),
            (
                self.adapt_episodes is None or self.adapt_episodes >= 1,
                f"adapt_episodes must be >= 1 or None (n // 2), got {self.adapt_episodes}",
            ),
            (self.adapt_trials >= 0, f"adapt_trials must be >= 0, got {self.adapt_trials}"),
            (
                self.adapt_trials == 0 or self.adapt_episodes is None,
                f"adapt_episodes={self.adapt_episodes} splits the scored trial, adapt_trials={self.adapt_trials} adapts "
                "before it: give one of them",
            ),
            (self.num_inner_steps >= 1, f"num_inner_steps must be >= 1, got {self.num_inner_steps}"),
            (self.inner_lr >= 0, f"inner_lr must be >= 0, got {self.inner_lr}"),
            (0 <= self.gamma <= 1, f"gamma must be in [0, 1], got {self.gamma}"),
            (self.baseline_reg > 0, f"baseline_reg must be > 0, got {self.baseline_reg}"),
            (self.meta_batch_tasks >= 1, f"meta_batch_tasks must be >= 1, got {self.meta_batch_tasks}"),
            (
                1 <= self.minibatch_tasks <= self.meta_batch_tasks,
                f"minibatch_tasks must be in [1, meta_batch_tasks={self.meta_batch_tasks}], got {self.minibatch_tasks}",
            ),
            (self.update_epochs >= 1, f"update_epochs must be >= 1, got {self.update_epochs}"),
            (self.clip_coef > 0, f"clip_coef must be > 0, got {self.clip_coef}"),
            (self.learning_rate > 0, f"learning_rate must be > 0, got {self.learning_rate}"),
            (self.target_kl is None or self.target_kl > 0, f"target_kl must be > 0 or None, got {self.target_kl}"),
            (self.max_grad_norm > 0, f"max_grad_norm must be > 0, got {self.max_grad_norm}"),
        ]
        for ok, message in checks:
            if not ok:
                raise ConfigError(message)


def played_config(task_config: TaskConfig, config: MAMLConfig) -> TaskConfig:
    """The trial the agent plays: the scored one, preceded by `adapt_trials` unscored ones of the same task
    (one trial of (m + 1) n episodes: the task stays, and each episode starts afresh either way)."""
    return replace(task_config, num_traj=(config.adapt_trials + 1) * task_config.num_traj)


def adaptation_episodes(task_config: TaskConfig, config: MAMLConfig) -> int:
    """Episodes before the inner step: m n for `adapt_trials` m >= 1, else `config.adapt_episodes` or
    n // 2, at least 1 and below n."""
    n = task_config.num_traj
    if config.adapt_trials:
        return config.adapt_trials * n
    episodes = n // 2 if config.adapt_episodes is None else config.adapt_episodes
    if not 1 <= episodes < n:
        raise ConfigError(
            f"adapt_episodes must leave episodes on both sides of the inner step: 1 <= adapt_episodes < n={n}, got {episodes}"
        )
    return episodes


class MAMLPolicy(nn.Module):
    """Memoryless MLP: one-hot state (B, S) -> logits (B, A). A bandit's input is the constant 1."""

    def __init__(self, num_states: int, num_actions: int, hidden_sizes: tuple[int, ...] = (100, 100)):
        super().__init__()
        sizes = (num_states,) + tuple(hidden_sizes)
        layers = []
        for size_in, size_out in zip(sizes[:-1], sizes[1:]):
            layers += [nn.Linear(size_in, size_out), nn.ReLU()]
        head = nn.Linear(sizes[-1], num_actions)
        nn.init.orthogonal_(head.weight, 0.01)  # near-uniform initial policy (CleanRL's policy head)
        nn.init.zeros_(head.bias)
        self.net = nn.Sequential(*layers, head)
        self.num_states = num_states

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        return self.net(inputs)


# ----------------------------------------------------------------------------- advantages


def episode_returns(rewards: torch.Tensor, traj_len: int, gamma: float) -> torch.Tensor:
    """Discounted return-to-go within each episode, (N, B), of whole episodes `rewards` (N, B)."""
    N, B = rewards.shape
    per_episode = rewards.reshape(N // traj_len, traj_len, B)  # (E, L, B)
    returns = torch.zeros_like(per_episode)  # (E, L, B)
    running = torch.zeros_like(per_episode[:, 0])  # (E, B)
    for t in reversed(range(traj_len)):
        running = per_episode[:, t] + gamma * running
        returns[:, t] = running
    return returns.reshape(N, B)


def linear_baseline(returns: torch.Tensor, states: torch.Tensor, num_states: int, traj_len: int, reg: float) -> torch.Tensor:
    """Per-task least-squares fit of the returns (N, B) on [one-hot state, t, t^2, t^3] ([5]), (N, B).

    t is the step within the episode over its length; the one-hot sums to 1, so the fit has a constant.
    On a bandit the only feature is the constant: the baseline is each task's mean return (to ~reg/N).
    """
    N, B = returns.shape
    features = [F.one_hot(states, num_states).to(returns.dtype)]  # (N, B, S)
    if traj_len > 1:
        t = (torch.arange(N, device=returns.device) % traj_len).to(returns.dtype) / traj_len  # (N,)
        features.append(torch.stack([t, t**2, t**3], -1)[:, None].expand(N, B, 3))
    X = torch.cat(features, -1).transpose(0, 1)  # (B, N, F)
    y = returns.transpose(0, 1)[..., None]  # (B, N, 1)
    gram = X.transpose(1, 2) @ X + reg * torch.eye(X.shape[-1], dtype=X.dtype, device=X.device)  # (B, F, F)
    weights = torch.linalg.solve(gram, X.transpose(1, 2) @ y)  # (B, F, 1)
    return (X @ weights)[..., 0].transpose(0, 1)  # (N, B)


def advantages(
    states: torch.Tensor, rewards: torch.Tensor, task_config: TaskConfig, config: MAMLConfig, per_task_norm: bool
) -> torch.Tensor:
    """Returns within episodes minus the per-task linear baseline, (N, B); standardised per task if asked."""
    returns = episode_returns(rewards, task_config.traj_len, config.gamma)
    adv = returns - linear_baseline(returns, states, task_config.num_states, task_config.traj_len, config.baseline_reg)
    if per_task_norm:
        adv = (adv - adv.mean(0)) / (adv.std(0, unbiased=False) + 1e-8)  # [6] center_adv, per task
    return adv


# ----------------------------------------------------------------------------- the inner step


def log_policy(policy: MAMLPolicy, params: dict, states: torch.Tensor) -> torch.Tensor:
    """log pi_params(. | s) of one task at states (N,) -> (N, A)."""
    dtype = next(iter(params.values())).dtype
    inputs = (states[:, None] == torch.arange(policy.num_states, device=states.device)).to(dtype)  # (N, S) one-hot
    # (F.one_hot reads the largest index, which vmap cannot batch)
    return torch.log_softmax(functional_call(policy, params, (inputs,)), -1)


def inner_objective(
    policy: MAMLPolicy, params: dict, states: torch.Tensor, actions: torch.Tensor, adv: torch.Tensor
) -> torch.Tensor:
    """REINFORCE surrogate of one task, J = mean_t A_t log pi(a_t | s_t) ([1] Eq. 4 with a baseline)."""
    log_probs = log_policy(policy, params, states).gather(-1, actions[:, None])[:, 0]  # (N,)
    return (log_probs * adv).mean()


def adapt(
    policy: MAMLPolicy, params: dict, states: torch.Tensor, actions: torch.Tensor, adv: torch.Tensor, config: MAMLConfig
) -> dict:
    """theta'_b for each of B tasks from their adaptation steps, batched with vmap(grad).

    Args:
        params: the shared theta {name: tensor}; gradients flow back into it unless first_order.
        states, actions, adv: (N, B) adaptation steps of B tasks, time-major.

    Returns:
        {name: (B, *shape)} adapted parameters, theta_{k+1} = theta_k + alpha * grad J(theta_k) ([1] Eq. 1,
        ascent), `num_inner_steps` times on the same steps.
    """

    def one_task(states_b, actions_b, adv_b, theta):
        for _ in range(config.num_inner_steps):
            grads = grad(lambda p: inner_objective(policy, p, states_b, actions_b, adv_b))(theta)
            theta = {name: theta[name] + config.inner_lr * grads[name] for name in theta}
        return theta

    if config.first_order:  # theta' = theta + stop_gradient(theta'(theta) - theta)
        detached = {name: value.detach() for name, value in params.items()}
        with torch.no_grad():
            adapted = vmap(one_task, in_dims=(1, 1, 1, None))(states, actions, adv, detached)
        return {name: params[name] + (adapted[name] - detached[name]) for name in params}
    return vmap(one_task, in_dims=(1, 1, 1, None))(states, actions, adv, params)


def batched_log_policy(policy: MAMLPolicy, adapted: dict, states: torch.Tensor) -> torch.Tensor:
    """log pi_theta'_b(. | s) at states (M, B) with per-task parameters {name: (B, ...)} -> (M, B, A)."""
    return vmap(lambda p, s: log_policy(policy, p, s), in_dims=(0, 1), out_dims=1)(adapted, states)


# ----------------------------------------------------------------------------- playing


class MAMLAgent(Baseline):
    """MAML played through the baselines' interface: B trials, one adaptation at the split.

    Before the split all trials act with theta; at the first step of episode `adapt_episodes` each
    trial's recorded steps give its theta' (`adapt`), which acts for the rest of the trial.
    """

    name = "maml"

    def __init__(self, task_config: TaskConfig, config: MAMLConfig = MAMLConfig(), policy: MAMLPolicy | None = None):
        super().__init__(task_config)
        self.maml = config
        self.adapt_episodes = adaptation_episodes(task_config, config)
        self.played = played_config(task_config, config)
        self.scored_from = config.adapt_trials * task_config.trial_len
        """Steps of the played trial before the scored one (0: the whole trial is scored)."""
        self.policy = (
            policy if policy is not None else MAMLPolicy(task_config.num_states, task_config.num_actions, config.hidden_sizes)
        )

    def reset(self, num_trials: int, device: torch.device, generator: torch.Generator) -> None:
        super().reset(num_trials, device, generator)
        self.params = {name: value.detach() for name, value in self.policy.named_parameters()}
        all_states = torch.arange(self.config.num_states, device=device)  # (S,)
        with torch.no_grad():
            # (B, S, A) log pi(a | s) of each trial's current parameters (log-probs serve as logits)
            self.logits = log_policy(self.policy, self.params, all_states).expand(num_trials, -1, -1)
        self.history = {"states": [], "actions": [], "rewards": []}  # lists of (B,) tensors
        self.episodes_done = 0

    def begin_episode(self) -> None:
        if self.episodes_done != self.adapt_episodes:
            return
        states, actions, rewards = (torch.stack(self.history[key]) for key in ("states", "actions", "rewards"))  # (N, B)
        adv = advantages(states, rewards, self.config, self.maml, self.maml.inner_norm_adv)
        with torch.no_grad():  # torch.func.grad still differentiates inside ([1] Eq. 1 at test time)
            adapted = adapt(self.policy, self.params, states, actions, adv, self.maml)
            all_states = torch.arange(self.config.num_states, device=self.device)[:, None].expand(-1, self.num_trials)
            self.logits = batched_log_policy(self.policy, adapted, all_states).transpose(0, 1)  # (B, S, A)

    def act(self, states: torch.Tensor, step_in_episode: int) -> torch.Tensor:
        logits = self.logits[torch.arange(self.num_trials, device=self.device), states]  # (B, A)
        return sample_actions(logits, self.generator)

    def update(self, states, actions, rewards, next_states, episode_done) -> None:
        if self.episodes_done < self.adapt_episodes:  # only the adaptation steps are needed
            dtype = self.params[next(iter(self.params))].dtype
            self.history["states"].append(states)
            self.history["actions"].append(actions)
            self.history["rewards"].append(rewards.to(dtype))
        self.episodes_done += int(episode_done)


def play_maml(agent: MAMLAgent, tasks: Tasks, env_generator: torch.Generator, agent_generator: torch.Generator) -> TrialRecord:
    """The played trial (`agent.played`: any unscored trials, then the scored one) on each of the B
    `tasks` through `rl2lib.agents.play_trials`; (T, B) records."""
    agent.policy.to(tasks.device)
    return play_trials(BaselineAgent(agent, agent_generator), TrialEnv(tasks, agent.played, env_generator))


def scored_totals(agent: MAMLAgent, record: TrialRecord) -> torch.Tensor:
    """Total reward of the scored trial within each played one, (B,)."""
    return record.rewards[agent.scored_from :].sum(0)


def evaluate_maml(
    agent: MAMLAgent, num_trials: int = 1000, seed: int = 0, device: torch.device | str = "cpu", name: str = "maml"
) -> EvalResult:
    """Mean whole-trial total of `agent` on the seeded tasks every other agent gets (`rl2lib.evaluate`)."""
    tasks = seeded_tasks(agent.config, num_trials, seed, device)
    env_generator, agent_generator = evaluation_generators(seed, device)
    record = play_maml(agent, tasks, env_generator, agent_generator)
    return EvalResult(name, agent.config, scored_totals(agent, record).double().cpu(), seed, None)


# ----------------------------------------------------------------------------- the outer step


def outer_step(agent: MAMLAgent, optimizer: torch.optim.Optimizer, tasks: Tasks, generators: dict) -> dict:
    """Play one trial per task, then update theta on the post-adaptation steps ([1] Alg. 3).

    Loss: PPO's clipped surrogate [4] Eq. 7 of pi_theta'(theta) against the theta' that sampled the
    steps, theta' recomputed from the fixed adaptation steps every minibatch, so the gradient flows
    through the inner step; advantages: returns within episodes minus each task's linear baseline,
    standardised over the meta-batch. Epochs stop once the mean KL(pi_theta'_old || pi_theta') over
    the visited states passes `target_kl`.

    Args:
        generators: 'env', 'actions' and 'minibatches' torch.Generators.

    Returns:
        statistics: mean trial return, mean reward per step before / after the split, losses, KL, epochs.
    """
    cfg, task_config, policy = agent.maml, agent.config, agent.policy
    record = play_maml(agent, tasks, generators["env"], generators["actions"])  # (T, B)
    split = agent.adapt_episodes * task_config.traj_len
    dtype = next(policy.parameters()).dtype
    rewards = record.rewards.to(dtype)  # (T, B)
    states_in, actions_in, rewards_in = record.states[:split], record.actions[:split], rewards[:split]  # (N, B)
    states_out, actions_out, rewards_out = record.states[split:], record.actions[split:], rewards[split:]  # (M, B)
    adv_in = advantages(states_in, rewards_in, task_config, cfg, cfg.inner_norm_adv)  # (N, B)
    adv_out = advantages(states_out, rewards_out, task_config, cfg, per_task_norm=False)  # (M, B)
    adv_out = (adv_out - adv_out.mean()) / (adv_out.std() + 1e-8)
    params = dict(policy.named_parameters())
    with torch.no_grad():
        old_adapted = adapt(policy, {k: v.detach() for k, v in params.items()}, states_in, actions_in, adv_in, cfg)
        old_log_all = batched_log_policy(policy, old_adapted, states_out)  # (M, B, A)
    old_log_probs = old_log_all.gather(-1, actions_out[..., None])[..., 0]  # (M, B)
    B = tasks.num_tasks
    sums, count, epochs_run, stopped = {}, 0, 0, False
    for epoch in range(cfg.update_epochs):
        order = torch.randperm(B, generator=generators["minibatches"], device=generators["minibatches"].device)
        for index in order.to(record.actions.device).split(cfg.minibatch_tasks):
            adapted = adapt(policy, params, states_in[:, index], actions_in[:, index], adv_in[:, index], cfg)
            log_all = batched_log_policy(policy, adapted, states_out[:, index])  # (M, b, A)
            log_probs = log_all.gather(-1, actions_out[:, index, None])[..., 0]  # (M, b)
            ratio = (log_probs - old_log_probs[:, index]).exp()
            mb_adv = adv_out[:, index]
            surrogate = torch.min(ratio * mb_adv, ratio.clamp(1 - cfg.clip_coef, 1 + cfg.clip_coef) * mb_adv)
            loss = -surrogate.mean()
            if not torch.isfinite(loss):
                raise FloatingPointError("MAML outer loss is not finite")
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            nn.utils.clip_grad_norm_(policy.parameters(), cfg.max_grad_norm)
            optimizer.step()
            with torch.no_grad():
                old = old_log_all[:, index]
                kl = (old.exp() * (old - log_all)).sum(-1).mean()  # exact categorical KL(old || new)
                terms = {
                    "policy_loss": loss,
                    "kl": kl,
                    "entropy": -(log_all.exp() * log_all).sum(-1).mean(),
                    "clip_frac": ((ratio - 1).abs() > cfg.clip_coef).float().mean(),
                }
            for key, value in terms.items():
                sums[key] = sums.get(key, 0.0) + value.item()
            count += 1
            if cfg.target_kl is not None and kl.item() > cfg.target_kl:
                stopped = True
                break
        epochs_run = epoch + 1
        if stopped:
            break
    stats = {key: value / count for key, value in sums.items()}
    return {
        "mean_trial_return": scored_totals(agent, record).mean().item(),
        "pre_reward": rewards_in.mean().item(),
        "post_reward": rewards_out.mean().item(),
        **stats,
        "epochs": epochs_run,
    }


# ----------------------------------------------------------------------------- what one adaptation can reach


def one_step_ceiling(
    num_actions: int,
    num_traj: int,
    adapt_pulls: int,
    explored_arms: int,
    scored_adaptation: bool,
    num_tasks: int = 20_000,
    seed: int = 0,
) -> float:
    """An upper bound, by Monte Carlo on `num_tasks` seeded bandits, on the expected scored total of any
    memoryless agent that adapts once on a bandit of n = `num_traj` pulls: before adapting, a memoryless
    policy sees the same constant input at every pull, so it draws arms i.i.d. from one fixed
    distribution (here uniform over `explored_arms` of the k arms); after, the best it can do for the
    rest of the trial is the arm of highest posterior mean (uniform prior). `scored_adaptation`: the
    `adapt_pulls` count toward the trial (they earn the arms' mean, 1/2 each: adapt within the trial,
    `adapt_episodes`); otherwise they are an unscored trial of their own (`adapt_trials` 1, adapt_pulls = n)
    and all n scored pulls play the chosen arm.
    """
    g = torch.Generator().manual_seed(seed)
    B, k, N = num_tasks, num_actions, adapt_pulls
    arm_probs = torch.rand(B, k, generator=g, dtype=torch.float64)  # (B, k) ~ U(0, 1), the tasks' prior
    arms = torch.randint(explored_arms, (B, N), generator=g)  # (B, N)
    rewards = (torch.rand(B, N, generator=g, dtype=torch.float64) < arm_probs.gather(1, arms)).double()  # (B, N)
    pulls = torch.zeros(B, k, dtype=torch.float64).scatter_add_(1, arms, torch.ones_like(rewards))  # (B, k)
    wins = torch.zeros(B, k, dtype=torch.float64).scatter_add_(1, arms, rewards)  # (B, k)
    posterior_mean = (wins + 1) / (pulls + 2) + 1e-9 * torch.rand(B, k, generator=g, dtype=torch.float64)  # ties
    chosen = arm_probs.gather(1, posterior_mean.argmax(1, keepdim=True)).mean().item()
    return 0.5 * N + (num_traj - N) * chosen if scored_adaptation else num_traj * chosen
