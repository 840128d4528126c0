"""An interactive explorer: one trial on one task, stepped by hand, beside the baselines.

`TrialSession` holds the logic and no widgets, so it can be tested: a setting (`TaskConfig`), an
agent (a baseline name of `rl2lib.baselines.BASELINES`, or a checkpoint written by `rl2-train`) and
a seed fix one task and one trial, with the seeds of `rl2lib.evaluate` (task from `seed`,
environment noise from `seed + 1`, the agent's randomness from `seed + 2`), so that stepping a
session to its end gives the trial that `rl2lib.evaluate.play_baseline(..., num_trials=1, seed)`
(or `evaluate_policy`) plays. At each step it shows what the agent would do next and what has been
seen so far:
- the agent's action probabilities. A trained policy: the softmax of its logits, exact. A baseline
  has no explicit policy, so the explorer reports an estimate: the fraction of `num_replicas`
  copies of the baseline that pick each action now, each copy fed the same observations as the
  agent (the same actions, rewards and states) but drawing its own internal randomness (from
  `seed + 3`). That is P(a | history) with the baseline's randomness averaged out; for the MDP
  baselines that plan once per episode it is not conditioned on the agent's own earlier choices
  within the episode (which hint at the plan it drew). Deterministic baselines (greedy, UCB1,
  Gittins, oracle) give one-hot estimates, except where ties are broken at random.
- bandits: the Beta(1 + successes, 1 + failures) posterior of each arm under the task
  distribution's uniform prior ([1] Sec. 3.1), computed from the trial's history whatever the agent;
  MDPs: how often each state has been visited.
- the cumulative reward beside a few baselines (bandit: greedy, TS, oracle; MDP: greedy, PSRL,
  oracle) played on the same task with the same seed through `rl2lib.evaluate.play_trials`.
Baselines run with their default hyper-parameter (no tuning). `build_explorer` wires ipywidgets to
a session and redraws a PNG of `plot_session` in an `ipywidgets.Output` (DOM class `rl2-plot`) and
a one-line summary (DOM class `rl2-summary`, e.g. "step 3/10, total reward 2.00").
References: [1] Duan et al. 2016, "RL^2"; [2] Mishra et al. 2018, "SNAIL".
"""
from __future__ import annotations

import html
import io
from dataclasses import dataclass
from pathlib import Path

import ipywidgets as widgets
import numpy as np
import torch
from IPython.display import Image, clear_output, display
from matplotlib.figure import Figure
from scipy.stats import beta as beta_distribution

from rl2lib.baselines import BASELINES, Baseline
from rl2lib.config import ConfigError, TaskConfig
from rl2lib.envs import Tasks, TrialEnv, seeded_tasks
from rl2lib.evaluate import make_baseline, make_generators, play_trials
from rl2lib.paths import results_dir
from rl2lib.rollout import sample_actions

REPLICA_SEED_OFFSET = 3
"""The replicas that estimate a baseline's action probabilities draw from `seed + 3`, a stream of
their own: estimating never changes what the agent does."""

COMPARISON_AGENTS = {"bandit": ("greedy", "ts", "oracle"), "mdp": ("greedy", "psrl", "oracle")}
"""Baselines whose cumulative reward on the same task is drawn beside the agent's."""


def find_checkpoints(runs_dir: Path | None = None) -> list[Path]:
    """Checkpoints written by `rl2-train` under `runs_dir` (default results/runs/*/checkpoint.pt)."""
    runs_dir = results_dir() / "runs" if runs_dir is None else Path(runs_dir)
    return sorted(runs_dir.glob("*/checkpoint.pt"))


def is_checkpoint(agent: str | Path) -> bool:
    return str(agent).endswith(".pt")


def checkpoint_task_config(path: str | Path) -> TaskConfig:
    """The task setting a checkpoint was trained on (a TrainingError if it cannot be read)."""
    from rl2lib.train import load_policy

    return load_policy(Path(path))[1].task


