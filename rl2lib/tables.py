"""The papers' four tables, assembled from saved results, ours beside the published numbers. Ours come
from the baseline tables (`results/tables/baselines_*.csv`) and from the evaluated training runs
(`results/runs/*/eval.json`). A learner cell is the run group of the cell's default name
(`paths.default_run_name`: its training seeds `<name>`, `<name>_seed1`, ...), or of its latest
training phase `<name>_phase<N>` with the most seeds where the cell has later phases; other runs (variants of the recipe)
are listed by `seed_markdown` but never fill a table. A group's number is the mean over seeds of the
per-seed evaluations, its SE the evaluation noise of that mean, with the spread over seeds and the
best seed beside it (the RL^2 authors kept the best of five). Bold follows the papers' rule over the
methods we have numbers for. [2] Table 4 is normalised: a total divided by 20.76 * n (the papers'
"value iteration" reference, see `rl2lib.paper`). Nothing here trains or evaluates.
References: [1] Duan et al. 2016, "RL^2" Tables 1-2; [2] Mishra et al. 2018, "SNAIL" Tables 3-4.
"""

from __future__ import annotations

import math
from pathlib import Path

from rl2lib import paper
from rl2lib.baseline_tables import read_rows
from rl2lib.config import TrainConfig
from rl2lib.paths import cell_phase, default_run_name, split_seed, tables_dir
from rl2lib.runs import CONFIRM_FILE, iter_runs, read_config, read_evaluation, read_metrics, runs_dir

LEARNER_COLUMNS = {"RL2": "gru", "LSTM_RL2": "gru", "SNAIL": "snail", "MAML": "maml"}
PAPER_TABLES = (
    ("rl2_bandits", "RL² Table 1 (bandits)", 2),
    ("rl2_mdps", "RL² Table 2 (MDPs)", 1),
    ("snail_bandits", "SNAIL Table 3 (bandits)", 2),
    ("snail_mdps", "SNAIL Table 4 (MDPs, normalised by 20.76 n)", 3),
)
"""The four published tables: (name in `paper.TABLE_FILES`, title, decimals shown)."""
SKIPPED_COLUMNS = ("n", "k", "MAML_ci95", "SNAIL_ci95")
UNBOLDED_COLUMNS = ("MAML",)
"""Columns outside the bold rule: our MAML cells play an unscored trial of each task before the scored one
(`rl2lib.maml`, `adapt_trials`), so they see more of a task than every other column."""
CAMPAIGN_MODELS = ("gru", "snail")
"""The learners the campaign trains to the paper's numbers; MAML is a baseline of [2] (`maml_markdown`)."""
MAML_TOLERANCE = 0.02
"""A MAML cell matches the paper within max(3 SE, 2% of the paper's number), above or below (issue 14)."""


def learner_groups() -> dict[str, dict]:
    """Evaluated runs grouped over training seeds: base run name -> summary.

    Summary: key (task, n, k, model), seeds, per_seed [{seed, run, mean, se, num_trials, selection}],
    mean (over seeds), se (sqrt(sum se_i^2) / S), spread (sample SD over seeds; 0 for one seed), best
    (the record of the seed with the best `selection_score`), num_trials (all seeds' trials, for the
    bold rule's Welch test).
    """
    grouped: dict[str, dict] = {}
    for run_dir, config in iter_runs():
        evaluation = read_evaluation(run_dir)
        if evaluation is None:
            continue
        task = config["task"]
        base, seed = split_seed(run_dir.name)
        group = grouped.setdefault(
            base, {"key": (task["task"], task["num_traj"], task["num_actions"], config["model"]["model_type"]), "per_seed": []}
        )
        group["per_seed"].append(
            {
                "seed": seed,
                "run": run_dir.name,
                "mean": evaluation["mean"],
                "se": evaluation["se"],
                "num_trials": evaluation["num_trials"],
                "selection": selection_score(run_dir),
            }
        )
    for group in grouped.values():
        runs = sorted(group["per_seed"], key=lambda r: r["seed"])
        means = [r["mean"] for r in runs]
        S, mean = len(runs), sum(means) / len(runs)
        group.update(
            per_seed=runs,
            seeds=[r["seed"] for r in runs],
            mean=mean,
            se=math.sqrt(sum(r["se"] ** 2 for r in runs)) / S,
            spread=math.sqrt(sum((m - mean) ** 2 for m in means) / (S - 1)) if S > 1 else 0.0,
            best=max(runs, key=lambda r: r["selection"]),
            num_trials=sum(r["num_trials"] for r in runs),
        )
    return grouped


