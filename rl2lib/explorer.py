"""An interactive explorer: one trial on one task, stepped by hand, beside the baselines.

`TrialSession` holds the logic and no widgets, so it can be tested: it plays any agent (a baseline,
a trained run or a checkpoint) on the task of a seed with `rl2lib.evaluate`'s seeds, and shows at
each step the agent's action probabilities, what has been seen (a bandit's arm posteriors, an MDP's
visits) and the cumulative reward beside a few baselines. `agent_options` lists what can play a
setting; `build_explorer` wires ipywidgets to a session and redraws `plot_session` as a PNG with a
one-line summary (DOM classes `rl2-plot`, hidden while the setting cannot be played, and `rl2-summary`).
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
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator
from scipy.stats import beta as beta_distribution

from rl2lib.agents import BaselineAgent, PolicyAgent, play_trials
from rl2lib.baselines import BASELINES, Baseline
from rl2lib.config import ConfigError, TaskConfig
from rl2lib.envs import Tasks, TrialEnv, seeded_tasks
from rl2lib.evaluate import evaluation_generators, make_baseline
from rl2lib.paths import cell_phase, default_run_name, portable_path, repo_path, split_seed
from rl2lib.runs import TrainingError, agent_path, iter_runs, load_policy
from rl2lib.tables import load_results

REPLICA_SEED_OFFSET = 3
"""The replicas that estimate a baseline's action probabilities draw from `seed + 3`, a stream of
their own: estimating never changes what the agent does."""

COMPARISON_AGENTS = {"bandit": ("greedy", "ts", "oracle"), "mdp": ("greedy", "psrl", "oracle")}
"""Baselines whose cumulative reward on the same task is drawn beside the agent's."""

MODEL_LABELS = {"gru": "RL² GRU", "snail": "SNAIL"}
"""How a trained run's model is named in the agent list ([1] RL^2 with a GRU; [2] SNAIL)."""


