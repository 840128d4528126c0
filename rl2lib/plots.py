"""Figures for the notebooks, the README and a paper or a talk: each `plot_*` function returns a
matplotlib Figure, and `save_figure` alone writes files (PNG at 200 dpi and PDF, under
`paths.figures_dir()`). A method is drawn in its `METHOD_COLORS` colour and named by `METHOD_LABELS`
in every figure; the papers' numbers are always black dashes ending in a hollow diamond
(`PAPER_LINE`, `PAPER_MARKER`), which no error bar resembles. Learning curves are `Curve`s, built
from the runs by `collect_curves`: the main run of each table cell (its run group: every seed and
every training phase) and, in figures of their own, the ablations. `plot_normalised_learning_curves`
draws [1]'s view of training: returns rescaled so that random play scores 0 and Gittins (bandits) or
OPSRL (MDPs) scores 1, one panel per row of [1] Tables 1-2.
References: [1] Duan et al. 2016, "RL^2" Tables 1-2 and its learning curves; [2] Mishra et al. 2018,
"SNAIL" Tables 3-4.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.colors import to_rgb
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from rl2lib.baseline_tables import BANDIT_SETTINGS, CEILINGS, MDP_SETTINGS
from rl2lib.paper import published_learner
from rl2lib.paths import cell_phase, default_run_name, figures_dir, split_seed
from rl2lib.runs import taught_by

METHOD_COLORS = {
    "random": "#7f7f7f",
    "gittins": "#2ca02c",
    "ts": "#17becf",
    "ots": "#6baed6",
    "ucb1": "#9467bd",
    "eps_greedy": "#bcbd22",
    "greedy": "#8c564b",
    "psrl": "#e377c2",
    "opsrl": "#1b7837",
    "ucrl2": "#b07aa1",
    "beb": "#c49c94",
    "bayes_optimal": "#ff7f0e",
    "oracle": "#393b79",
    "gru": "#d62728",
    "snail": "#1f77b4",
    "maml": "#ce1256",
}
"""Method (our agent name) -> its colour in every figure; the learners in strong red and blue."""
METHOD_LABELS = {
    "random": "Random",
    "gittins": "Gittins",
    "ts": "TS",
    "ots": "OTS",
    "ucb1": "UCB1",
    "eps_greedy": "ε-greedy",
    "greedy": "Greedy",
    "psrl": "PSRL",
    "opsrl": "OPSRL",
    "ucrl2": "UCRL2",
    "beb": "BEB",
    "bayes_optimal": "Bayes-optimal",
    "oracle": "Oracle",
    "gru": "RL² (GRU)",
    "snail": "SNAIL",
    "maml": "MAML",
}
"""Method -> its name in legends and tick labels (the papers' column names)."""
NORMALISER = {"bandit": "gittins", "mdp": "opsrl"}
"""The baseline that scores 1 in the normalised learning curves ([1]: Gittins, OPSRL); random scores 0."""
PAPER_COLOR = "black"
PAPER_LINE = dict(color=PAPER_COLOR, linestyle="--", linewidth=1.0)
"""The paper's number as a line (learning curves)."""
PAPER_MARKER = dict(
    linestyle="none", marker="D", markersize=7, markerfacecolor="none", markeredgecolor=PAPER_COLOR, markeredgewidth=1.5
)
"""The paper's number as a marker: a hollow diamond (bars; the right end of a paper line)."""
VARIANT_SHADES = (-0.5, 0.45, -0.25, 0.65, -0.7, 0.25)
"""Ablation i is its method's colour darkened (< 0) or lightened (> 0) by VARIANT_SHADES[i]."""
VARIANT_LINESTYLES = ("-.", (0, (5, 1, 1, 1, 1, 1)), (0, (3, 1, 1, 1)))
"""Ablation line styles: never the paper's dashes nor the baselines' dots."""
FIGURE_DPI = 200
Setting = tuple[str, int, int]
"""(task, n, k), the key order of `tables.load_results` (MDPs: k = 5 actions)."""


def method_color(method: str) -> str:
    """The colour of `method` in every figure (`METHOD_COLORS`)."""
    if method not in METHOD_COLORS:
        raise KeyError(f"no colour for method {method!r}; add it to plots.METHOD_COLORS")
    return METHOD_COLORS[method]


def method_label(method: str) -> str:
    """The readable name of `method` (`METHOD_LABELS`; an unknown name as it is)."""
    return METHOD_LABELS.get(method, method)


def variant_color(method: str, index: int) -> tuple[float, float, float]:
    """The colour of the index-th ablation of `method`: a darker or lighter shade of the method's."""
    base, shade = np.array(to_rgb(method_color(method))), VARIANT_SHADES[index % len(VARIANT_SHADES)]
    return tuple(base * (1 + shade) if shade < 0 else base + (1 - base) * shade)


def setting_title(task: str, n: int, k: int) -> str:
    """A panel's title: 'bandits, n = 10, k = 5' or 'MDPs, n = 10'."""
    return f"bandits, n = {n}, k = {k}" if task == "bandit" else f"MDPs, n = {n}"


def save_figure(figure: plt.Figure, name: str | Path, folder: Path | None = None) -> list[Path]:
    """Write `figure` as `<name>.png` (200 dpi) and `<name>.pdf`; the figure stays open (a notebook shows it).

    Args:
        name: the file name without extension, e.g. 'baselines_bandits'. A path is also taken:
            its folder replaces `folder` and its suffix (e.g. '.png') is dropped.
        folder: where to write; default `paths.figures_dir()` (created if missing).

    Returns:
        [the PNG's path, the PDF's path].
    """
    name = Path(name)
    folder = Path(folder or (name.parent if name.parent != Path(".") else figures_dir()))
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / f"{name.stem}.{extension}" for extension in ("png", "pdf")]
    for path in paths:
        figure.savefig(path, dpi=FIGURE_DPI, bbox_inches="tight")
    return paths