def selection_score(run_dir: Path) -> float:
    """How the best seed is chosen, never by the evaluation tasks: the run's best validation return
    (held-out tasks), else its mean training return over its last 50 updates (the RL^2 authors' rule)."""
    rows = read_metrics(run_dir)
    validations = [float(row["validation_return"]) for row in rows if row.get("validation_return")]
    if validations:
        return max(validations)
    returns = [float(row["mean_trial_return"]) for row in rows[-50:] if row.get("mean_trial_return")]
    return sum(returns) / len(returns) if returns else -math.inf


def load_results() -> dict[tuple, dict]:
    """(task, n, k, agent) -> {mean, se, num_trials}; agent 'gru'/'snail' for a cell's run group: its
    latest evaluated training phase among those with the most training seeds, so that a later phase
    fills the cell once it has as many seeds as the phase before it."""
    results = {}
    for task in ("bandit", "mdp"):
        path = tables_dir() / f"baselines_{task}s.csv"
        if path.exists():
            for row in read_rows(path):
                results[(task, int(row["n"]), int(row["k"]), row["agent"])] = row
    chosen = {}  # cell -> (seeds, phase) of the group filling it
    for base, group in learner_groups().items():
        task, n, k, model = group["key"]
        phase = cell_phase(base, default_run_name(model, task, k, n))
        if phase is not None and (len(group["seeds"]), phase) > chosen.get(group["key"], (0, 0)):
            chosen[group["key"]] = (len(group["seeds"]), phase)
            results[group["key"]] = {**group, "run": base}
    return results