def trained_file(agent: str | Path, task: str) -> Path | None:
    """The checkpoint an agent name stands for, or None for a baseline (or an unknown name).

    A run folder plays `rl2lib.runs.agent_path(folder)`: best.pt when the run validated, else
    checkpoint.pt, the file its evaluation and so the tables score. A name ending in .pt is that file.
    """
    name = str(agent)
    if name in BASELINES[task]:
        return None
    path = repo_path(name)
    if path.is_dir():
        return agent_path(path)
    return path if name.endswith(".pt") else None


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

    The seeds are `rl2lib.evaluate`'s (task from `seed`, environment noise from `seed + 1`, the
    agent's randomness from `seed + 2`), so stepping a session to its end gives the trial that
    `rl2lib.evaluate.play_baseline(..., num_trials=1, seed)` (or `evaluate_policy`) plays, through
    the same agents (`rl2lib.agents`). At each step it offers:
    - the agent's action probabilities. A trained policy: the softmax of its logits, exact. A
      baseline has no explicit policy, so the estimate is the fraction of `num_replicas` copies of
      it that pick each action now, each copy fed the same observations as the agent but drawing
      its own randomness (from `seed + 3`): P(a | history) with the baseline's randomness averaged
      out. For the MDP baselines that plan once per episode it is not conditioned on the agent's own
      earlier choices within the episode; deterministic baselines (greedy, UCB1, Gittins, oracle)
      give one-hot estimates, except where ties are broken at random.
    - bandits: the Beta(1 + successes, 1 + failures) posterior of each arm under the task
      distribution's uniform prior ([1] Sec. 3.1), whatever the agent; MDPs: the visit counts.
    - the cumulative reward beside `compare` (default: bandit greedy, TS, oracle; MDP greedy, PSRL,
      oracle), each played on the same task with the same seeds, at its default hyper-parameter.

    Args:
        task_config: the setting (task, k = num_actions, n = num_traj).
        agent: a baseline name for the task, or a run folder or checkpoint (.pt) trained on the same
            task and k (see `trained_file`; a GRU plays any n, a SNAIL only the trial length it was
            built for).
        seed: evaluation seed: the task is task 0 of `seeded_tasks(task_config, 1, seed)`.
        tasks: a task to play instead of the seeded one (one task: `num_tasks == 1`).
        num_replicas: copies of a baseline used to estimate its action probabilities; 0 turns the
            estimate off.
        param: the baseline's hyper-parameter; None takes its default.
        compare: baselines drawn beside the agent; None takes `COMPARISON_AGENTS[task]`.
        label: how the figure names the agent; None: the baseline's name or the run's folder.
    """

    def __init__(
        self,
        task_config: TaskConfig,
        agent: str | Path,
        seed: int = 0,
        tasks: Tasks | None = None,
        num_replicas: int = 200,
        param=None,
        compare: tuple[str, ...] | None = None,
        label: str | None = None,
    ):
        self.config = task_config
        self.agent_name = str(agent)
        checkpoint = trained_file(agent, task_config.task)
        self.seed = seed
        self.num_replicas = num_replicas
        self.tasks = seeded_tasks(task_config, 1, seed) if tasks is None else tasks
        if self.tasks.num_tasks != 1:
            raise ConfigError(f"a session plays one task, got {self.tasks.num_tasks}")
        self.policy, self.baseline = None, None
        if checkpoint is not None:
            self.policy = self._load_policy(checkpoint)
        else:
            self.baseline = make_baseline(task_config, self.agent_name, param)
        self.param = None if self.baseline is None else self.baseline.param
        self.label = label or (self.agent_name if checkpoint is None else checkpoint.parent.name)
        compare = COMPARISON_AGENTS[task_config.task] if compare is None else compare
        self.comparison_rewards = self._play_comparisons([name for name in compare if name != self.agent_name])
        self.reset()

    # setting up -------------------------------------------------------------------------------
    def _load_policy(self, path: Path) -> torch.nn.Module:
        try:
            policy, trained = load_policy(path)
        except TrainingError as error:
            raise ConfigError(str(error)) from None
        task = trained.task
        if (task.task, task.num_actions) != (self.config.task, self.config.num_actions):
            raise ConfigError(
                f"{path} was trained on task={task.task}, k={task.num_actions}; "
                f"pick that setting (now task={self.config.task}, k={self.config.num_actions})"
            )
        if trained.model.model_type == "snail" and self.config.trial_len != task.trial_len:
            raise ConfigError(f"{path} is a SNAIL built for trials of {task.trial_len} steps: pick n={task.num_traj}")
        return policy

    def _play_comparisons(self, names: list[str]) -> dict[str, np.ndarray]:
        """Rewards (T,) of one trial of each baseline on this task, with the session's seeds."""
        rewards = {}
        for name in names:
            env_generator, agent_generator = evaluation_generators(self.seed)
            env = TrialEnv(self.tasks, self.config, env_generator)
            record = play_trials(BaselineAgent(make_baseline(self.config, name), agent_generator), env)
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
        env_generator, agent_generator = evaluation_generators(self.seed)
        self.env = TrialEnv(self.tasks, self.config, env_generator)
        if self.baseline is not None:
            self.agent = BaselineAgent(self.baseline, agent_generator)
        else:
            self.agent = PolicyAgent(self.policy, agent_generator)
        self.agent.start(self.env, self.env.reset())
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
        self.agent.prepare(self.env)
        if self.replicas is not None and self.env.step_in_episode == 0:
            self.replicas.begin_episode()

    def step(self) -> StepRecord:
        """Take one step of the trial (a RuntimeError once the trial is over)."""
        if self.done:
            raise RuntimeError("the trial is over: reset() to play it again")
        states = self.env.states.clone()  # (1,)
        actions = self.agent.act(self.env)  # (1,)
        result = self.env.step(actions)
        self.agent.observe(states, actions, result)
        if self.replicas is not None:
            R = self.num_replicas
            self.replicas.update(
                states.expand(R), actions.expand(R), result.rewards.expand(R), result.next_states.expand(R), result.episode_done
            )
        record = StepRecord(int(states[0]), int(actions[0]), float(result.rewards[0]), result.episode_done, self._probs)
        self.history.append(record)
        self._probs = None
        self._prepare_step()
        return record

    def advance(self, num_steps: int) -> list[StepRecord]:
        """Up to `num_steps` steps (fewer if the trial ends first)."""
        return [self.step() for _ in range(min(num_steps, self.num_steps - self.t))]

    @property
    def steps_left_in_episode(self) -> int:
        """Steps to the end of the current episode (0 once the trial is over; 1 on a bandit)."""
        return 0 if self.done else self.config.traj_len - self.env.step_in_episode

    def finish_episode(self) -> list[StepRecord]:
        """Play to the end of the current episode."""
        return self.advance(self.steps_left_in_episode)

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
                self._probs = torch.softmax(self.agent.logits[0].double(), -1).numpy()
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
        return {
            "successes": successes,
            "failures": failures,
            "pulls": successes + failures,
            "mean": a / (a + b),
            "low": beta_distribution.ppf(0.05, a, b),
            "high": beta_distribution.ppf(0.95, a, b),
        }

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