def setting_grid(
    task: str,
    settings: list[tuple[int, int]],
    panel_size: tuple[float, float],
    sharey: bool | str,
) -> tuple[plt.Figure, dict[tuple[int, int], plt.Axes]]:
    """One panel per (n, k): bandits in rows of n and columns of k ([1] Table 1's layout), MDPs in one row
    over n. Grid places without a setting are switched off.

    Returns:
        the figure and {(n, k): its axes}.
    """
    rows = sorted({n for n, _ in settings}) if task == "bandit" else [None]
    columns = sorted({k for _, k in settings}) if task == "bandit" else sorted(settings)
    figure, axes = plt.subplots(
        len(rows),
        len(columns),
        squeeze=False,
        sharey=sharey,
        layout="constrained",
        figsize=(panel_size[0] * len(columns), panel_size[1] * len(rows) + 0.9),
    )
    panels = {}
    for r, n in enumerate(rows):
        for c, column in enumerate(columns):
            setting = (n, column) if task == "bandit" else column
            if setting in settings:
                panels[setting] = axes[r, c]
            else:
                axes[r, c].set_axis_off()
    return figure, panels


def label_grid_axes(panels: dict[tuple[int, int], plt.Axes], xlabel: str, ylabel: str) -> None:
    """The y-label on the grid's first column, the x-label on its bottom row of panels."""
    for axis in panels.values():
        spec = axis.get_subplotspec()
        if spec.is_first_col():
            axis.set_ylabel(ylabel)
        if spec.is_last_row():
            axis.set_xlabel(xlabel)


def plot_bandit_trials(
    actions: torch.Tensor, rewards: torch.Tensor, arm_probs: torch.Tensor, title: str = "", max_trials: int = 3
) -> plt.Figure:
    """Arm choices and cumulative reward over a few bandit trials.

    Args:
        actions, rewards: (T, B) from one batch of trials; arm_probs: (B, K) the tasks' arms.
    """
    num = min(max_trials, actions.shape[1])
    figure, axes = plt.subplots(2, num, figsize=(4.2 * num, 5.5), squeeze=False, sharex=True)
    steps = np.arange(1, actions.shape[0] + 1)
    for b in range(num):
        probs = arm_probs[b].cpu().numpy()
        best = int(probs.argmax())
        top = axes[0, b]
        chosen = actions[:, b].cpu().numpy()
        colors = np.where(chosen == best, "tab:green", "tab:gray")
        top.scatter(steps, chosen, c=colors, s=14)
        top.set_yticks(range(len(probs)), [f"{i}: p={p:.2f}" for i, p in enumerate(probs)], fontsize=7)
        top.set_title(f"trial {b}: arm pulled (green = best arm)", fontsize=9)
        bottom = axes[1, b]
        bottom.plot(steps, rewards[:, b].cumsum(0).cpu().numpy(), label="cumulative reward")
        bottom.plot(steps, steps * probs.max(), "--", color="tab:green", label="best arm in expectation")
        bottom.plot(steps, steps * probs.mean(), ":", color=method_color("random"), label="random in expectation")
        bottom.set_xlabel("pull")
        bottom.legend(fontsize=7)
    figure.suptitle(title)
    figure.tight_layout()
    return figure