@dataclass
class StepRecord:
    """One step of the session's trial."""

    state: int  # state the agent acted in (always 0 on a bandit)
    action: int
    reward: float
    episode_done: bool  # the step ended an episode
    probs: np.ndarray | None  # (A,) the action probabilities shown before the step, if computed


class TrialSession:
    """One trial of one agent on one task, advanced a step at a time.

    Args:
        task_config: the setting (task, k = num_actions, n = num_traj).
        agent: a baseline name for the task, or the path of a checkpoint (.pt) trained on the same
            task and k (a GRU plays any n; a SNAIL only the trial length it was built for).
        seed: evaluation seed: the task is task 0 of `seeded_tasks(task_config, 1, seed)`.
        tasks: a task to play instead of the seeded one (one task: `num_tasks == 1`).
        num_replicas: copies of a baseline used to estimate its action probabilities; 0 turns the
            estimate off.
        param: the baseline's hyper-parameter; None takes its default.
        compare: baselines drawn beside the agent; None takes `COMPARISON_AGENTS[task]`.
    """

    def __init__(self, task_config: TaskConfig, agent: str | Path, seed: int = 0, tasks: Tasks | None = None,
                 num_replicas: int = 200, param=None, compare: tuple[str, ...] | None = None):
        self.config = task_config
        self.agent_name = str(agent)
        self.seed = seed
        self.num_replicas = num_replicas
        self.tasks = seeded_tasks(task_config, 1, seed) if tasks is None else tasks
        if self.tasks.num_tasks != 1:
            raise ConfigError(f"a session plays one task, got {self.tasks.num_tasks}")
        self.policy, self.baseline = None, None
        if is_checkpoint(agent):
            self.policy = self._load_policy(Path(agent))
        else:
            self.baseline = make_baseline(task_config, self.agent_name, param)
        self.param = None if self.baseline is None else self.baseline.param
        compare = COMPARISON_AGENTS[task_config.task] if compare is None else compare
        self.comparison_rewards = self._play_comparisons([name for name in compare if name != self.agent_name])
        self.reset()

    # setting up -------------------------------------------------------------------------------
    def _load_policy(self, path: Path) -> torch.nn.Module:
        from rl2lib.train import TrainingError, load_policy

        try:
            policy, trained = load_policy(path)
        except TrainingError as error:
            raise ConfigError(str(error)) from None
        task = trained.task
        if (task.task, task.num_actions) != (self.config.task, self.config.num_actions):
            raise ConfigError(f"{path} was trained on task={task.task}, k={task.num_actions}; "
                              f"pick that setting (now task={self.config.task}, k={self.config.num_actions})")
        if trained.model.model_type == "snail" and self.config.trial_len != task.trial_len:
            raise ConfigError(f"{path} is a SNAIL built for trials of {task.trial_len} steps: "
                              f"pick n={task.num_traj}")
        return policy

    def _play_comparisons(self, names: list[str]) -> dict[str, np.ndarray]:
        """Rewards (T,) of one trial of each baseline on this task, with the session's seeds."""
        rewards = {}
        for name in names:
            env_generator, agent_generator = make_generators(self.seed)
            env = TrialEnv(self.tasks, self.config, env_generator)
            record = play_trials(make_baseline(self.config, name), env, agent_generator)
            rewards[name] = record.rewards[:, 0].double().numpy()  # (T,)
        return rewards

    def _make_replicas(self) -> Baseline | None:
        """`num_replicas` fresh copies of the baseline, all on this task, with their own generator."""
        if self.baseline is None or self.num_replicas < 1:
            return None
        replicas = make_baseline(self.config, self.agent_name, self.param)
        replicas.tasks = self.tasks.select(torch.zeros(self.num_replicas, dtype=torch.long))  # only oracles read it
        generator = torch.Generator().manual_seed(self.seed + REPLICA_SEED_OFFSET)
        replicas.reset(self.num_replicas, self.tasks.device, generator)
        return replicas

    def reset(self) -> None:
        """Back to the trial's start on the same task, with the same seeds: replays identically."""
        env_generator, self.agent_generator = make_generators(self.seed)
        self.env = TrialEnv(self.tasks, self.config, env_generator)
        self.obs = self.env.reset()  # (1, obs_size)
        if self.baseline is not None:
            self.baseline.tasks = self.tasks  # only the oracle reads the true task
            self.baseline.reset(1, self.tasks.device, self.agent_generator)
        else:
            self.memory = self.policy.initial_state(1, self.tasks.device)
        self.replicas = self._make_replicas()
        self.history: list[StepRecord] = []
        self._probs = None
        self._prepare_step()

    # stepping ---------------------------------------------------------------------------------
    @property
    def num_steps(self) -> int:
        """T = n * episode length."""
        return self.config.trial_len

    @property
    def t(self) -> int:
        """Steps taken so far."""
        return len(self.history)

    @property
    def done(self) -> bool:
        return self.t >= self.num_steps

    @property
    def state(self) -> int:
        """The state the agent acts in next."""
        return int(self.env.states[0])

    @property
    def total(self) -> float:
        """Undiscounted reward so far."""
        return float(sum(record.reward for record in self.history))

    def _prepare_step(self) -> None:
        """What happens before an action: baselines (re-)plan at an episode's start, a policy reads its input."""
        if self.done:
            return
        if self.baseline is not None:
            if self.env.step_in_episode == 0:
                self.baseline.begin_episode()
                if self.replicas is not None:
                    self.replicas.begin_episode()
        else:
            with torch.no_grad():
                self.logits, _, self.next_memory = self.policy.step(self.obs, self.memory)  # (1, A)

    def step(self) -> StepRecord:
        """Take one step of the trial (a RuntimeError once the trial is over)."""
        if self.done:
            raise RuntimeError("the trial is over: reset() to play it again")
        states = self.env.states.clone()  # (1,)
        if self.baseline is not None:
            actions = self.baseline.act(states, self.env.step_in_episode)  # (1,)
        else:
            actions = sample_actions(self.logits, self.agent_generator)  # (1,)
        result = self.env.step(actions)
        if self.baseline is not None:
            self.baseline.update(states, actions, result.rewards, result.next_states, result.episode_done)
            if self.replicas is not None:
                R = self.num_replicas
                self.replicas.update(states.expand(R), actions.expand(R), result.rewards.expand(R),
                                     result.next_states.expand(R), result.episode_done)
        else:
            self.memory = self.next_memory
        self.obs = result.obs
        record = StepRecord(int(states[0]), int(actions[0]), float(result.rewards[0]), result.episode_done,
                            self._probs)
        self.history.append(record)
        self._probs = None
        self._prepare_step()
        return record

    def advance(self, num_steps: int) -> list[StepRecord]:
        """Up to `num_steps` steps (fewer if the trial ends first)."""
        return [self.step() for _ in range(min(num_steps, self.num_steps - self.t))]

    def play(self) -> list[StepRecord]:
        """Play the trial to its end. The replicas are dropped first (no probabilities are shown on
        the way, and planning for them every episode is the slow part); `reset` brings them back."""
        self.replicas = None
        return self.advance(self.num_steps - self.t)

    # what the explorer shows -----------------------------------------------------------------
    @property
    def probs_source(self) -> str:
        if self.policy is not None:
            return "softmax of the policy's logits"
        return f"fraction of {self.num_replicas} copies of {self.agent_name} given the same history"

    def action_probs(self) -> np.ndarray | None:
        """P(action) at the current step, (A,); None once the trial is over or where not estimated."""
        if self.done:
            return None
        if self._probs is None:
            if self.policy is not None:
                self._probs = torch.softmax(self.logits[0].double(), -1).numpy()
            elif self.replicas is not None:
                R = self.num_replicas
                actions = self.replicas.act(self.env.states.expand(R), self.env.step_in_episode)  # (R,)
                counts = torch.bincount(actions, minlength=self.config.num_actions).double()  # (A,)
                self._probs = (counts / R).numpy()
        return self._probs

    def arm_posterior(self) -> dict[str, np.ndarray]:
        """Bandits: per arm (K,) successes, failures, pulls, and the Beta(1 + s, 1 + f) posterior
        mean with its central 90% interval (the uniform prior of [1] Sec. 3.1)."""
        k = self.config.num_actions
        successes, failures = np.zeros(k), np.zeros(k)
        for record in self.history:
            successes[record.action] += record.reward
            failures[record.action] += 1.0 - record.reward
        a, b = 1.0 + successes, 1.0 + failures
        return {"successes": successes, "failures": failures, "pulls": successes + failures,
                "mean": a / (a + b), "low": beta_distribution.ppf(0.05, a, b),
                "high": beta_distribution.ppf(0.95, a, b)}

    def visit_counts(self) -> np.ndarray:
        """Steps taken in each (state, action) so far, (S, A); `.sum(1)` gives the state-visit counts."""
        counts = np.zeros((self.config.num_states, self.config.num_actions))
        for record in self.history:
            counts[record.state, record.action] += 1
        return counts

    def cumulative_rewards(self) -> np.ndarray:
        """The agent's cumulative reward after each step so far, (t,)."""
        return np.cumsum([record.reward for record in self.history])

    def summary(self) -> str:
        """One line, e.g. 'step 3/10, total reward 2.00 (last: action 1 -> 1.00)'."""
        line = f"step {self.t}/{self.num_steps}, total reward {self.total:.2f}"
        if self.history:
            last = self.history[-1]
            where = f"in state {last.state} " if self.config.task == "mdp" else ""
            line += f" (last: action {last.action} {where}-> {last.reward:.2f})"
        if self.done:
            line += "; trial over"
        return line


