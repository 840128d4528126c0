"""The baseline tables: every setting of [1] Tables 1-2 times every baseline, ours beside the paper's.

For each setting a tuned baseline is first tuned over the papers' grid on tuning seeds, then
evaluated once on the evaluation seed (1000 fresh trials). Each row keeps the mean, its standard
error, the chosen hyper-parameter, the published number, whether ours is within tolerance of it,
and the papers' bold rule applied to our numbers. The ceiling rows (oracle, and the exact
Bayes-optimal expectation for n = 10 bandits) come last in each setting.
References: [1] Duan et al. 2016, "RL^2".
"""

from __future__ import annotations

import csv
import os
import time
from pathlib import Path

from tqdm.auto import tqdm

from rl2lib import paper
from rl2lib.baselines.bandits import bayes_optimal_expected_total
from rl2lib.config import ConfigError, TaskConfig
from rl2lib.evaluate import evaluate_baseline, make_baseline, tune_baseline
from rl2lib.paths import tables_dir

BANDIT_SETTINGS = tuple((n, k) for n in (10, 100, 500) for k in (5, 10, 50))
MDP_SETTINGS = tuple((n, 5) for n in (10, 25, 50, 75, 100))
BANDIT_AGENTS = ("random", "gittins", "ts", "ots", "ucb1", "eps_greedy", "greedy")
MDP_AGENTS = ("random", "psrl", "opsrl", "ucrl2", "beb", "eps_greedy", "greedy")
CEILINGS = {"bandit": ("bayes_optimal", "oracle"), "mdp": ("oracle",)}
FIELDS = (
    "task",
    "n",
    "k",
    "agent",
    "mean",
    "se",
    "num_trials",
    "param_name",
    "param",
    "paper",
    "diff",
    "tolerance",
    "within_tolerance",
    "bold",
    "exact_expectation",
    "seconds",
)


def tolerance(agent: str, paper_mean: float, se: float) -> float:
    """How close ours must be to the paper: max(3 SE, 1% of the paper's number); Gittins 1.5%."""
    relative = 0.015 if agent == "gittins" else 0.01
    return max(3 * se, relative * abs(paper_mean))


def exact_expectation(task_config: TaskConfig, agent: str) -> float | None:
    """The closed-form expected total where one exists (the Bayes-optimal DP for small bandits)."""
    if task_config.task == "bandit" and agent == "bayes_optimal":
        try:
            return bayes_optimal_expected_total(task_config.num_actions, task_config.num_traj)
        except ConfigError:
            return None
    return None


def setting_rows(
    task: str, n: int, k: int, agents: tuple[str, ...], num_trials: int, seed: int, tuning_trials: int
) -> list[dict]:
    """Tune and evaluate every agent in one setting; returns the table's rows for it (bold applied)."""
    task_config = TaskConfig(task=task, num_actions=k, num_traj=n)
    table = "rl2_bandits" if task == "bandit" else "rl2_mdps"
    rows = []
    for agent in agents:
        try:
            make_baseline(task_config, agent)  # the ceilings raise where out of reach
        except ConfigError:
            continue
        started = time.perf_counter()
        param, _ = tune_baseline(task_config, agent, tuning_trials, seed)
        try:
            result = evaluate_baseline(task_config, agent, param, num_trials, seed)
        except ConfigError:
            continue
        paper_mean = paper.published(table, agent, n, k if task == "bandit" else None)
        row = {
            "task": task,
            "n": n,
            "k": k,
            "agent": agent,
            "mean": result.mean,
            "se": result.se,
            "num_trials": result.num_trials,
            "param_name": make_baseline(task_config, agent).param_name or "",
            "param": "" if param is None else param,
            "paper": "" if paper_mean is None else paper_mean,
            "exact_expectation": exact_expectation(task_config, agent) or "",
            "seconds": round(time.perf_counter() - started, 2),
        }
        if paper_mean is not None:
            row["diff"] = result.mean - paper_mean
            row["tolerance"] = tolerance(agent, paper_mean, result.se)
            row["within_tolerance"] = abs(row["diff"]) <= row["tolerance"]
        rows.append(row)
    compared = [row for row in rows if row["agent"] not in CEILINGS[task]]
    mask = paper.bold_mask([r["mean"] for r in compared], [r["se"] for r in compared], [r["num_trials"] for r in compared])
    for row, bold in zip(compared, mask):
        row["bold"] = bold
    return rows


def build_table(
    task: str,
    num_trials: int = 1000,
    seed: int = 0,
    tuning_trials: int = 1000,
    settings: tuple | None = None,
    path: Path | None = None,
    progress: bool = True,
) -> list[dict]:
    """Regenerate the baseline table of `task` ('bandit' or 'mdp') and write it as CSV.

    Returns the rows; the file is `results/tables/baselines_{bandits,mdps}.csv` unless `path`.
    """
    if task not in ("bandit", "mdp"):
        raise ConfigError(f"unknown task {task!r}; allowed: bandit, mdp")
    settings = settings or (BANDIT_SETTINGS if task == "bandit" else MDP_SETTINGS)
    agents = (BANDIT_AGENTS if task == "bandit" else MDP_AGENTS) + CEILINGS[task]
    rows = []
    for n, k in tqdm(settings, desc=f"{task} baselines", disable=not progress):
        rows.extend(setting_rows(task, n, k, agents, num_trials, seed, tuning_trials))
    path = path or tables_dir() / f"baselines_{task}s.csv"
    write_rows(rows, path)
    return rows


def write_rows(rows: list[dict], path: Path) -> None:
    """Write rows atomically as CSV (floats to 4 decimals)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=FIELDS, restval="")
        writer.writeheader()
        for row in rows:
            writer.writerow({key: (f"{value:.4f}" if isinstance(value, float) else value) for key, value in row.items()})
    os.replace(tmp, path)


def read_rows(path: Path) -> list[dict]:
    """Rows of a table written by `write_rows`, numbers parsed back."""

    def parse(value: str):
        if value in ("True", "False"):
            return value == "True"
        try:
            return int(value)
        except ValueError:
            try:
                return float(value)
            except ValueError:
                return value

    with open(path, newline="") as handle:
        return [{key: parse(value) for key, value in row.items()} for row in csv.DictReader(handle)]


def markdown_table(rows: list[dict]) -> str:
    """A Markdown table of rows: ours +- SE (bold by the papers' rule), the paper's number, the tuned value."""
    lines = ["| n | k | agent | ours (± SE) | paper | tuned | within tolerance |", "|---|---|---|---|---|---|---|"]
    for row in rows:
        ours = f"{row['mean']:.2f} ± {row['se']:.2f}"
        if row.get("bold") is True:
            ours = f"**{ours}**"
        if row.get("exact_expectation") not in ("", None):
            ours += f" (exact {row['exact_expectation']:.3f})"
        tuned = f"{row['param_name']}={row['param']}" if row.get("param_name") else ""
        within = {True: "yes", False: "**no**"}.get(row.get("within_tolerance"), "")
        lines.append(f"| {row['n']} | {row['k']} | {row['agent']} | {ours} | {row['paper']} | {tuned} | {within} |")
    return "\n".join(lines)