def plot_mdp_visits(states: torch.Tensor, traj_len: int, num_states: int, trial: int = 0, title: str = "") -> plt.Figure:
    """Visit counts of each state in each episode of one MDP trial. states: (T, B)."""
    visits = states[:, trial].cpu().numpy().reshape(-1, traj_len)  # (n, traj_len)
    counts = np.stack([np.bincount(row, minlength=num_states) for row in visits], axis=1)  # (S, n)
    figure, axis = plt.subplots(figsize=(min(12, 2 + 0.5 * counts.shape[1]), 3.5))
    image = axis.imshow(counts, aspect="auto", cmap="viridis", origin="lower")
    axis.set_xlabel("episode")
    axis.set_ylabel("state")
    figure.colorbar(image, ax=axis, label="visits in the episode")
    axis.set_title(title or f"trial {trial}: where the agent goes, episode by episode")
    return figure


def plot_cumulative_rewards(rewards_by_agent: dict[str, torch.Tensor], title: str = "") -> plt.Figure:
    """Mean cumulative reward over the trial for several agents. Each value: rewards (T, B)."""
    figure, axis = plt.subplots(figsize=(6, 4))
    for name, rewards in rewards_by_agent.items():
        mean = rewards.double().cumsum(0).mean(1).cpu().numpy()
        axis.plot(np.arange(1, len(mean) + 1), mean, label=method_label(name), color=method_color(name))
    axis.set_xlabel("step of the trial")
    axis.set_ylabel("mean cumulative reward")
    axis.set_title(title)
    axis.legend(fontsize=8)
    return figure


def plot_table_vs_paper(rows: list[dict], title: str = "") -> plt.Figure:
    """Ours (bars, 95% error bars) against the published numbers (hollow diamonds), one panel per
    setting: a 3x3 grid for [1] Table 1 (rows n, columns k), a row of 5 for Table 2. Every y-axis
    starts at 0; the panels of one bandit row share it.

    Args:
        rows: baseline table rows (`baseline_tables.read_rows`) with keys task, n, k, agent, mean,
            se and paper ('' where the paper has none).
    """
    task = rows[0]["task"]
    settings = sorted({(row["n"], row["k"]) for row in rows})
    agents = list(dict.fromkeys(row["agent"] for row in rows))
    figure, panels = setting_grid(task, settings, (3.6, 3.0), "row" if task == "bandit" else False)
    x = np.arange(len(agents))
    for (n, k), axis in panels.items():
        cell = {row["agent"]: row for row in rows if (row["n"], row["k"]) == (n, k)}
        means = [cell[a]["mean"] if a in cell else np.nan for a in agents]
        errors = [1.96 * cell[a]["se"] if a in cell else 0 for a in agents]
        axis.bar(
            x,
            means,
            color=[method_color(a) for a in agents],
            edgecolor="white",
            linewidth=0.5,
            hatch=["//" if a in CEILINGS[task] else "" for a in agents],
        )
        axis.errorbar(x, means, yerr=errors, fmt="none", ecolor="0.15", elinewidth=1, capsize=2.5)
        published = [cell[a]["paper"] if a in cell and cell[a]["paper"] != "" else np.nan for a in agents]
        axis.plot(x, published, zorder=4, **PAPER_MARKER)
        axis.set_xticks(x, [method_label(a) for a in agents], rotation=60, ha="right", fontsize=7)
        axis.set_title(setting_title(task, n, k), fontsize=9)
    for axis in panels.values():  # after drawing: a shared axis's top then covers its whole row
        axis.set_ylim(0, axis.get_ylim()[1])
    label_grid_axes(panels, "method", "total reward per trial\n(y-axis starts at 0)")
    handles = [
        Patch(facecolor="0.6", label="ours: mean (bar colour: the method)"),
        Line2D([], [], color="0.15", marker="_", markersize=8, linestyle="-", label="ours: 95% CI (1.96 SE)"),
        Patch(facecolor="0.6", hatch="//", edgecolor="white", label="ceiling (no agent beats it)"),
        Line2D([], [], label="paper", **PAPER_MARKER),
    ]
    figure.legend(handles=handles, loc="outside lower center", ncol=4, fontsize=8, frameon=False)
    figure.suptitle(title)
    return figure