# ----------------------------------------------------------------------------------------------
# The figure
# ----------------------------------------------------------------------------------------------


def plot_session(session: TrialSession) -> Figure:
    """Three panels: next-action probabilities, the posterior (bandit) or state visits (MDP), and
    cumulative reward against the comparison baselines on the same task. Built without pyplot, so
    that redrawing from a widget callback leaves no figure behind."""
    cfg = session.config
    figure = Figure(figsize=(13, 3.6))
    ax_probs, ax_seen, ax_reward = figure.subplots(1, 3)
    actions = np.arange(cfg.num_actions)

    probs = session.action_probs()
    if probs is None:
        ax_probs.text(0.5, 0.5, "trial over" if session.done else "not estimated (num_replicas = 0)",
                      ha="center", va="center", transform=ax_probs.transAxes)
    else:
        colors = ["tab:blue"] * cfg.num_actions
        if cfg.task == "bandit":
            colors[int(session.tasks.arm_probs[0].argmax())] = "tab:green"
        ax_probs.bar(actions, probs, color=colors)
        ax_probs.set_ylim(0, 1.05)
    where = f", state {session.state}" if cfg.task == "mdp" and not session.done else ""
    ax_probs.set_title(f"next action{where}: P(a)\n({session.probs_source})", fontsize=8)
    ax_probs.set_xlabel("arm (green: best)" if cfg.task == "bandit" else "action")
    ax_probs.set_xticks(actions)

    if cfg.task == "bandit":
        posterior = session.arm_posterior()
        mean = posterior["mean"]
        ax_seen.errorbar(actions, mean, yerr=[mean - posterior["low"], posterior["high"] - mean], fmt="o",
                         capsize=3, label="posterior mean, 90% interval")
        ax_seen.plot(actions, session.tasks.arm_probs[0].numpy(), "kx", label="true p (hidden from the agent)")
        for arm in actions:
            ax_seen.annotate(f"{posterior['successes'][arm]:.0f}/{posterior['pulls'][arm]:.0f}",
                             (arm, 1.03), ha="center", fontsize=7)
        ax_seen.set_ylim(0, 1.32)
        ax_seen.set_yticks(np.linspace(0, 1, 6))
        ax_seen.set_xticks(actions)
        ax_seen.set_xlabel("arm")
        ax_seen.set_title("Beta(1 + successes, 1 + failures); successes/pulls on top", fontsize=8)
        ax_seen.legend(fontsize=7, loc="upper center", ncol=2)
    else:
        visits = session.visit_counts().sum(1)  # (S,)
        colors = ["tab:blue"] * cfg.num_states
        if not session.done:
            colors[session.state] = "tab:orange"
        ax_seen.bar(np.arange(cfg.num_states), visits, color=colors)
        ax_seen.set_xticks(np.arange(cfg.num_states))
        ax_seen.set_xlabel("state (orange: the current one)")
        ax_seen.set_title("state visits so far", fontsize=8)

    steps = np.arange(1, session.num_steps + 1)
    for name, rewards in session.comparison_rewards.items():
        ax_reward.plot(steps, np.cumsum(rewards), "--", linewidth=1, label=f"{name} (same task, same seed)")
    mine = session.cumulative_rewards()
    ax_reward.plot(np.arange(1, session.t + 1), mine, "-", color="black", linewidth=2,
                   marker="o" if session.num_steps <= 30 else None, markersize=3, label=session_label(session))
    ax_reward.axvline(session.t, color="gray", linewidth=0.5)
    ax_reward.set_xlim(0, session.num_steps + 1)
    ax_reward.set_xlabel("step of the trial")
    ax_reward.set_title(session.summary(), fontsize=8)
    ax_reward.legend(fontsize=7, loc="upper left")
    figure.tight_layout()
    return figure


