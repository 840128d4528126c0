"""Runs side by side at the same environment steps: for each run (a name under results/runs/, or a run folder), the validation
return (held-out tasks, the same tasks for every run of a cell) or the mean training return that its
metrics.csv holds at or just before every multiple of a step interval, then each run's best and last,
as a Markdown table. This is how the README compares a recipe lever with the run it varies ("validation
76.6 against 73.5 at 10M steps"); environment steps count on from a run's `--init_from` parent, as in
metrics.csv. Nothing here trains or evaluates.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

from rl2lib.cli import cli_error, print_output
from rl2lib.runs import read_metrics, runs_dir

COLUMNS = {"validation": "validation_return", "training": "mean_trial_return"}
"""What a table compares, by the name the command line takes: metrics.csv's column."""


def curve(run: str, column: str = "validation") -> list[tuple[float, float]]:
    """(environment steps, value) of every update of `run` (a name under results/runs/, or a run folder's
    path) that recorded `column`, in order.

    Raises:
        ValueError: no such run folder, or no metrics.csv with such rows in it (one line).
    """
    named = runs_dir() / run
    folder = named if named.is_dir() else Path(run)
    if not folder.is_dir():
        raise ValueError(f"no run {run!r}: neither a folder nor a name under {runs_dir()}")
    field = COLUMNS[column]
    points = [(float(row["env_steps"]), float(row[field])) for row in read_metrics(folder) if row.get(field)]
    if not points:
        raise ValueError(f"run {run!r} has no {column} returns in {folder / 'metrics.csv'}")
    return points


def value_at(points: list[tuple[float, float]], steps: float, window: float) -> float | None:
    """The value of the last point at or before `steps`, if it is no more than `window` steps earlier."""
    earlier = [(at, value) for at, value in points if steps - window < at <= steps]
    return earlier[-1][1] if earlier else None


def compare_markdown(runs: list[str], every: float = 5e6, column: str = "validation") -> str:
    """The table: one row per multiple of `every` steps from the earliest run's first validation to the
    longest run's last, then "best" and "last"."""
    curves = {run: curve(run, column) for run in runs}
    first = min(points[0][0] for points in curves.values())  # a warm start counts on from its parent's steps
    longest = max(points[-1][0] for points in curves.values())
    lines = [f"| env steps | {' | '.join(runs)} |", "|---" * (len(runs) + 1) + "|"]
    for multiple in range(max(1, math.ceil(first / every)), int(longest // every) + 1):
        values = [value_at(curves[run], multiple * every, every) for run in runs]
        cells = " | ".join("–" if value is None else f"{value:.2f}" for value in values)
        lines.append(f"| {multiple * every:.3g} | {cells} |")
    for label, select in (("best", lambda points: max(points, key=lambda point: point[1])), ("last", lambda points: points[-1])):
        cells = " | ".join(f"{value:.2f} ({at:.3g})" for at, value in map(select, curves.values()))
        lines.append(f"| {label} (at steps) | {cells} |")
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m rl2lib.compare", description=__doc__.split("\n\n")[0])
    parser.add_argument("runs", nargs="+", help="runs: names under results/runs/, or run folders")
    parser.add_argument("--every", type=float, default=5e6, help="step interval of the rows (default 5e6)")
    parser.add_argument("--column", choices=sorted(COLUMNS), default="validation", help="what to compare (default validation)")
    return parser


def main(argv: list[str] | None = None) -> None:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.every <= 0:
        parser.error(f"--every must be > 0 environment steps, got {args.every:g}")
    try:
        report = compare_markdown(args.runs, args.every, args.column)
    except ValueError as error:
        cli_error(str(error))
    print_output(report)


if __name__ == "__main__":
    main()
