"""The one trial loop and what it plays: B whole trials of the RL^2 protocol ([1] Sec. 2.2), stepped as tensors.

`play_trials(agent, env)` plays every agent: a trained policy (`PolicyAgent`: a GRU or SNAIL reading
the RL^2 input, with the trial's clock appended when its `clock` is set, its memory fresh at the trial's
start and carried across episode boundaries) and a
baseline (`BaselineAgent`, which adapts `rl2lib.baselines.Baseline`'s interface, MAML's agent
included). An agent satisfies `TrialAgent`: `start` at the trial's start, `prepare` before each
step (a baseline plans at an episode's start, a policy reads its input), `act`, then `observe` the
step's result. Training (`rl2lib.rollout`), evaluation, the explorer (one step at a time) and the
naive bench all go through it, so every caller draws from the generators in the same order:
nothing for `prepare` but a baseline's planning, the agent's generator for `act`, then the
environment's. Everything is time-major, (T, B), with T = n * episode length.
References: [1] Duan et al. 2016, "RL^2".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import torch

from rl2lib.baselines import Baseline
from rl2lib.envs import StepResult, TrialEnv
from rl2lib.envs.trial import steps_left


@dataclass
class TrialRecord:
    """Everything that happened in B trials, time-major."""

    states: torch.Tensor  # (T, B) long, the state before each step
    actions: torch.Tensor  # (T, B) long
    rewards: torch.Tensor  # (T, B) float64
    episode_done: torch.Tensor  # (T,) bool, step t ended an episode
    trial_done: torch.Tensor  # (T,) bool, step t ended the trial (only the last)

    @property
    def totals(self) -> torch.Tensor:
        """Undiscounted total reward of each trial, (B,)."""
        return self.rewards.sum(0)


class TrialAgent(Protocol):
    """What `play_trials` (and the explorer, a step at a time) calls, in this order."""

    def start(self, env: TrialEnv, obs: torch.Tensor) -> None:
        """The trials start (fresh memory); obs (B, O) is their first RL^2 input."""

    def prepare(self, env: TrialEnv) -> None:
        """Before each step, once: whatever the action needs that can be shown before it is drawn."""

    def act(self, env: TrialEnv) -> torch.Tensor:
        """The actions (B,) long in `env.states`."""

    def observe(self, states: torch.Tensor, actions: torch.Tensor, result: StepResult) -> None:
        """The step from `states` (B,) with `actions` (B,) gave `result`."""


def sample_actions(logits: torch.Tensor, generator: torch.Generator, greedy: bool = False) -> torch.Tensor:
    """Actions (B,) from logits (B, A): argmax if greedy, else a Gumbel-max draw (= softmax sampling)."""
    if greedy:
        return logits.argmax(-1)
    uniforms = torch.rand(logits.shape, generator=generator, device=logits.device, dtype=logits.dtype)
    gumbels = -torch.log(-torch.log(uniforms.clamp_(min=1e-20)))
    return (logits + gumbels).argmax(-1)


def trial_clock(T: int, device: torch.device | str | None = None) -> torch.Tensor:
    """The clock a policy with `ModelConfig.clock` reads at each step of a trial of T steps: the
    fraction of the trial's steps left, (T - t) / T for t = 0..T-1, shape (T,)."""
    return steps_left(T, 1.0, device) / T


class InputLog:
    """What a policy reads at each step of B trials, (T, B, O): the RL^2 input, then `trial_clock` in the last
    column when `clock` is set. `next_obs` (B, O_env) is the input of the step to come; `write(t)` enters it."""

    def __init__(self, env: TrialEnv, obs_size: int, clock: bool, first_obs: torch.Tensor):
        T, B = env.config.trial_len, env.num_trials
        self.obs = torch.zeros(T, B, obs_size, device=env.device)  # (T, B, O)
        if clock:
            self.obs[..., -1] = trial_clock(T, env.device)[:, None]
        self.next_obs = first_obs  # (B, O_env)

    def write(self, t: int) -> torch.Tensor:
        """Enter `next_obs` as step t's input; returns that input, (B, O)."""
        self.obs[t, :, : self.next_obs.shape[1]] = self.next_obs
        return self.obs[t]