def seed_markdown(groups: dict[str, dict] | None = None) -> str:
    """Every evaluated run group: seeds, mean over seeds ± SE, spread over seeds, best seed."""
    groups = learner_groups() if groups is None else groups
    lines = [
        "| runs | model | task | k | n | seeds | mean over seeds ± SE | spread (SD) | best seed |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for base, g in sorted(groups.items()):
        task, n, k, model = g["key"]
        best = g["best"]
        lines.append(
            f"| {base} | {model} | {task} | {k} | {n} | {len(g['seeds'])} | {g['mean']:.2f} ± {g['se']:.2f} | "
            f"{g['spread']:.2f} | {best['mean']:.2f} ± {best['se']:.2f} (seed {best['seed']}) |"
        )
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
                scale = paper.normalised_scale(n) if normalised else 1.0
                cell.update(ours=ours["mean"] * scale, se=ours["se"] * scale, num_trials=int(ours["num_trials"]))
            row["cells"][column] = cell
        with_ours = [c for column, c in row["cells"].items() if c["ours"] is not None and column not in UNBOLDED_COLUMNS]
        if with_ours:
            for cell, bold in zip(
                with_ours,
                paper.bold_mask(
                    [c["ours"] for c in with_ours], [c["se"] for c in with_ours], [c["num_trials"] for c in with_ours]
                ),
            ):
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


def learner_cells(models: tuple[str, ...] = CAMPAIGN_MODELS) -> list[tuple]:
    """The learner cells of `models` in the four tables as (task, n, k, model), in the tables' order: by
    default the campaign's 30, the GRU cells of [1] Tables 1-2 (which [2]'s LSTM columns repeat, but for
    bandit n = 1000) and SNAIL's; ("maml",) gives [2]'s 8 MAML cells."""
    cells = []
    for table, _, _ in PAPER_TABLES:
        task = "bandit" if "bandits" in table else "mdp"
        for row in paper.load_table(table):
            for column, model in LEARNER_COLUMNS.items():
                key = (task, int(row["n"]), int(row.get("k") or 5), model)
                if model in models and row.get(column) is not None and key not in cells:
                    cells.append(key)
    return cells


def learner_bar(key: tuple, se: float, results: dict) -> float | None:
    """The score a learner cell must reach: the paper's number (the exact Bayes-optimal expectation
    where that is lower, bandit n = 10) minus max(3 SE, 1% of it)."""
    task, n, k, model = key
    target = paper.published_learner(model, task, k, n)
    exact = results.get((task, n, k, "bayes_optimal"), {}).get("exact_expectation")
    if target is not None and exact not in (None, ""):
        target = min(target, float(exact))
    return None if target is None else target - max(3 * se, 0.01 * target)


def hours_minutes(seconds: float) -> str:
    """Wall time as h:mm, e.g. 5580.0 -> '1:33'."""
    return f"{int(seconds // 3600)}:{int(seconds % 3600 // 60):02d}"


def parent_run(run: str) -> str | None:
    """The run whose checkpoint `run` started from (`--init_from`), or None."""
    parent = (read_config(runs_dir() / run) or {}).get("init_from")
    return None if parent is None else Path(parent).parent.name


def run_lineage(run: str) -> list[str]:
    """The runs a run started from (`--init_from`), nearest first: its budget counts theirs too."""
    lineage = []
    while (run := parent_run(run)) is not None and len(lineage) <= 20:
        lineage.append(run)
    return lineage


def run_budget(run: str, depth: int = 0) -> tuple[float, float] | None:
    """(environment steps, wall seconds) a run's policy cost: its own updates and all that its parents
    trained, None without metrics. A warm start's metrics count on from the parent's snapshot it
    started from (`best.pt`), so the updates a parent trained past that snapshot are added here."""
    rows = read_metrics(runs_dir() / run)
    if not rows:
        return None
    steps, wall = float(rows[-1]["env_steps"]), float(rows[-1]["wall_seconds"])
    parent = parent_run(run)
    parent_budget = None if parent is None or depth > 20 else run_budget(parent, depth + 1)
    if parent_budget is None:
        return steps, wall
    steps_per_update = TrainConfig.from_dict(read_config(runs_dir() / run)).steps_per_update
    start = float(rows[0]["env_steps"]) - int(rows[0]["update"]) * steps_per_update  # the snapshot's count
    snapshot = next((row for row in read_metrics(runs_dir() / parent) if float(row["env_steps"]) == start), None)
    if snapshot is None:  # the parent's metrics no longer hold the snapshot: its count as recorded
        return steps, wall
    return steps - start + parent_budget[0], wall - float(snapshot["wall_seconds"]) + parent_budget[1]


def confirmation(runs: list[str]) -> dict | None:
    """The mean over `runs` of their confirming evaluations (`confirm.json`: 10,000 tasks of another
    seed), or None unless every run has one."""
    records = [read_evaluation(runs_dir() / run, CONFIRM_FILE) for run in runs]
    if not records or None in records:
        return None
    return {
        "mean": sum(r["mean"] for r in records) / len(records),
        "seed": records[0]["seed"],
        "se": math.sqrt(sum(r["se"] ** 2 for r in records)) / len(records),
        "num_trials": records[0]["num_trials"],
    }


def standing(key: tuple, group: dict, results: dict) -> tuple[float, dict | None, float]:
    """(bar, confirmation, shortfall) of learner cell `key` with run group `group`: the bar on its
    evaluation, its confirming evaluation (None until every seed has one), and by how much it misses
    the bar on either (<= 0: reached there)."""
    bar = learner_bar(key, group["se"], results)
    confirm = confirmation([run["run"] for run in group["per_seed"]])
    shortfall = bar - group["mean"]
    if confirm is not None:
        shortfall = max(shortfall, learner_bar(key, confirm["se"], results) - confirm["mean"])
    return bar, confirm, shortfall


def validation_trend(run_dir: Path, last: float = 0.5) -> dict | None:
    """How fast a run's validation return rose at the end: the least-squares slope (with its SE) per
    1e7 environment steps over the `last` fraction of its validations (at least 4 of them), and the
    wall seconds its training took per 1e7 steps there; None with fewer validations."""
    rows = [row for row in read_metrics(run_dir) if row.get("validation_return")]
    rows = rows[-max(4, round(last * len(rows))) :]
    if len(rows) < 4:
        return None
    steps = [float(row["env_steps"]) / 1e7 for row in rows]
    returns = [float(row["validation_return"]) for row in rows]
    mean_steps, mean_return = sum(steps) / len(steps), sum(returns) / len(returns)
    spread = sum((x - mean_steps) ** 2 for x in steps)
    slope = sum((x - mean_steps) * (y - mean_return) for x, y in zip(steps, returns)) / spread
    residual = sum((y - mean_return - slope * (x - mean_steps)) ** 2 for x, y in zip(steps, returns))
    wall = (float(rows[-1]["wall_seconds"]) - float(rows[0]["wall_seconds"])) / (steps[-1] - steps[0])
    return {
        "rate": slope,
        "rate_se": math.sqrt(residual / (len(rows) - 2) / spread),
        "validations": len(rows),
        "wall_per_1e7": wall,
        "updates": f"{rows[0]['update']}-{rows[-1]['update']}",
    }


def latest_phase_run(cell: str) -> Path | None:
    """The run folder of the latest training phase of table cell `cell` (training seed 0) that has
    metrics, evaluated or not yet finished; None where it has none."""
    phases = {}
    for run_dir in runs_dir().glob(f"{cell}*"):
        base, seed = split_seed(run_dir.name)
        phase = cell_phase(base, cell)
        if phase is not None and seed == 0 and read_metrics(run_dir):
            phases[phase] = run_dir
    return phases[max(phases)] if phases else None


def open_cells_markdown(results: dict | None = None) -> str:
    """Every trained learner cell not yet reached and confirmed: how far short it is, how fast the
    validation return of its latest phase (`latest_phase_run`, training seed 0) rose at the end
    (`validation_trend`), and what closing the gap at that rate would take (a straight line: the
    curves bend down, so it is a lower bound)."""
    results = load_results() if results is None else results
    lines = [
        "| cell (task, n, k, model) | short of the bar | latest phase | validation rate per 1e7 steps ± SE (updates) "
        "| wall per 1e7 steps | at that rate, the bar after |",
        "|---|---|---|---|---|---|",
    ]
    for key in learner_cells():
        task, n, k, model = key
        group, latest = results.get(key), latest_phase_run(default_run_name(model, task, k, n))
        if group is None and latest is None:
            continue
        _, confirm, shortfall = standing(key, group, results) if group else (None, None, math.nan)
        if shortfall <= 0 and confirm is not None:
            continue
        trend = None if latest is None else validation_trend(latest)
        if trend is None or group is None:
            rate_text = "–" if trend is None else f"{trend['rate']:+.2g} ± {trend['rate_se']:.2g} ({trend['updates']})"
            wall_text = "–" if trend is None else f"{trend['wall_per_1e7'] / 3600:.2g} h"
            closing = "–"
        else:
            rate, rate_se, wall = trend["rate"], trend["rate_se"], trend["wall_per_1e7"]
            rate_text = f"{rate:+.2g} ± {rate_se:.2g} ({trend['updates']})"
            wall_text = f"{wall / 3600:.2g} h"
            if shortfall <= 0:
                closing = "reached, not yet confirmed"
            elif rate > 2 * rate_se:
                closing = f"{shortfall / rate * 1e7:.2g} steps, {shortfall / rate * wall / 3600:.2g} h"
            else:
                closing = "not rising (rate below 2 SE)"
        if latest is None or group is not None and latest.name == group["run"]:
            state = ""
        else:
            state = " (fewer seeds)" if (latest / "eval.json").exists() else " (unfinished)"
        latest_text = "–" if latest is None else latest.name + state
        short_text = "not evaluated" if group is None else f"{max(shortfall, 0):.3g}"
        lines.append(f"| {task}, {n}, {k}, {model} | {short_text} | {latest_text} | {rate_text} | {wall_text} | {closing} |")
    lines += [
        "",
        "Short of the bar: the cell's evaluated phase, on the evaluation or on the confirming tasks, whichever "
        "misses by more. Rate: the least-squares slope of the validation return (held-out tasks) of the "
        "cell's latest phase, evaluated (with fewer seeds than the phase the cell plays) or not yet finished, over the last "
        "half of its validations; wall: its "
        "training time per 1e7 steps there, on the machine it ran on (one torch thread, two runs at a time). "
        "The last column extrapolates that straight line, a lower bound: the curves bend down.",
    ]
    return "\n".join(lines)


def budget_markdown(results: dict | None = None) -> str:
    """Every learner cell: its run group and the runs it started from, the budget of its seeds' runs
    (environment steps and wall time, counting the parents'), ours beside the paper's and the bar,
    the best seed, and the confirming evaluation on 10,000 tasks of another seed."""
    results = load_results() if results is None else results
    lines = [
        "| cell (task, n, k, model) | runs | seeds | started from | env steps | wall (h:mm) | ours ± SE | best seed "
        "| paper | bar | reached | confirmation ± SE |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    reached = 0
    for key in learner_cells():
        task, n, k, model = key
        target = paper.published_learner(model, task, k, n)
        group = results.get(key)
        if group is None:
            lines.append(f"| {task}, {n}, {k}, {model} | – | 0 | | | | – | | {target:g} | | ✗ | |")
            continue
        budgets = [
            (f"{steps:.3g}", hours_minutes(wall))
            for steps, wall in filter(None, (run_budget(run["run"]) for run in group["per_seed"]))
        ]
        steps, wall = (", ".join(sorted(set(column))) for column in zip(*budgets)) if budgets else ("–",) * 2
        bar, confirm, shortfall = standing(key, group, results)
        ok = shortfall <= 0
        reached += ok and confirm is not None
        mark = ("✓" if confirm is not None else "✓ (unconfirmed)") if ok else "✗"
        best = group["best"]
        lineage = " ← ".join(run_lineage(group["per_seed"][0]["run"])) or "–"
        confirm_text = "–" if confirm is None else f"{confirm['mean']:.2f} ± {confirm['se']:.2f}"
        lines.append(
            f"| {task}, {n}, {k}, {model} | {group['run']} | {len(group['seeds'])} | {lineage} | {steps} | {wall} | "
            f"{group['mean']:.2f} ± {group['se']:.2f} | {best['mean']:.2f} (seed {best['seed']}) | {target:g} | "
            f"{bar:.2f} | {mark} | {confirm_text} |"
        )
    lines.append("")
    lines.append(
        f"{reached} of {len(learner_cells())} learner cells reached and confirmed. Ours: 1000 tasks of "
        "seed 0; confirmation: 10,000 tasks of seed 2000003 (`python -m rl2lib.campaign` writes both); "
        "bar: the paper's number (bandit n = 10: the exact Bayes-optimal expectation where lower) minus "
        "max(3 SE, 1%); best seed: the seed with the best validation return (or training return over the last "
        "50 updates), never chosen on the evaluation tasks, as the RL^2 authors kept the best of five."
    )
    return "\n".join(lines)


def maml_markdown(results: dict | None = None) -> str:
    """The MAML cells of [2] Tables 3-4: ours (eval.json) and the confirmation (confirm.json) beside
    the paper's number, matched when within max(3 SE, 2%) of it on both sides (MAML is a baseline)."""
    results = load_results() if results is None else results
    lines = [
        "| cell (task, n, k) | run | outer steps | env steps | wall (h:mm) | ours ± SE | paper | tolerance "
        "| matches | confirmation ± SE |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    matched = 0
    for key in learner_cells(("maml",)):
        task, n, k, _ = key
        target, group = paper.published_learner("maml", task, k, n), results.get(key)
        shown = f"{target:.2f} ({target * paper.normalised_scale(n):.3f})" if task == "mdp" else f"{target:g}"
        if group is None:
            lines.append(f"| {task}, {n}, {k} | – | | | | – | {shown} | | ✗ | |")
            continue
        last = read_metrics(runs_dir() / group["run"])[-1]
        wall = float(last["wall_seconds"])
        confirm = confirmation([run["run"] for run in group["per_seed"]])
        ok = confirm is not None and all(
            abs(e["mean"] - target) <= max(3 * e["se"], MAML_TOLERANCE * target) for e in (group, confirm)
        )
        matched += ok
        confirm_text = "–" if confirm is None else f"{confirm['mean']:.2f} ± {confirm['se']:.2f}"
        lines.append(
            f"| {task}, {n}, {k} | {group['run']} | {last['update']} | {float(last['env_steps']):.3g} | "
            f"{hours_minutes(wall)} | {group['mean']:.2f} ± {group['se']:.2f} | "
            f"{shown} | ± {max(3 * group['se'], MAML_TOLERANCE * target):.2f} | {'✓' if ok else '✗'} | "
            f"{confirm_text} |"
        )
    lines += [
        "",
        f"{matched} of {len(learner_cells(('maml',)))} MAML cells match the paper (MDP totals: the "
        "normalised number times 20.76 n), on 1000 tasks of seed 0 and on 10,000 of seed 2000003.",
    ]
    return "\n".join(lines)


def paper_tables_markdown(results: dict | None = None) -> str:
    """The four tables (`PAPER_TABLES`), ours beside the paper's, then the learner cells' budgets and the MAML cells."""
    results = load_results() if results is None else results
    parts = [f"**{title}**\n\n" + markdown(assemble(table, results), digits) for table, title, digits in PAPER_TABLES]
    return "\n\n".join(
        parts
        + [
            "**The learner cells, their budgets and bars**\n\n" + budget_markdown(results),
            "**The open cells: how fast they rose at the end**\n\n" + open_cells_markdown(results),
            "**The MAML cells (a baseline of SNAIL Tables 3-4)**\n\n" + maml_markdown(results),
        ]
    )
