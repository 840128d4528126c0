"""The papers' four tables, assembled from saved results, ours beside the published numbers.

Ours come from the baseline tables (`results/tables/baselines_*.csv`) and from the evaluated
training runs (`results/runs/*/eval.json`). A learner cell is the run group of the cell's default
name (`paths.default_run_name`: its training seeds `<name>`, `<name>_seed1`, ...), or of its
second training phase `<name>_phase2` where the cell has one (MDPs); other runs
(variants of the recipe) are listed by `seed_markdown` but never fill a table. A group's number is
the mean over seeds of the per-seed evaluations, its SE the evaluation noise of that mean, with the
spread over seeds and the best seed beside it (the RL^2 authors kept the best of five). Bold follows the papers' rule over the methods we have numbers for. [2] Table 4 is
normalised: a total divided by 20.76 * n (the papers' "value iteration" reference, see
`rl2lib.paper`). Nothing here trains or evaluates.
References: [1] Duan et al. 2016, "RL^2" Tables 1-2; [2] Mishra et al. 2018, "SNAIL" Tables 3-4.
"""
from __future__ import annotations

import json
import math

from rl2lib import paper
from rl2lib.baseline_tables import read_rows
from rl2lib.paths import PHASE2_SUFFIX, default_run_name, results_dir, split_seed, tables_dir

LEARNER_COLUMNS = {"RL2": "gru", "LSTM_RL2": "gru", "SNAIL": "snail"}
PAPER_TABLES = (("rl2_bandits", "RL² Table 1 (bandits)", 2), ("rl2_mdps", "RL² Table 2 (MDPs)", 1),
                ("snail_bandits", "SNAIL Table 3 (bandits)", 2),
                ("snail_mdps", "SNAIL Table 4 (MDPs, normalised by 20.76 n)", 3))
"""The four published tables: (name in `paper.TABLE_FILES`, title, decimals shown)."""
SKIPPED_COLUMNS = ("n", "k", "MAML", "MAML_ci95", "SNAIL_ci95")


def learner_groups() -> dict[str, dict]:
    """Evaluated runs grouped over training seeds: base run name -> summary.

    Summary: key (task, n, k, model), seeds, per_seed [{seed, run, mean, se, num_trials}], mean
    (over seeds), se (sqrt(sum se_i^2) / S), spread (sample SD over seeds; 0 for one seed), best
    (the best seed's record), num_trials (all seeds' trials, for the bold rule's Welch test).
    """
    grouped: dict[str, dict] = {}
    for eval_path in sorted((results_dir() / "runs").glob("*/eval.json")):
        config_path = eval_path.parent / "config.json"
        if not config_path.exists():
            continue
        config, evaluation = json.loads(config_path.read_text()), json.loads(eval_path.read_text())
        task = config["task"]
        base, seed = split_seed(eval_path.parent.name)
        group = grouped.setdefault(base, {"key": (task["task"], task["num_traj"], task["num_actions"],
                                                  config["model"]["model_type"]), "per_seed": []})
        group["per_seed"].append({"seed": seed, "run": eval_path.parent.name, "mean": evaluation["mean"],
                                  "se": evaluation["se"], "num_trials": evaluation["num_trials"]})
    for group in grouped.values():
        runs = sorted(group["per_seed"], key=lambda r: r["seed"])
        means = [r["mean"] for r in runs]
        S, mean = len(runs), sum(means) / len(runs)
        group.update(per_seed=runs, seeds=[r["seed"] for r in runs], mean=mean,
                     se=math.sqrt(sum(r["se"] ** 2 for r in runs)) / S,
                     spread=math.sqrt(sum((m - mean) ** 2 for m in means) / (S - 1)) if S > 1 else 0.0,
                     best=max(runs, key=lambda r: r["mean"]), num_trials=sum(r["num_trials"] for r in runs))
    return grouped


def load_results() -> dict[tuple, dict]:
    """(task, n, k, agent) -> {mean, se, num_trials}; agent 'gru'/'snail' for a cell's run group."""
    results = {}
    for task in ("bandit", "mdp"):
        path = tables_dir() / f"baselines_{task}s.csv"
        if path.exists():
            for row in read_rows(path):
                results[(task, int(row["n"]), int(row["k"]), row["agent"])] = row
    groups = learner_groups()
    for base, group in groups.items():
        task, n, k, model = group["key"]
        cell = default_run_name(model, task, k, n)
        if (base == cell and cell + PHASE2_SUFFIX not in groups) or base == cell + PHASE2_SUFFIX:
            results[group["key"]] = {**group, "run": base}
    return results


