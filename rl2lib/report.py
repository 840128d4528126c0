"""Render what the runs produced into the README, between marker comments, never by hand.

`python -m rl2lib.report` (called by `make reproduce` after the notebooks) replaces each block
`<!-- results:NAME -->` ... `<!-- /results:NAME -->` of README.md with a table rendered from the
files under `results/`. Blocks whose source file is missing are left as they are.
"""

from __future__ import annotations

import argparse
import json
import re
import shlex
import sys
from pathlib import Path

import matplotlib.pyplot as plt

from rl2lib import paper
from rl2lib.baseline_tables import BANDIT_AGENTS, CEILINGS, MDP_AGENTS, read_rows
from rl2lib.bench import bench_table
from rl2lib.cli import config_to_flags, flag_argv
from rl2lib.config import ConfigError, TrainConfig
from rl2lib.data import load_profiles
from rl2lib.maml_train import MODEL_TYPE as MAML_MODEL_TYPE
from rl2lib.maml_train import command_for as maml_command
from rl2lib.paths import REPO_ROOT, TIMINGS_FILE, notebooks_out_dir, results_dir, tables_dir
from rl2lib.plots import iter_learning_curve_figures, save_figure
from rl2lib.runs import METRICS_FILE, iter_runs, read_evaluation, read_metrics, taught_by
from rl2lib.tables import hours_minutes, learner_bar, load_results, paper_tables_markdown


def wide_baseline_table(rows: list[dict], agents: tuple[str, ...], ceilings: tuple[str, ...]) -> str:
    """One line per setting: ours (paper) per agent, ours in bold by the papers' rule, then the ceilings."""
    settings = sorted({(row["n"], row["k"]) for row in rows})
    bandit = rows and rows[0]["task"] == "bandit"
    head = ["n", "k"] if bandit else ["n"]
    lines = [
        "| " + " | ".join(head + list(agents) + list(ceilings)) + " |",
        "|" + "---|" * (len(head) + len(agents) + len(ceilings)),
    ]
    for n, k in settings:
        cell = {row["agent"]: row for row in rows if (row["n"], row["k"]) == (n, k)}
        out = [str(n)] + ([str(k)] if bandit else [])
        for agent in agents + ceilings:
            row = cell.get(agent)
            if row is None:
                out.append("n/a")
                continue
            ours = f"{row['mean']:.1f}" if abs(row["mean"]) >= 100 else f"{row['mean']:.2f}"
            if row.get("bold") is True:
                ours = f"**{ours}**"
            if row.get("within_tolerance") is False:
                ours += " ✗"
            paper = f" ({row['paper']})" if row.get("paper") not in ("", None) else ""
            exact = f" [exact {row['exact_expectation']:.3f}]" if row.get("exact_expectation") not in ("", None) else ""
            out.append(ours + paper + exact)
        lines.append("| " + " | ".join(out) + " |")
    return "\n".join(lines)


def training_runs() -> list[dict]:
    """Every run under results/runs/ with its config, metrics and (if evaluated) eval.json."""
    runs = []
    for run_dir, config in iter_runs():
        metrics = read_metrics(run_dir)
        if metrics or (run_dir / METRICS_FILE).exists():
            runs.append(
                {"name": run_dir.name, "dir": run_dir, "config": config, "metrics": metrics, "eval": read_evaluation(run_dir)}
            )
    return runs


def command_for(config: dict, run_name: str) -> str:
    """The shortest `rl2-train` command (`rl2-maml` for a MAML run) whose config equals `config` (checked,
    not assumed: `cli.config_to_flags`)."""
    if config["model"]["model_type"] == MAML_MODEL_TYPE:
        return maml_command(config, run_name)
    try:
        flags = config_to_flags(TrainConfig.from_dict(config))  # fields added since the run take their defaults
    except ConfigError:
        return "(config not expressible by flags: see config.json)"
    return f"rl2-train {shlex.join(flag_argv(flags))} --run_dir results/runs/{run_name}"


def played_file(evaluation: dict) -> str:
    """Which file of the run an eval.json scored: `played` (notebooks) or the `--agent` path (CLI)."""
    agent = str(evaluation.get("agent", ""))
    return evaluation.get("played") or (Path(agent).name if agent.endswith(".pt") else "checkpoint.pt")