@dataclass
class Curve:
    """One learner's training curve in a panel: every segment in one colour, one legend entry."""

    label: str
    """Legend text: the method's name (`METHOD_LABELS`), with an ablation's tag after it."""
    method: str
    """'gru', 'snail' or 'maml': the key of its colour in `METHOD_COLORS`."""
    segments: list[list[dict]]
    """metrics.csv rows (keys env_steps, mean_trial_return, optional validation_return) of each
    training seed and phase, each drawn as its own line."""
    evaluated: tuple[float, float] | None = None
    """The evaluated number (the table's, for a cell's main run): (mean, SE); None if not evaluated."""
    paper: float | None = None
    """The paper's number for the cell (`paper.published_learner`); None for none or an ablation."""
    color: str | tuple | None = None
    """Overrides the method's colour (an ablation: `variant_color`)."""
    linestyle: str | tuple = "-"
    training_drawn: bool = True
    """False for a run that trained on other tasks than the panel's (`TrainConfig.train_prior_b`): its training
    returns are not on the panel's scale, so only its validation and evaluated returns are drawn."""

    @property
    def line_color(self):
        return self.color or method_color(self.method)


def moving_average(values: np.ndarray, window: int) -> np.ndarray:
    """Trailing mean over the last `window` values (over the ones there are, at the start); same shape."""
    sums = np.concatenate([[0.0], np.cumsum(values)])
    end = np.arange(1, len(values) + 1)
    start = np.maximum(end - window, 0)
    return (sums[end] - sums[start]) / (end - start)