FIGURE_SIZE = (13, 3.8)
"""Inches: at `figure_png`'s 80 dpi, 1040 x 304 pixels, one screen wide."""


def set_index_ticks(ax, count: int) -> None:
    """x ticks for arms, actions or states 0..count-1: each one up to 12, else every 5th (every 10th
    past 60), with a minor tick at each, so that labels never merge (k = 50: 0, 5, ..., 45)."""
    step = 1 if count <= 12 else 5 if count <= 60 else 10
    ax.set_xticks(np.arange(0, count, step))
    ax.set_xticks(np.arange(count), minor=True)
    ax.set_xlim(-0.6, count - 0.4)


def plot_action_probs(ax, session: TrialSession) -> None:
    """P(next action) as bars, a bandit's best arm green."""
    cfg = session.config
    probs = session.action_probs()
    if probs is None:
        ax.text(
            0.5,
            0.5,
            "trial over" if session.done else "not estimated (num_replicas = 0)",
            ha="center",
            va="center",
            transform=ax.transAxes,
        )
    else:
        colors = ["tab:blue"] * cfg.num_actions
        if cfg.task == "bandit":
            colors[int(session.tasks.arm_probs[0].argmax())] = "tab:green"
        ax.bar(np.arange(cfg.num_actions), probs, color=colors)
    ax.set_ylim(0, 1.05)
    where = f" in state {session.state}" if cfg.task == "mdp" and not session.done else ""
    ax.set_title(f"next action{where}\n({session.probs_source})", fontsize=9)
    ax.set_xlabel("arm (green: the best)" if cfg.task == "bandit" else "action")
    ax.set_ylabel("P(action)")
    set_index_ticks(ax, cfg.num_actions)