def training_table(runs: list[dict]) -> str:
    """Runs: evaluation on 1000 fresh trials (seed 0) against the cell's bar (`tables.learner_bar`) and the paper."""
    results = load_results()
    lines = [
        "| run | model | task | k | n | updates | env steps | wall (h:mm) | played | eval mean ± SE | bar | paper |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for run in runs:
        task, model = run["config"]["task"], run["config"]["model"]["model_type"]
        last = run["metrics"][-1] if run["metrics"] else {}
        steps, wall = float(last.get("env_steps", 0)), float(last.get("wall_seconds", 0))
        published = paper.published_learner(model, task["task"], task["num_actions"], task["num_traj"])
        ev = run["eval"]
        key = (task["task"], task["num_traj"], task["num_actions"], model)
        bar = learner_bar(key, ev["se"], results) if ev and published is not None and model != MAML_MODEL_TYPE else None
        score = f"{ev['mean']:.2f} ± {ev['se']:.2f}" if ev else "not evaluated"
        played = played_file(ev) if ev else ""
        teacher = taught_by(run["config"])
        if teacher is not None:
            score += f" (from a network taught to play as {teacher})" if ev else ""
        elif bar is not None:
            score += " ✓" if ev["mean"] >= bar else " ✗"
        lines.append(
            f"| {run['name']} | {model} | {task['task']} | {task['num_actions']} | {task['num_traj']} | "
            f"{last.get('update', 0)} / {run['config']['num_updates']} | {steps:.3g} | "
            f"{hours_minutes(wall)} | {played} | "
            f"{score} | {'' if bar is None else f'{bar:.2f}'} | {'' if published is None else f'{published:g}'} |"
        )
    lines.append("")
    lines.append(
        "Commands (each checked to rebuild the run's config.json; `--resume` continues a run cut off before its last update):"
    )
    lines.append("")
    lines += [f"- `{run['name']}`: `{command_for(run['config'], run['name'])}`" for run in runs]
    return "\n".join(lines)


def save_learning_curves(runs: list[dict]) -> list[tuple[str, str]]:
    """Write the learning-curve figures under results/figures/ as PNG and PDF; returns (title, PNG file
    name) of those the README shows: the main runs and the normalised views, not the ablations."""
    shown = []
    for name, figure in iter_learning_curve_figures(runs, load_results()):
        try:
            save_figure(figure, name)
        finally:
            plt.close(figure)  # a batch run keeps no figure open
        if not name.startswith("ablations_"):
            shown.append((name.replace("_", " "), f"{name}.png"))
    return shown


TIMING_ROW = re.compile(r"^\| (\S+) \| (\S+) \| ([0-9.]+) \|$", re.M)


def timings_table(timings: dict, shown: str = "") -> str | None:
    """The quick profile's cells with their seconds, in the profile's order: a cell in `timings` (the
    runner's results/notebooks/timings.json, this machine's runs only) gets its new seconds, any other
    keeps the row the README's block `shown` already holds. So one cell run on a fresh clone, whose
    timings.json holds that cell alone, changes its own row and no other. None if no row is known."""

    rows = {name: {"notebook": notebook, "seconds": seconds} for name, notebook, seconds in TIMING_ROW.findall(shown)}
    rows.update(timings)
    quick = [cell["name"] for cell in load_profiles()["quick"] if cell["name"] in rows]
    if not quick:
        return None
    return "\n".join(
        ["| cell | notebook | seconds |", "|---|---|---|"]
        + [f"| {name} | {rows[name]['notebook']} | {rows[name]['seconds']} |" for name in quick]
    )


def block_pattern(name: str) -> re.Pattern:
    """README block `name`: group 1 its opening marker, group 2 its body, group 3 its closing marker."""
    return re.compile(rf"(<!-- results:{name} -->\n)(.*?)(<!-- /results:{name} -->)", re.S)


def marked_block(text: str, name: str) -> str:
    """The body of README block `name` in `text` ('' if absent)."""
    found = block_pattern(name).search(text)
    return found.group(2) if found else ""


def blocks(readme_text: str = "", figures: bool = True) -> dict[str, str]:
    """Rendered blocks by name, for the sources that exist; `readme_text` (the README as it stands)
    supplies the timing rows of cells not run here. `figures=False` leaves the learning-curve figures
    unwritten, and the training-runs block without their links."""
    rendered = {}
    for task, agents in (("bandit", BANDIT_AGENTS), ("mdp", MDP_AGENTS)):
        path = tables_dir() / f"baselines_{task}s.csv"
        if path.exists():
            rendered[f"baselines_{task}s"] = wide_baseline_table(read_rows(path), agents, CEILINGS[task])

    timings_path = notebooks_out_dir() / TIMINGS_FILE
    timings = json.loads(timings_path.read_text()) if timings_path.exists() else {}
    times = timings_table(timings, marked_block(readme_text, "reproduce_times"))
    if times is not None:
        rendered["reproduce_times"] = times
    bench_rows = []
    for path in sorted((results_dir() / "bench").glob("bench_*.json")):
        bench_rows += json.loads(path.read_text())["rows"]
    if bench_rows:
        rendered["bench"] = bench_table(bench_rows)
    rendered["paper_tables"] = paper_tables_markdown()
    runs = training_runs()
    if runs and figures:
        images = [f"![{title}](results/figures/{name})" for title, name in save_learning_curves(runs)]
        rendered["training_runs"] = training_table(runs) + "\n\n" + " ".join(images)
    elif runs:
        rendered["training_runs"] = training_table(runs)
    return rendered


def update_readme(readme: Path = REPO_ROOT / "README.md") -> list[str]:
    """Replace the marked blocks of the README; returns the names of the blocks replaced."""
    text = readme.read_text()
    replaced = []
    for name, body in blocks(text).items():
        pattern = block_pattern(name)
        if pattern.search(text):
            text = pattern.sub(lambda m: m.group(1) + body + "\n" + m.group(3), text)
            replaced.append(name)
    readme.write_text(text)
    return replaced


def main(argv: list[str] | None = None) -> None:
    argparse.ArgumentParser(
        prog="python -m rl2lib.report",
        description="Render the tables, figures and timings "
        "under results/ into README.md's marked blocks (blocks without a source stay).",
    ).parse_args(argv)
    names = update_readme()
    print(f"README blocks updated: {', '.join(names) or 'none'}", file=sys.stderr)


if __name__ == "__main__":
    main()
