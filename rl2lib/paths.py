"""Where results go and how runs are named: every path the library writes comes from here.

`RL2LIB_RESULTS` overrides the results folder (tests point it at a temporary directory). A table
cell's run is `<model>_<task>_k<k>_n<n>` (MDPs: `<model>_mdp_n<n>`), its later training phases
`<name>_phase2`, `<name>_phase3`, ..., and training seed s > 0 appends `_seed<s>` to any of them; a
cell trained with another recipe than the default is filled by the runs of that recipe's line
(`CELL_LINES`).
"""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
REPO_ROOT = PACKAGE_DIR.parent
NOTEBOOKS_DIR = REPO_ROOT / "notebooks"


def results_dir() -> Path:
    """The results folder: $RL2LIB_RESULTS, else `results/` beside the package."""
    return Path(os.environ.get("RL2LIB_RESULTS", REPO_ROOT / "results"))


def tables_dir() -> Path:
    return results_dir() / "tables"


def figures_dir() -> Path:
    return results_dir() / "figures"


def notebooks_out_dir() -> Path:
    """Executed copies of the notebooks (papermill output)."""
    return results_dir() / "notebooks"


TIMINGS_FILE = "timings.json"
"""Under `notebooks_out_dir()`: the seconds of every cell the runner executed on this machine, merged. Not
committed: the README's timing table is the committed record, and `report.timings_table` keeps its rows
for cells absent from this file."""


PHASE_SUFFIX = "_phase"
"""A run's training phase N >= 2 runs in `<name>_phase<N>` (seed s > 0: `<name>_phase<N>_seed<s>`)."""


CELL_LINES = {
    "gru_bandit_k50_n10": "gru_bandit_k50_n10_h256",
    "gru_bandit_k5_n100": "gru_bandit_k5_n100_entropy",
    "gru_bandit_k10_n100": "gru_bandit_k10_n100_entropy",
    "gru_bandit_k5_n500": "gru_bandit_k5_n500_from_entropy",
    "gru_bandit_k10_n500": "gru_bandit_k10_n500_value_per_step",
    "gru_bandit_k50_n100": "gru_bandit_k50_n100_from_n30",
    "gru_bandit_k50_n500": "gru_bandit_k50_n500_value_per_step",
    "snail_bandit_k10_n100": "snail_bandit_k10_n100_value_per_step",
    "snail_bandit_k50_n100": "snail_bandit_k50_n100_value_per_step",
    "snail_bandit_k5_n100": "snail_bandit_k5_n100_value_per_step",
    "snail_bandit_k10_n500": "snail_bandit_k10_n500_value_per_step",
    "snail_bandit_k5_n500": "snail_bandit_k5_n500_value_per_step",
    "snail_bandit_k50_n500": "snail_bandit_k50_n500_value_per_step",
    "snail_bandit_k50_n1000": "snail_bandit_k50_n1000_value_per_step",
}
"""Table cells filled by a line of runs of another recipe than `rl2lib.cli.recipe`'s: cell -> that
line's first run (its later phases are `<line>_phase<N>`; the default line's runs become variants).
Each was chosen on the held-out validation return, never on the evaluation tasks: on bandit k = 50,
n = 10 the RL^2 authors' 256 units with a separate value GRU validated at 6.708 (15M steps) where the
recipe's 128 units stayed at 6.663-6.667 through its third phase (88M steps), on the same 10,000
validation tasks; on bandit k = 10, n = 100 the value head per step left (`--value_per_step`)
validated at 82.91 in its first phase (30M steps) where the recipe's line peaked at 82.83 in its
third (126M steps), on the same 1000 validation tasks, and then the same line with three times the entropy bonus
(`gru_bandit_k10_n100_entropy`) validated at 83.30 in its second phase (54M steps) where the value-per-step line
peaked at 82.83 in its sixth (205M steps), on the same 10,000 validation tasks; on bandit k = 5, n = 100 the same
entropy line validated at 78.38-78.55 in its third phase (44M-69M steps) where the recipe's line's policies (its second
phase on seeds 0-2 and its third) play 78.02-78.28 on the same 10,000 validation tasks; on bandit k = 10, n = 500 the
warm start from that line validated at 433.0-434.9 over updates 70-200 where the recipe's line peaked at 432.8
in its fourth phase, on the same 2000 validation tasks; on bandit k = 5, n = 500 the warm start from the k = 5,
n = 100 cell's entropy line (its third phase) validated at 401.7-407.7, 405.7-407.7 and 404.3-405.9 on seeds 0-2
where the recipe's warm starts from the recipe's n = 100 seeds held 399.3-402.7, 398.5-401.4 and 396.6-400.4, on the
same 1000 validation tasks (the search began when the recipe line's seeds 1 and 2 left its three-seed mean below the
bar on the evaluation tasks; the choice between the lines read the validation returns only); on bandit k = 50,
n = 100 the value-per-step line's second phase validated at 82.93 (79M steps) where the recipe's line peaked at 82.69 in its
second phase and 82.61 in its third, on the same 1000 validation tasks, and then the horizon curriculum's line
(n = 10 -> 30 -> 100, `campaign_runs.CURRICULUM`) had its third phase's best policies of seeds 0-2 play 83.69, 83.47
and 83.35 on the 10,000 validation tasks where the value-per-step line's third phases of the same seeds play 82.54,
82.74 and 82.86 (`python -m rl2lib.evaluate --num_actions 50 --num_traj 100 --agent RUN --num_trials 10000 --seed
1000003`); on bandit k = 50, n = 500 the warm start from the value-per-step line validated at 434.8-436.6 over
updates 45-200 where the recipe's line peaked at 431.5 in its second phase, on 2000 and 1000 tasks of the validation
seed; on SNAIL bandit k = 10, n = 100 the value head per step left
validated at 82.22 in its first phase (27M steps) where the recipe's line peaked at 82.00 in its second (39M steps),
on the same 1000 validation tasks; on SNAIL bandit k = 50, n = 100 the value head per step left validated at 76.62
(30M steps) where the recipe's line, stopped at update 40 of 300, peaked at 60.99 (4M steps; value per step's: 58.66
at 4M), on the same 1000 validation tasks; on SNAIL bandit k = 5, n = 100 the value head per step left validated at
78.57 (28M steps) where the recipe's line peaked at 78.25 in its second phase (35M steps), on the same 1000 validation
tasks; SNAIL bandit k = 10, n = 500 has one line, the warm start from that cell's value-per-step line, whose second
phase played at n = 500 with no retraining scored 425.0 where the recipe's line scored 415.4, on 1000 tasks of seed
4242; on SNAIL bandit k = 5, n = 500 the warm start from the k = 5, n = 100 value-per-step line's third phase
validated at 404.8-408.1 over its 100 updates where the recipe's warm start held 395.8-399.1 over its 100, on the
same 1000 validation tasks; SNAIL bandit k = 50, n = 500 has one line, the warm start from the k = 50, n = 100
value-per-step line's third phase (the recipe's warm start never trained: its parent is shelved), and SNAIL bandit
k = 50, n = 1000 one too, the warm start from that n = 500 line's second phase (docs/campaign_log.md)."""


