"""The reproduction runner: execute the workbook's notebooks with papermill, one run per table cell.

`python -m rl2lib.reproduce [--profile quick|paper] [--only PATTERN] [--force] [--list]` runs the
cells of a profile (`rl2lib/data/profiles.json`: per cell, the notebook and its parameters) and
keeps each executed notebook under `results/notebooks/`. A cell whose executed notebook exists
and completed is skipped unless --force, so an interrupted run resumes where it stopped; a failing
cell is reported and the others go on; the exit code is non-zero if any cell failed.
"""
from __future__ import annotations

import argparse
import fnmatch
import json
import os
import sys
import time
from importlib import resources
from pathlib import Path

from rl2lib.paths import NOTEBOOKS_DIR, notebooks_out_dir, results_dir


class RunnerError(ValueError):
    """Bad runner input; one-line message."""


def load_profiles() -> dict[str, list[dict]]:
    data = json.loads(resources.files("rl2lib.data").joinpath("profiles.json").read_text())
    return {name: cells for name, cells in data.items() if not name.startswith("_")}


def select_cells(profile: str, only: str | None) -> list[dict]:
    """The profile's cells whose name matches the glob `only` (all if None)."""
    profiles = load_profiles()
    if profile not in profiles:
        raise RunnerError(f"unknown profile {profile!r}; allowed: {', '.join(profiles)}")
    cells = profiles[profile]
    if only is not None:
        cells = [cell for cell in cells if fnmatch.fnmatch(cell["name"], only) or only in cell["name"]]
        if not cells:
            names = ", ".join(cell["name"] for cell in profiles[profile])
            raise RunnerError(f"no cell of profile {profile!r} matches {only!r}; cells: {names}")
    return cells


def done_marker(cell: dict) -> Path:
    return notebooks_out_dir() / f"{cell['name']}.done.json"


def run_cell(cell: dict, kernel_name: str = "python3") -> None:
    """Execute one cell's notebook with its parameters; write the executed copy and a done marker."""
    import papermill

    out_dir = notebooks_out_dir()
    out_dir.mkdir(parents=True, exist_ok=True)
    output = out_dir / f"{cell['name']}.ipynb"
    started = time.perf_counter()
    papermill.execute_notebook(str(NOTEBOOKS_DIR / cell["notebook"]), str(output), parameters=cell["parameters"],
                               kernel_name=kernel_name, progress_bar=False, cwd=str(NOTEBOOKS_DIR))
    marker = {"cell": cell, "seconds": round(time.perf_counter() - started, 1)}
    tmp = done_marker(cell).with_suffix(".tmp")
    tmp.write_text(json.dumps(marker, indent=2) + "\n")
    os.replace(tmp, done_marker(cell))


def run(profile: str = "quick", only: str | None = None, force: bool = False) -> list[tuple[str, str]]:
    """Run the selected cells; returns the failures as (cell name, one-line reason)."""
    from tqdm.auto import tqdm

    cells = select_cells(profile, only)
    failures = []
    bar = tqdm(cells, desc=f"reproduce ({profile})", unit="cell")
    for cell in bar:
        bar.set_postfix_str(cell["name"])
        if done_marker(cell).exists() and not force:
            continue
        done_marker(cell).unlink(missing_ok=True)
        try:
            run_cell(cell)
        except Exception as error:  # noqa: BLE001 - a failing cell must not stop the others
            reason = str(error).strip().splitlines()
            failures.append((cell["name"], f"{type(error).__name__}: {reason[-1] if reason else ''}"[:300]))
    return failures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m rl2lib.reproduce",
                                     description="Regenerate results/ by executing the notebooks with papermill.")
    parser.add_argument("--profile", default="quick", help="quick (default; reduced budgets) or paper (full budgets)")
    parser.add_argument("--only", default=None, help="run only cells whose name matches this glob or substring")
    parser.add_argument("--force", action="store_true", help="re-run cells that already completed")
    parser.add_argument("--list", action="store_true", help="list the profile's cells and exit")
    args = parser.parse_args(argv)
    try:
        cells = select_cells(args.profile, args.only)
        if args.list:
            for cell in cells:
                status = "done" if done_marker(cell).exists() else "todo"
                print(f"{cell['name']:40s} {status}  {cell['notebook']} {json.dumps(cell['parameters'])}")
            return 0
        failures = run(args.profile, args.only, args.force)
    except RunnerError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    from rl2lib.report import update_readme
    updated = update_readme()
    print(f"results in {results_dir()}; README blocks updated: {', '.join(updated) or 'none'}")
    if failures:
        print(f"{len(failures)} cell(s) failed:", file=sys.stderr)
        for name, reason in failures:
            print(f"  {name}: {reason}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