def seed_markdown(groups: dict[str, dict] | None = None) -> str:
    """Every evaluated run group: seeds, mean over seeds ± SE, spread over seeds, best seed."""
    groups = learner_groups() if groups is None else groups
    lines = ["| runs | model | task | k | n | seeds | mean over seeds ± SE | spread (SD) | best seed |",
             "|---|---|---|---|---|---|---|---|---|"]
    for base, g in sorted(groups.items()):
        task, n, k, model = g["key"]
        best = g["best"]
        lines.append(f"| {base} | {model} | {task} | {k} | {n} | {len(g['seeds'])} | {g['mean']:.2f} ± {g['se']:.2f} | "
                     f"{g['spread']:.2f} | {best['mean']:.2f} ± {best['se']:.2f} (seed {best['seed']}) |")
    return "\n".join(lines)


def assemble(table: str, results: dict | None = None) -> list[dict]:
    """Rows of published table `table` (see `paper.TABLE_FILES`) with ours beside each number.

    Returns one dict per published row: n, k, and per column {paper, ours, se, bold}.
    """
    results = load_results() if results is None else results
    task = "bandit" if "bandits" in table else "mdp"
    normalised = table == "snail_mdps"
    rows = []
    for published_row in paper.load_table(table):
        n = int(published_row["n"])
        k = int(published_row["k"]) if "k" in published_row else 5
        row = {"n": n, "k": k, "cells": {}}
        for column, value in published_row.items():
            if column in SKIPPED_COLUMNS or column.endswith("_ci95"):
                continue
            agent = LEARNER_COLUMNS.get(column, paper.COLUMN_TO_AGENT.get(column))
            ours = results.get((task, n, k, agent))
            cell = {"paper": value, "ours": None, "se": None, "num_trials": None}
            if ours is not None:
                scale = 1 / (paper.VALUE_ITERATION_REFERENCE_PER_EPISODE * n) if normalised else 1.0
                cell.update(ours=ours["mean"] * scale, se=ours["se"] * scale, num_trials=int(ours["num_trials"]))
            row["cells"][column] = cell
        with_ours = [c for c in row["cells"].values() if c["ours"] is not None]
        if with_ours:
            for cell, bold in zip(with_ours, paper.bold_mask([c["ours"] for c in with_ours],
                                                              [c["se"] for c in with_ours],
                                                              [c["num_trials"] for c in with_ours])):
                cell["bold"] = bold
        rows.append(row)
    return rows


def markdown(rows: list[dict], digits: int = 1) -> str:
    """A Markdown table: per column 'ours ± SE (paper)', ours bold by the papers' rule; '–' where we have none."""
    columns = list(rows[0]["cells"])
    has_k = len({row["k"] for row in rows}) > 1
    head = ["n", "k"] if has_k else ["n"]
    lines = ["| " + " | ".join(head + columns) + " |", "|" + "---|" * (len(head) + len(columns))]
    for row in rows:
        out = [str(row["n"])] + ([str(row["k"])] if has_k else [])
        for column in columns:
            cell = row["cells"][column]
            paper_text = "" if cell["paper"] is None else f" ({cell['paper']})"
            if cell["ours"] is None:
                out.append("–" + paper_text)
                continue
            ours = f"{cell['ours']:.{digits}f} ± {cell['se']:.{digits}f}"
            out.append((f"**{ours}**" if cell.get("bold") else ours) + paper_text)
        lines.append("| " + " | ".join(out) + " |")
    return "\n".join(lines)


def budget_markdown(results: dict | None = None) -> str:
    """The learner cells that fill the tables: their run group, seeds, and the budget of every seed's
    run (updates, environment steps and wall time, a later phase counting its first phase's too)."""
    import csv

    results = load_results() if results is None else results
    lines = ["| cell (task, n, k, model) | runs | seeds | updates | env steps | wall (h:mm) |",
             "|---|---|---|---|---|---|"]
    for key, group in sorted((key, r) for key, r in results.items() if key[3] in LEARNER_COLUMNS.values()):
        budgets = []
        for run in group["per_seed"]:
            path = results_dir() / "runs" / run["run"] / "metrics.csv"
            rows = list(csv.DictReader(path.read_text().splitlines())) if path.exists() else []
            if rows:
                wall = float(rows[-1]["wall_seconds"])
                budgets.append((rows[-1]["update"], f"{float(rows[-1]['env_steps']):.3g}",
                                f"{int(wall // 3600)}:{int(wall % 3600 // 60):02d}"))
        updates, steps, wall = (", ".join(sorted(set(column))) for column in zip(*budgets)) if budgets else ("–",) * 3
        task, n, k, model = key
        lines.append(f"| {task}, {n}, {k}, {model} | {group['run']} | {len(group['seeds'])} | {updates} | {steps} | {wall} |")
    return "\n".join(lines)


def paper_tables_markdown(results: dict | None = None) -> str:
    """The four tables (`PAPER_TABLES`), ours beside the paper's, then the learner cells' budgets."""
    results = load_results() if results is None else results
    parts = [f"**{title}**\n\n" + markdown(assemble(table, results), digits) for table, title, digits in PAPER_TABLES]
    return "\n\n".join(parts + ["**The learner cells' budgets**\n\n" + budget_markdown(results)])