def default_run_name(model_type: str, task: str, num_actions: int, num_traj: int) -> str:
    """The run folder of a table cell; the tables read the runs of this name (and its seeds)."""
    return f"{model_type}_{task}_k{num_actions}_n{num_traj}" if task == "bandit" else f"{model_type}_mdp_n{num_traj}"


def run_name_for(name: str, train_seed: int) -> str:
    """Seed 0 keeps the cell's name; seed s > 0 runs in `<name>_seed<s>`."""
    return name if train_seed == 0 else f"{name}_seed{train_seed}"


def split_seed(run_name: str) -> tuple[str, int]:
    """Inverse of `run_name_for`: ('gru_mdp_n10_seed2' -> ('gru_mdp_n10', 2))."""
    base, _, seed = run_name.rpartition("_seed")
    return (base, int(seed)) if base and seed.isdigit() else (run_name, 0)


def phase_run_name(run_name: str, phase: int = 2) -> str:
    """Training phase `phase` (>= 2) of run `run_name`: 'gru_mdp_n10_seed2' -> 'gru_mdp_n10_phase2_seed2'."""
    base, seed = split_seed(run_name)
    head, _, earlier = base.rpartition(PHASE_SUFFIX)
    cell = head if head and earlier.isdigit() else base  # 'gru_mdp_n10_phase2', 3 -> 'gru_mdp_n10_phase3'
    return run_name_for(f"{cell}{PHASE_SUFFIX}{phase}", seed)


def cell_phase(base: str, cell: str) -> int | None:
    """Which training phase of table cell `cell` the run group `base` (a name without its seed) holds:
    1 for the cell's line (`CELL_LINES`, else `cell` itself), N for `<line>_phase<N>`, None for any
    other run (a variant of the recipe)."""
    line = CELL_LINES.get(cell, cell)
    if base == line:
        return 1
    suffix = base.removeprefix(line + PHASE_SUFFIX)
    return int(suffix) if suffix != base and suffix.isdigit() and int(suffix) >= 2 else None


def repo_path(path: str | Path) -> Path:
    """A path as given: absolute, relative to the working directory where it exists there, else
    relative to the repository (so a notebook kernel, run in notebooks/, finds `results/...`)."""
    candidate = Path(path)
    return candidate if candidate.is_absolute() or candidate.exists() else REPO_ROOT / candidate


def portable_path(path: str | Path) -> str:
    """How a run's config records a file: relative to the repository when inside it, else absolute."""
    resolved = repo_path(path).resolve()
    return str(resolved.relative_to(REPO_ROOT)) if resolved.is_relative_to(REPO_ROOT) else str(resolved)