def session_label(session: TrialSession) -> str:
    """The agent's name: a baseline's name, or a checkpoint's run folder."""
    if session.policy is not None:
        return Path(session.agent_name).parent.name or session.agent_name
    return session.agent_name


def figure_png(figure: Figure, dpi: int = 80) -> bytes:
    """The figure as PNG bytes (independent of the notebook's matplotlib backend)."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()


def render_png(session: TrialSession) -> bytes:
    """PNG of `plot_session(session)`."""
    return figure_png(plot_session(session))


# ----------------------------------------------------------------------------------------------
# The widgets
# ----------------------------------------------------------------------------------------------


def agent_options(task: str, checkpoints: list[Path]) -> list[tuple[str, str]]:
    """(label, value) pairs: the task's baselines, then every checkpoint found."""
    options = [(name, name) for name in BASELINES[task]]
    options += [(f"{path.parent.name} (trained)", str(path)) for path in checkpoints]
    return options


class Explorer(widgets.VBox):
    """The explorer's widgets around a `TrialSession`; `session` is None while the setting is invalid."""

    def __init__(self, task: str, num_actions: int, num_traj: int, agent: str, seed: int,
                 runs_dir: Path | None, num_replicas: int):
        self.checkpoints = find_checkpoints(runs_dir)
        self.num_replicas = num_replicas
        self.session: TrialSession | None = None
        self._quiet = 0  # > 0 while one control updates others, so that the session is rebuilt once
        self.task_box = widgets.Dropdown(options=list(BASELINES), value=task, description="task")
        self.k_box = widgets.BoundedIntText(value=num_actions, min=1, max=100, description="k (actions)",
                                           style={"description_width": "initial"})
        self.n_box = widgets.BoundedIntText(value=num_traj, min=1, max=1000, description="n (episodes)",
                                           style={"description_width": "initial"})
        options = agent_options(task, self.checkpoints)
        if agent not in [value for _, value in options]:
            options.append((f"{Path(agent).parent.name} (trained)", agent))
        self.agent_box = widgets.Dropdown(options=options, value=agent, description="agent")
        self.seed_box = widgets.IntText(value=seed, description="seed")
        self.new_task_button = widgets.Button(description="new task (seed + 1)")
        self.step_button = widgets.Button(description="step", button_style="primary")
        self.play_button = widgets.Button(description="play to end")
        self.reset_button = widgets.Button(description="reset")
        for name, button in (("new-task", self.new_task_button), ("step", self.step_button),
                             ("play", self.play_button), ("reset", self.reset_button)):
            button.add_class(f"rl2-{name}")
        self.summary = widgets.HTML()
        self.summary.add_class("rl2-summary")
        self.plot = widgets.Output()
        self.plot.add_class("rl2-plot")

        self.task_box.observe(self._on_task, names="value")
        self.agent_box.observe(self._on_agent, names="value")
        for box in (self.k_box, self.n_box, self.seed_box):
            box.observe(lambda change: self._rebuild(), names="value")
        self.new_task_button.on_click(lambda _: setattr(self.seed_box, "value", self.seed_box.value + 1))
        self.step_button.on_click(lambda _: self._act("step"))
        self.play_button.on_click(lambda _: self._act("play"))
        self.reset_button.on_click(lambda _: self._act("reset"))
        super().__init__([
            widgets.HBox([self.task_box, self.k_box, self.n_box]),
            widgets.HBox([self.agent_box, self.seed_box, self.new_task_button]),
            widgets.HBox([self.step_button, self.play_button, self.reset_button]),
            self.summary, self.plot])
        self.add_class("rl2-explorer")
        self._rebuild()

    def _on_task(self, change) -> None:
        """A new task family: offer its baselines (a checkpoint stays selected; TS becomes PSRL)."""
        options = agent_options(change["new"], self.checkpoints)
        values = [value for _, value in options]
        agent = self.agent_box.value
        if agent not in values and not is_checkpoint(agent):
            agent = COMPARISON_AGENTS[change["new"]][1]
        self._quiet += 1
        try:
            self.agent_box.options = options if agent in values else options + [(agent, agent)]
            self.agent_box.value = agent
        finally:
            self._quiet -= 1
        self._rebuild()

    def _on_agent(self, change) -> None:
        """A checkpoint brings the task and k it was trained on."""
        if self._quiet:
            return
        if is_checkpoint(change["new"]):
            self._quiet += 1
            try:
                trained = checkpoint_task_config(change["new"])
                self.k_box.value = trained.num_actions
                self.task_box.value = trained.task
            except Exception:  # noqa: BLE001 - an unreadable file is reported by _rebuild
                pass
            finally:
                self._quiet -= 1
        self._rebuild()

    def _rebuild(self) -> None:
        """A new session for the controls' setting, agent and seed."""
        if self._quiet:
            return
        try:
            config = TaskConfig(task=self.task_box.value, num_actions=self.k_box.value,
                                num_traj=self.n_box.value)
            self.session = TrialSession(config, self.agent_box.value, self.seed_box.value,
                                        num_replicas=self.num_replicas)
        except (ConfigError, RuntimeError) as error:
            self.session = None
            self._show(f"cannot play this setting: {error}")
            return
        self._show()

    def _act(self, what: str) -> None:
        if self.session is None:
            return
        if what == "step" and not self.session.done:
            self.session.step()
        elif what == "play":
            self.session.play()
        elif what == "reset":
            self.session.reset()
        self._show()

    def _show(self, error: str | None = None) -> None:
        """Redraw the summary line and the figure."""
        done = self.session is None or self.session.done
        self.step_button.disabled = self.play_button.disabled = done
        self.reset_button.disabled = self.session is None
        with self.plot:
            clear_output(wait=True)
            if error is None:
                display(Image(render_png(self.session)))
        self.summary.value = html.escape(error if error is not None else self.session.summary())


def build_explorer(task: str = "bandit", num_actions: int = 5, num_traj: int = 10, agent: str = "ts",
                   seed: int = 0, runs_dir: Path | None = None, num_replicas: int = 200):
    """The interactive explorer, an `ipywidgets.VBox` (its `session` attribute is the TrialSession).

    Controls: task, k, n, agent (baselines of the task and the checkpoints under `runs_dir`, default
    results/runs), seed; buttons "new task" (seed + 1), "step", "play to end", "reset". A change of
    any control draws the task of the seed and restarts the trial.
    """
    return Explorer(task, num_actions, num_traj, str(agent), seed, runs_dir, num_replicas)


__all__ = ["COMPARISON_AGENTS", "Explorer", "StepRecord", "TrialSession", "agent_options", "build_explorer",
           "checkpoint_task_config", "find_checkpoints", "figure_png", "plot_session", "render_png"]