def plot_arm_posterior(ax, session: TrialSession) -> None:
    """Each arm's Beta posterior mean with its 90% interval, its true p (hidden from the agent), and
    its pulls so far as grey bars on the right-hand axis."""
    posterior = session.arm_posterior()
    arms = np.arange(session.config.num_actions)
    pulls_ax = ax.twinx()
    pulls_ax.bar(arms, posterior["pulls"], color="0.85", label="pulls (right axis)")
    pulls_ax.set_ylim(0, 1.3 * max(posterior["pulls"].max(), 1.0))  # the top 0.3 holds the legend
    pulls_ax.set_ylabel("pulls so far")
    pulls_ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_zorder(pulls_ax.get_zorder() + 1)  # the posterior in front of the bars
    ax.patch.set_visible(False)
    mean = posterior["mean"]
    few = len(arms) <= 12
    ax.errorbar(
        arms,
        mean,
        yerr=[mean - posterior["low"], posterior["high"] - mean],
        fmt="o",
        markersize=4 if few else 2,
        capsize=3 if few else 0,
        elinewidth=1.5 if few else 0.8,
        label="posterior mean, 90% interval",
    )
    ax.plot(arms, session.tasks.arm_probs[0].numpy(), "kx", markersize=6 if few else 4, label="true p (hidden)")
    ax.set_ylim(0, 1.3)
    ax.set_yticks(np.linspace(0, 1, 6))
    ax.set_ylabel("P(reward = 1)")
    ax.set_xlabel("arm")
    set_index_ticks(ax, len(arms))
    ax.set_title("what the trial has shown\nBeta(1 + successes, 1 + failures) of each arm", fontsize=9)
    handles, labels = ax.get_legend_handles_labels()
    bar_handles, bar_labels = pulls_ax.get_legend_handles_labels()
    ax.legend(handles + bar_handles, labels + bar_labels, fontsize=7, loc="upper center", ncol=2)


def plot_state_visits(ax, session: TrialSession) -> None:
    """How often each state has been visited; the current state's column is shaded orange (visible
    before its first visit too)."""
    cfg = session.config
    if not session.done:
        ax.axvspan(session.state - 0.5, session.state + 0.5, color="tab:orange", alpha=0.3, linewidth=0)
    ax.bar(np.arange(cfg.num_states), session.visit_counts().sum(1), color="tab:blue")
    set_index_ticks(ax, cfg.num_states)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("state (orange: the current one)")
    ax.set_ylabel("visits so far")
    ax.set_title("what the trial has shown\nstate visits", fontsize=9)


def plot_cumulative_reward(ax, session: TrialSession) -> None:
    """The agent's cumulative reward so far (black) beside the comparison baselines' whole trials."""
    steps = np.arange(1, session.num_steps + 1)
    for name, rewards in session.comparison_rewards.items():
        ax.plot(steps, np.cumsum(rewards), "--", linewidth=1, label=name)
    ax.plot(
        np.arange(1, session.t + 1),
        session.cumulative_rewards(),
        "-",
        color="black",
        linewidth=2,
        marker="o" if session.num_steps <= 30 else None,
        markersize=3,
        label=session.label,
    )
    ax.axvline(session.t, color="gray", linewidth=0.5)
    ax.set_xlim(0, session.num_steps + 1)
    per_episode = f" ({session.config.traj_len} per episode)" if session.config.traj_len > 1 else ""
    ax.set_xlabel(f"step of the trial{per_episode}")
    ax.set_ylabel("cumulative reward")
    ax.set_title(
        f"cumulative reward, step {session.t}/{session.num_steps}\n(dashed: baselines on the same task and seed)", fontsize=9
    )
    ax.legend(fontsize=7, loc="upper left")


def plot_session(session: TrialSession) -> Figure:
    """Three panels: next-action probabilities, the posterior (bandit) or state visits (MDP), and
    cumulative reward against the comparison baselines on the same task. Built without pyplot, so
    that redrawing from a widget callback leaves no figure behind."""
    figure = Figure(figsize=FIGURE_SIZE)
    ax_probs, ax_seen, ax_reward = figure.subplots(1, 3)
    plot_action_probs(ax_probs, session)
    if session.config.task == "bandit":
        plot_arm_posterior(ax_seen, session)
    else:
        plot_state_visits(ax_seen, session)
    plot_cumulative_reward(ax_reward, session)
    figure.tight_layout()
    return figure