def smoothing_window(num_updates: int) -> int:
    """The moving average's width: 4% of a segment's updates (at least 1)."""
    return max(1, num_updates // 25)


def draw_learning_panel(
    axis: plt.Axes, curves: list[Curve], baselines: dict[str, float] | None = None, scale: tuple[float, float] | None = None
) -> None:
    """Draw curves on one axis: each update's training-batch return faint, its moving average bold,
    validation returns as hollow dots, the evaluated number as a filled dot with its 95% CI at the end
    of training, the paper's number as a black dashed line ending in a hollow diamond, and the
    baselines as dotted lines in their colours.

    Args:
        baselines: method -> our mean total reward per trial in the setting.
        scale: (zero, one): draw (return - zero) / (one - zero) instead of the return (the
            normalised view); None: returns as they are.
    """
    zero, one = scale or (0.0, 1.0)

    def rescale(values):
        return (np.asarray(values, dtype=float) - zero) / (one - zero)

    for method, value in (baselines or {}).items():
        axis.axhline(rescale(value), color=method_color(method), linestyle=":", linewidth=1.3)
    x_end = 0.0
    for curve in curves:
        color = curve.line_color
        curve_end = 0.0
        for rows in curve.segments:
            steps = np.array([float(row["env_steps"]) for row in rows]) / 1e6
            if curve.training_drawn:
                returns = rescale([float(row["mean_trial_return"]) for row in rows])
                axis.plot(steps, returns, color=color, linewidth=0.6, alpha=0.25)
                axis.plot(
                    steps,
                    moving_average(returns, smoothing_window(len(returns))),
                    color=color,
                    linewidth=1.8,
                    linestyle=curve.linestyle,
                )
            validated = [
                (float(row["env_steps"]) / 1e6, float(row["validation_return"]))
                for row in rows
                if row.get("validation_return") not in (None, "")
            ]
            if validated:
                at, value = zip(*validated)
                axis.plot(
                    at,
                    rescale(value),
                    linestyle="none",
                    marker="o",
                    markersize=3.5,
                    markerfacecolor="white",
                    markeredgecolor=color,
                    markeredgewidth=1,
                )
            curve_end = max(curve_end, steps[-1] if len(steps) else 0.0)
        if curve.evaluated is not None:
            mean, se = curve.evaluated
            axis.errorbar(
                curve_end,
                float(rescale(mean)),
                yerr=1.96 * se / abs(one - zero),
                fmt="o",
                color=color,
                markersize=6,
                capsize=3,
                zorder=4,
            )
        x_end = max(x_end, curve_end)
    papers = [curve for curve in curves if curve.paper is not None]
    levels = sorted({curve.paper for curve in papers})
    for rank, paper in enumerate(levels):
        sharing = [curve for curve in papers if curve.paper == paper]  # one line and one label per published number
        level, above = rescale(paper), rank == len(levels) - 1  # the highest label above its line
        axis.axhline(level, **PAPER_LINE)
        axis.annotate(
            "paper: " + ", ".join(method_label(curve.method) for curve in sharing),
            (x_end, level),
            xytext=(-8, 3 if above else -3),
            textcoords="offset points",
            ha="right",
            va="bottom" if above else "top",
            fontsize=7,
            color=sharing[0].line_color if len(sharing) == 1 else PAPER_COLOR,
        )
    if levels:  # one artist holds the panel's paper markers
        axis.plot([x_end] * len(levels), rescale(levels), zorder=5, clip_on=False, **PAPER_MARKER)


def learning_legend_handles(curves: list[Curve], baselines: dict[str, float] | None, paper: bool = True) -> list:
    """Legend entries: each curve's colour, the baselines', then what each mark means (the paper's number's
    only when `paper`: a setting outside the tables, such as a curriculum's n = 30, has none drawn)."""
    handles = [
        Line2D([], [], color=curve.line_color, linewidth=1.8, linestyle=curve.linestyle, label=curve.label) for curve in curves
    ]
    handles += [
        Line2D([], [], color=method_color(method), linestyle=":", linewidth=1.3, label=f"{method_label(method)} (ours)")
        for method in baselines or {}
    ]
    marks = [
        Line2D([], [], color="0.4", linewidth=0.6, alpha=0.4, label="training batch, each update"),
        Line2D([], [], color="0.4", linewidth=1.8, label="training batch, moving average"),
        Line2D(
            [],
            [],
            linestyle="none",
            marker="o",
            markersize=3.5,
            markerfacecolor="white",
            markeredgecolor="0.3",
            label="validation (held-out tasks)",
        ),
        Line2D([], [], linestyle="none", marker="o", markersize=6, color="0.3", label="evaluated (table), 95% CI"),
    ]
    return handles + marks + ([Line2D([], [], label="paper", **{**PAPER_MARKER, **PAPER_LINE})] if paper else [])


def plot_learning_curves(curves: list[Curve], baselines: dict[str, float] | None = None, title: str = "") -> plt.Figure:
    """One panel of learning curves (`draw_learning_panel`): mean total reward per trial of the
    training batches (fresh tasks every update) against environment steps.

    Args:
        curves: the learners, e.g. `collect_curves(...)[setting]['main']`.
        baselines: method -> our mean in the setting (`baseline_levels`), drawn as dotted lines.
    """
    figure, axis = plt.subplots(figsize=(7.5, 4.2), layout="constrained")
    draw_learning_panel(axis, curves, baselines)
    axis.set_xlabel("environment steps (millions)")
    axis.set_ylabel("total reward per trial")
    axis.set_title(title)
    paper = any(curve.paper is not None for curve in curves)
    figure.legend(handles=learning_legend_handles(curves, baselines, paper), loc="outside right upper", fontsize=7, frameon=False)
    return figure


def plot_normalised_learning_curves(curves: dict[Setting, dict[str, list[Curve]]], results: dict, task: str) -> plt.Figure:
    """[1]'s view of training: every cell's main curve with returns rescaled so that our random
    play scores 0 and our Gittins (bandits) or OPSRL (MDPs) scores 1, one panel per row of [1]
    Table 1 (3x3: rows n, columns k) or Table 2 (a row of 5). All panels share the y-axis.

    Args:
        curves: `collect_curves(...)`; results: `tables.load_results()` (the baseline tables'
            numbers, which set 0 and 1, and the cells' evaluated numbers).
    """
    normaliser = NORMALISER[task]
    settings = list(BANDIT_SETTINGS if task == "bandit" else MDP_SETTINGS)
    figure, panels = setting_grid(task, settings, (3.4, 2.6), True)
    shown = set()
    for (n, k), axis in panels.items():
        axis.set_title(setting_title(task, n, k), fontsize=9)
        zero, one = (results.get((task, n, k, agent), {}).get("mean") for agent in ("random", normaliser))
        main = curves.get((task, n, k), {}).get("main", [])
        if zero is None or one is None or not main:
            axis.text(
                0.5,
                0.5,
                "no baseline table" if main else "no run yet",
                transform=axis.transAxes,
                ha="center",
                va="center",
                color="0.5",
            )
            axis.set_xticks([])
            continue
        draw_learning_panel(axis, main, {"random": zero, normaliser: one}, scale=(float(zero), float(one)))
        shown.update(curve.method for curve in main)
    label_grid_axes(
        panels, "environment steps (millions)", f"normalised total reward\n(Random = 0, {method_label(normaliser)} = 1)"
    )
    baselines = {"random": 0.0, normaliser: 1.0}
    handles = learning_legend_handles([Curve(method_label(m), m, []) for m in METHOD_COLORS if m in shown], baselines)
    figure.legend(handles=handles, loc="outside lower center", ncol=5, fontsize=7, frameon=False)
    figure.suptitle(f"Learning curves normalised as in [1] ({'Table 1' if task == 'bandit' else 'Table 2'})")
    return figure


def collect_curves(runs: list[dict], results: dict) -> dict[Setting, dict[str, list[Curve]]]:
    """Sort the runs into curves per setting: the main run of each table cell, and the ablations.

    A cell's main run is the run group the tables read (`tables.load_results`): the runs named
    `paths.default_run_name(...)` and its `_phase<N>`, every training seed; its phases are
    segments of one curve, and its evaluated number is the table's. Every other run of
    the setting (a variant of the recipe, the quickstart) is an ablation, labelled by what its name
    adds to the cell's, in a shade of its method's colour, with its own eval.json's number; one trained
    on other arms (`TrainConfig.train_prior_b`) shows only what was measured on the paper's tasks, and one
    whose line started from a network taught a baseline's play (`runs.taught_by`) says so.

    Args:
        runs: dicts with keys name, config (config.json), metrics (metrics.csv rows) and eval
            (eval.json or None), as `report.training_runs()` returns them.
        results: `tables.load_results()`.

    Returns:
        (task, n, k) -> {'main': [Curve per model], 'ablations': [Curve per run]}, learners in
        `METHOD_COLORS` order.
    """
    sorted_runs: dict[Setting, dict] = {}
    for run in runs:
        if not run["metrics"]:
            continue
        task, model = run["config"]["task"], run["config"]["model"]["model_type"]
        setting = (task["task"], task["num_traj"], task["num_actions"])
        cell = default_run_name(model, task["task"], task["num_actions"], task["num_traj"])
        base, seed = split_seed(run["name"])
        entry = sorted_runs.setdefault(setting, {"main": {}, "ablations": []})
        if cell_phase(base, cell) is not None:
            entry["main"].setdefault(model, []).append((seed, run["metrics"]))
        else:
            entry["ablations"].append((model, cell, run))
    curves = {}
    for setting, entry in sorted(sorted_runs.items()):
        task, n, k = setting
        main = []
        for model in (m for m in METHOD_COLORS if m in entry["main"]):
            segments = entry["main"][model]
            seeds = len({seed for seed, _ in segments})
            row = results.get((task, n, k, model))
            main.append(
                Curve(
                    method_label(model) + (f", {seeds} seeds" if seeds > 1 else ""),
                    model,
                    [rows for _, rows in sorted(segments, key=lambda s: float(s[1][0]["env_steps"]))],
                    evaluated=(row["mean"], row["se"]) if row else None,
                    paper=published_learner(model, task, k, n),
                )
            )
        ablations, count = [], {}
        for model, cell, run in sorted(entry["ablations"], key=lambda a: (list(METHOD_COLORS).index(a[0]), a[2]["name"])):
            evaluation, prior_b = run["eval"], run["config"].get("train_prior_b", 1.0)
            validated = any(row.get("validation_return") not in (None, "") for row in run["metrics"])
            if prior_b != 1 and not (validated or evaluation):
                continue  # trained on other arms, and nothing measured on the panel's: nothing to draw
            index = count[model] = count.get(model, -1) + 1
            tag = run["name"].removeprefix(cell).strip("_").replace("_", " ") or run["name"]
            teacher = taught_by(run["config"])
            ablations.append(
                Curve(
                    f"{method_label(model)} variant: {tag}"
                    + (f" (trained on Beta(1, {prior_b:g}) arms)" if prior_b != 1 else "")
                    + (f" (from a network taught to play as {teacher})" if teacher else ""),
                    model,
                    [run["metrics"]],
                    evaluated=(evaluation["mean"], evaluation["se"]) if evaluation else None,
                    color=variant_color(model, index),
                    linestyle=VARIANT_LINESTYLES[index % len(VARIANT_LINESTYLES)],
                    training_drawn=prior_b == 1,
                )
            )
        curves[setting] = {"main": main, "ablations": ablations}
    return curves


def baseline_levels(results: dict, setting: Setting) -> dict[str, float]:
    """Our random, Gittins/OPSRL and Bayes-optimal means in a setting, where the baseline table has them."""
    task, n, k = setting
    agents = ("random", NORMALISER[task], "bayes_optimal")
    return {agent: float(results[(task, n, k, agent)]["mean"]) for agent in agents if (task, n, k, agent) in results}


def iter_learning_curve_figures(runs: list[dict], results: dict) -> Iterator[tuple[str, plt.Figure]]:
    """Every learning-curve figure with its file name, drawn one at a time (a caller that saves and
    closes each keeps one open): per setting `learning_<task>_k<k>_n<n>` (the main runs) and
    `ablations_<task>_k<k>_n<n>` (the main runs and their variants), then `normalised_bandits` and
    `normalised_mdps` where a cell of that task has a curve.

    Args:
        runs: as `report.training_runs()` returns them; results: `tables.load_results()`.
    """
    curves = collect_curves(runs, results)
    for setting, entry in curves.items():
        task, n, k = setting
        stem, title, levels = f"{task}_k{k}_n{n}", setting_title(*setting), baseline_levels(results, setting)
        if entry["main"]:
            yield f"learning_{stem}", plot_learning_curves(entry["main"], levels, title)
        if entry["ablations"]:
            yield f"ablations_{stem}", plot_learning_curves(entry["main"] + entry["ablations"], levels, f"{title}: ablations")
    for task in ("bandit", "mdp"):
        if any(setting[0] == task and entry["main"] for setting, entry in curves.items()):
            yield f"normalised_{task}s", plot_normalised_learning_curves(curves, results, task)


def learning_curve_figures(runs: list[dict], results: dict) -> dict[str, plt.Figure]:
    """Every learning-curve figure by file name (`iter_learning_curve_figures`), all open at once."""
    return dict(iter_learning_curve_figures(runs, results))


def plot_cell_learning_curve(cell, results: dict) -> plt.Figure:
    """The learning curve of a cell just trained or loaded (`experiment.CellResult`): its phases,
    its evaluation, the paper's number and our baselines (results: `tables.load_results()`)."""
    task, model = cell.config.task, cell.config.model.model_type
    setting = (task.task, task.num_traj, task.num_actions)
    curve = Curve(
        method_label(model),
        model,
        list(cell.curves.values()),
        evaluated=(cell.evaluation.mean, cell.evaluation.se),
        paper=cell.paper_mean,
    )
    return plot_learning_curves([curve], baseline_levels(results, setting), setting_title(*setting))
