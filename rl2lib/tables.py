"""The papers' four tables, assembled from saved results, ours beside the published numbers.

Ours come from the baseline tables (`results/tables/baselines_*.csv`) and from the evaluated
training runs (`results/runs/*/eval.json`: GRU runs fill the RL^2 columns, SNAIL runs the SNAIL
columns). Bold follows the papers' rule over the methods we have numbers for. [2] Table 4 is
normalised: a total divided by 20.76 * n (the papers' "value iteration" reference, see
`rl2lib.paper`). Nothing here trains or evaluates.
References: [1] Duan et al. 2016, "RL^2" Tables 1-2; [2] Mishra et al. 2018, "SNAIL" Tables 3-4.
"""
from __future__ import annotations

import json

from rl2lib import paper
from rl2lib.baseline_tables import read_rows
from rl2lib.paths import results_dir, tables_dir

LEARNER_COLUMNS = {"RL2": "gru", "LSTM_RL2": "gru", "SNAIL": "snail"}
SKIPPED_COLUMNS = ("n", "k", "MAML", "MAML_ci95", "SNAIL_ci95")


def load_results() -> dict[tuple, dict]:
    """(task, n, k, agent) -> {mean, se, num_trials}; agent 'gru'/'snail' for trained runs."""
    results = {}
    for task in ("bandit", "mdp"):
        path = tables_dir() / f"baselines_{task}s.csv"
        if path.exists():
            for row in read_rows(path):
                results[(task, int(row["n"]), int(row["k"]), row["agent"])] = row
    for eval_path in sorted((results_dir() / "runs").glob("*/eval.json")):
        config_path = eval_path.parent / "config.json"
        if not config_path.exists():
            continue
        config, evaluation = json.loads(config_path.read_text()), json.loads(eval_path.read_text())
        task = config["task"]
        key = (task["task"], task["num_traj"], task["num_actions"], config["model"]["model_type"])
        if key not in results or evaluation["mean"] > results[key]["mean"]:  # best run per cell
            results[key] = {**evaluation, "run": eval_path.parent.name}
    return results


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