def figure_png(figure: Figure, dpi: int = 80) -> bytes:
    """The figure as PNG bytes (independent of the notebook's matplotlib backend)."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()


def render_png(session: TrialSession) -> bytes:
    """PNG of `plot_session(session)`."""
    return figure_png(plot_session(session))


# ----------------------------------------------------------------------------------------------
# The agent list
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TrainedRun:
    """A run folder that can play a setting, and what it is there."""

    label: str  # what the agent list shows: "RL² GRU — table cell", "variant: gru_bandit_k5_n100_tau0.3"
    path: Path  # `rl2lib.runs.agent_path(run_dir)`: the file the tables score
    rank: int  # 0: the tables score it; 1: a run of the cell's own name they do not (yet) score; 2: a variant


def table_cell_runs(task: str, num_actions: int, num_traj: int) -> set[str]:
    """Names of the runs that fill this setting's table cells: every model, every training seed."""
    return {
        record["run"]
        for (cell_task, n, k, _), group in load_results().items()
        if (cell_task, k, n) == (task, num_actions, num_traj) and "per_seed" in group
        for record in group["per_seed"]
    }


def describe_run(name: str, model: str, cell_name: str, cell_runs: set[str]) -> tuple[int, str]:
    """(rank, label) of run `name` of `model` (see `TrainedRun`); `cell_name` is the setting's
    `default_run_name` for that model, `cell_runs` what `table_cell_runs` gives."""
    who = MODEL_LABELS.get(model, model)
    base, seed = split_seed(name)
    seed_note = f", training seed {seed}" if seed else ""
    if name in cell_runs:
        return 0, f"{who} — table cell{seed_note}"
    phase = cell_phase(base, cell_name)
    if phase is None:
        return 2, f"variant: {name}"
    which = "first training phase" if phase == 1 else f"training phase {phase}"
    if any((cell_phase(split_seed(run)[0], cell_name) or 0) > phase for run in cell_runs):  # a later phase is scored
        return 1, f"{who} — {which} of the table cell{seed_note}"
    role = "table cell" if phase == 1 else f"{which} of the table cell"
    return 1, f"{who} — {role}, not evaluated yet{seed_note}"


PLAYABLE_MODELS = ("gru", "snail")
"""The learners the explorer steps through (`load_policy`); MAML runs are played by notebook 09."""


def trained_runs(task: str, num_actions: int, num_traj: int) -> list[TrainedRun]:
    """The runs under results/runs trained on exactly this (task, k, n) that have a file to play,
    table cells first (by model, then training seed), then the cells' other runs, then variants."""
    cell_runs = table_cell_runs(task, num_actions, num_traj)
    runs = []
    for run_dir, config in iter_runs():
        setting, model = config["task"], config["model"]["model_type"]
        path = agent_path(run_dir.resolve())
        if (
            (setting["task"], setting["num_actions"], setting["num_traj"]) != (task, num_actions, num_traj)
            or model not in PLAYABLE_MODELS
            or not path.exists()
        ):
            continue
        cell_name = default_run_name(model, task, num_actions, num_traj)
        rank, label = describe_run(run_dir.name, model, cell_name, cell_runs)
        runs.append(TrainedRun(label, path, rank))
    return sorted(runs, key=lambda run: (run.rank, run.label))


def agent_options(task: str, num_actions: int, num_traj: int) -> list[tuple[str, str]]:
    """(label, value) pairs of the agent list of a setting: the runs that fill its table cells, the
    task's baselines, then its other runs. A value is a baseline name or a checkpoint's path."""
    runs = trained_runs(task, num_actions, num_traj)
    cells = [(run.label, str(run.path)) for run in runs if run.rank == 0]
    others = [(run.label, str(run.path)) for run in runs if run.rank > 0]
    return cells + [(f"baseline: {name}", name) for name in BASELINES[task]] + others


def agent_value(agent: str | Path, task: str) -> str:
    """An agent as the agent list names it: a baseline's name, or the absolute path of the file it plays."""
    checkpoint = trained_file(agent, task)
    return str(agent) if checkpoint is None else str(checkpoint.resolve())