class PolicyAgent:
    """A trained policy as an agent; it keeps, per step, what the PPO update needs.

    Args:
        policy: a model with `initial_state(B, device, values)` and `step(obs (B, O), state)` returning
            logits (B, A), values (B,) and the next state, and `obs_size` O and `clock`: its input is
            the RL^2 input, then `trial_clock` when `clock` is set.
        generator: the action sampler's randomness.
        greedy: argmax actions instead of sampling (evaluation option).
        values: step the value network; False when only playing (evaluation): the policy may then
            skip it and record NaN values (a third of SNAIL's step memory), with the same actions.
    """

    def __init__(self, policy: torch.nn.Module, generator: torch.Generator, greedy: bool = False, values: bool = True):
        self.policy, self.generator, self.greedy, self.step_values = policy, generator, greedy, values

    def start(self, env: TrialEnv, obs: torch.Tensor) -> None:
        T, B, device = env.config.trial_len, env.num_trials, env.device
        if self.policy.obs_size != env.config.obs_size + self.policy.clock:
            raise ValueError(
                f"the policy reads {self.policy.obs_size} inputs, the RL^2 input of this task has {env.config.obs_size}"
                f"{' and the clock 1' if self.policy.clock else ''}: a policy of another task"
            )
        self.inputs = InputLog(env, self.policy.obs_size, self.policy.clock, obs)
        self.obs = self.inputs.obs  # (T, B, O) the input at each step
        self.log_probs = torch.zeros(T, B, device=device)  # (T, B) log pi(a_t | history)
        self.values = torch.zeros(T, B, device=device)  # (T, B) the value head's output
        self.memory = self.policy.initial_state(B, device, values=self.step_values)  # fresh memory at the trial's start

    @torch.no_grad()
    def prepare(self, env: TrialEnv) -> None:
        t = env.step_in_trial
        self.logits, self.values[t], self.next_memory = self.policy.step(self.inputs.write(t), self.memory)  # (B, A)

    def act(self, env: TrialEnv) -> torch.Tensor:
        t = env.step_in_trial
        actions = sample_actions(self.logits, self.generator, self.greedy)  # (B,)
        self.log_probs[t] = torch.log_softmax(self.logits, -1).gather(1, actions[:, None])[:, 0]
        return actions

    def observe(self, states: torch.Tensor, actions: torch.Tensor, result: StepResult) -> None:
        self.memory = self.next_memory
        self.inputs.next_obs = result.obs


class BaselineAgent:
    """A baseline (`rl2lib.baselines.Baseline`'s interface) as an agent; `generator` is its own randomness."""

    def __init__(self, baseline: Baseline, generator: torch.Generator):
        self.baseline, self.generator = baseline, generator

    def start(self, env: TrialEnv, obs: torch.Tensor) -> None:
        self.baseline.tasks = env.tasks  # only the ceilings (oracles) read the true tasks
        self.baseline.reset(env.num_trials, env.device, self.generator)

    def prepare(self, env: TrialEnv) -> None:
        if env.step_in_episode == 0:
            self.baseline.begin_episode()

    def act(self, env: TrialEnv) -> torch.Tensor:
        return self.baseline.act(env.states, env.step_in_episode)

    def observe(self, states: torch.Tensor, actions: torch.Tensor, result: StepResult) -> None:
        self.baseline.update(states, actions, result.rewards, result.next_states, result.episode_done)


def play_trials(agent: TrialAgent, env: TrialEnv) -> TrialRecord:
    """Play one whole trial in each of the env's B tasks. Returns a TrialRecord of (T, B) tensors."""
    T, B, device = env.config.trial_len, env.num_trials, env.device
    states = torch.zeros(T, B, dtype=torch.long, device=device)  # (T, B)
    actions = torch.zeros(T, B, dtype=torch.long, device=device)  # (T, B)
    rewards = torch.zeros(T, B, dtype=torch.float64, device=device)  # (T, B)
    episode_done = torch.zeros(T, dtype=torch.bool)  # (T,)
    trial_done = torch.zeros(T, dtype=torch.bool)  # (T,)
    agent.start(env, env.reset())
    for t in range(T):
        agent.prepare(env)
        states[t] = env.states
        actions[t] = agent.act(env)
        result = env.step(actions[t])
        rewards[t] = result.rewards
        episode_done[t], trial_done[t] = result.episode_done, result.trial_done
        agent.observe(states[t], actions[t], result)
    return TrialRecord(states, actions, rewards, episode_done, trial_done)