# ----------------------------------------------------------------------------------------------
# The widgets
# ----------------------------------------------------------------------------------------------


def sized(width: int) -> dict:
    """Keyword arguments of a control `width` pixels wide that shows its description in full."""
    return {"style": {"description_width": "initial"}, "layout": widgets.Layout(width=f"{width}px")}


class Explorer(widgets.VBox):
    """The explorer's widgets around a `TrialSession`; `session` is None while the setting cannot be played."""

    def __init__(self, task: str, num_actions: int, num_traj: int, agent: str, seed: int, num_replicas: int):
        self.num_replicas = num_replicas
        self.session: TrialSession | None = None
        self._quiet = 0  # > 0 while one control updates another, so that the session is rebuilt once
        self._make_controls(task, num_actions, num_traj, agent, seed)
        self._connect()
        super().__init__(
            [
                widgets.HBox([self.task_box, self.k_box, self.n_box]),
                widgets.HBox([self.agent_box, self.seed_box, self.new_task_button]),
                widgets.HBox(
                    [
                        self.step_button,
                        self.step_n_button,
                        self.num_steps_box,
                        self.episode_button,
                        self.play_button,
                        self.reset_button,
                    ]
                ),
                self.summary,
                self.plot,
            ]
        )
        self.add_class("rl2-explorer")
        self._rebuild()

    def _make_controls(self, task: str, num_actions: int, num_traj: int, agent: str, seed: int) -> None:
        """The boxes, buttons, summary line and figure, each with its DOM class `rl2-*` where a test finds it."""
        self.task_box = widgets.Dropdown(options=list(BASELINES), value=task, description="task", **sized(160))
        self.k_box = widgets.BoundedIntText(value=num_actions, min=1, max=100, description="k (actions)", **sized(170))
        self.n_box = widgets.BoundedIntText(value=num_traj, min=1, max=1000, description="n (episodes)", **sized(180))
        options = agent_options(task, num_actions, num_traj)
        value = agent_value(agent, task)
        # an agent given by the caller and not listed (another setting's checkpoint) stays on the list
        self.extra_options = [] if value in dict(options).values() else [(extra_label(value), value)]
        self.agent_box = widgets.Dropdown(options=options + self.extra_options, value=value, description="agent", **sized(480))
        self.seed_box = widgets.IntText(value=seed, description="seed", **sized(130))
        self.num_steps_box = widgets.BoundedIntText(value=10, min=1, max=100_000, description="N", **sized(110))
        for name, box in (("k", self.k_box), ("n", self.n_box), ("num-steps", self.num_steps_box)):
            box.add_class(f"rl2-{name}")
        self.new_task_button = self._button("new-task", "new task (seed + 1)")
        self.step_button = self._button("step", "step", button_style="primary")
        self.step_n_button = self._button("step-n", "step N")
        self.episode_button = self._button("episode", "to the end of the episode")
        self.play_button = self._button("play", "play to the end of the trial")
        self.reset_button = self._button("reset", "reset")
        self.summary = widgets.HTML()
        self.summary.add_class("rl2-summary")
        self.plot = widgets.Image(format="png", layout=widgets.Layout(max_width="100%"))
        self.plot.add_class("rl2-plot")

    def _connect(self) -> None:
        """What each control does."""
        for box in (self.task_box, self.k_box, self.n_box):
            box.observe(lambda change: self._on_setting(), names="value")
        for box in (self.agent_box, self.seed_box):
            box.observe(lambda change: self._rebuild(), names="value")
        self.new_task_button.on_click(lambda _: setattr(self.seed_box, "value", self.seed_box.value + 1))
        self.step_button.on_click(lambda _: self._act(lambda session: session.advance(1)))
        self.step_n_button.on_click(lambda _: self._act(lambda session: session.advance(self.num_steps_box.value)))
        self.episode_button.on_click(lambda _: self._act(TrialSession.finish_episode))
        self.play_button.on_click(lambda _: self._act(TrialSession.play))
        self.reset_button.on_click(lambda _: self._act(TrialSession.reset))

    @staticmethod
    def _button(name: str, description: str, **style) -> widgets.Button:
        """A button sized to its text, with DOM class `rl2-<name>` for the browser test."""
        button = widgets.Button(description=description, layout=widgets.Layout(width="auto"), **style)
        button.add_class(f"rl2-{name}")
        return button

    @property
    def move_buttons(self) -> tuple[widgets.Button, ...]:
        """The buttons that take steps: disabled once the trial is over."""
        return self.step_button, self.step_n_button, self.episode_button, self.play_button

    def _on_setting(self) -> None:
        """A new task, k or n: that setting's agent list, keeping the agent where it is listed, else
        the same role (e.g. 'RL² GRU — table cell') where the setting has one, else the task's TS/PSRL."""
        options = agent_options(self.task_box.value, self.k_box.value, self.n_box.value) + self.extra_options
        by_label = dict(options)
        if self.agent_box.value in by_label.values():
            value = self.agent_box.value
        else:
            value = by_label.get(self.agent_box.label, COMPARISON_AGENTS[self.task_box.value][1])
        self._quiet += 1
        try:
            self.agent_box.options = options
            self.agent_box.value = value
        finally:
            self._quiet -= 1
        self._rebuild()

    def _rebuild(self) -> None:
        """A new session for the controls' setting, agent and seed."""
        if self._quiet:
            return
        try:
            config = TaskConfig(task=self.task_box.value, num_actions=self.k_box.value, num_traj=self.n_box.value)
            self.session = TrialSession(
                config, self.agent_box.value, self.seed_box.value, num_replicas=self.num_replicas, label=self.agent_box.label
            )
        except (ConfigError, RuntimeError) as error:
            self.session = None
            self._show(f"cannot play this setting: {error}")
            return
        self._show()

    def _act(self, move) -> None:
        """Apply `move` (a function of the session) and redraw."""
        if self.session is not None:
            move(self.session)
            self._show()

    def _show(self, error: str | None = None) -> None:
        """Redraw the summary line and the figure; an error hides the figure, so that none stays stale."""
        playable = self.session is not None and not self.session.done
        for button in self.move_buttons:
            button.disabled = not playable
        self.reset_button.disabled = self.session is None
        if error is None:
            self.plot.value = render_png(self.session)
            self.plot.layout.display = None
        else:
            self.plot.value = b""
            self.plot.layout.display = "none"
        self.summary.value = html.escape(error if error is not None else self.session.summary())


def extra_label(value: str) -> str:
    """The agent list's label of an agent it does not list itself: a checkpoint by its path."""
    return f"checkpoint: {portable_path(value)}" if value.endswith(".pt") else value


def build_explorer(
    task: str = "bandit", num_actions: int = 5, num_traj: int = 10, agent: str = "ts", seed: int = 0, num_replicas: int = 200
) -> Explorer:
    """The interactive explorer, an `ipywidgets.VBox` (its `session` attribute is the TrialSession).

    Controls: task, k, n; agent (`agent_options` of the setting: table-cell runs, baselines, other
    runs; an `agent` given here that the list lacks is added to it); seed; buttons "new task"
    (seed + 1), "step", "step N" (N in the box beside it), "to the end of the episode", "play to the
    end of the trial", "reset". A change of any control draws the task of the seed and restarts the trial.
    """
    return Explorer(task, num_actions, num_traj, str(agent), seed, num_replicas)


__all__ = [
    "COMPARISON_AGENTS",
    "Explorer",
    "StepRecord",
    "TrainedRun",
    "TrialSession",
    "agent_options",
    "build_explorer",
    "figure_png",
    "plot_session",
    "render_png",
    "trained_file",
    "trained_runs",
]
