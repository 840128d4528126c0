"""The published tables ([1] Tables 1-2, [2] Tables 3-4) and the papers' bold rule.

The CSV files under `rl2lib/data/` are the published numbers as printed. A cell is bold when it is
the row's best mean or not significantly worse than it by a one-sided Welch t-test at p = 0.05
over the trials ([1] Sec. 3, and the authors' code).
References: [1] Duan et al. 2016, "RL^2"; [2] Mishra et al. 2018, "SNAIL".
"""

from __future__ import annotations

import csv
import math
from functools import lru_cache
from importlib import resources

from scipy import stats

TABLE_FILES = {
    "rl2_bandits": "rl2_table1_bandits.csv",
    "rl2_mdps": "rl2_table2_mdps.csv",
    "snail_bandits": "snail_table3_bandits.csv",
    "snail_mdps": "snail_table4_mdps.csv",
}

# Column of the published tables -> our agent name.
COLUMN_TO_AGENT = {
    "Random": "random",
    "Gittins": "gittins",
    "TS": "ts",
    "OTS": "ots",
    "UCB1": "ucb1",
    "eps_Greedy": "eps_greedy",
    "eps_greedy": "eps_greedy",
    "Greedy": "greedy",
    "PSRL": "psrl",
    "OPSRL": "opsrl",
    "UCRL2": "ucrl2",
    "BEB": "beb",
    "RL2": "rl2",
    "LSTM_RL2": "rl2",
    "MAML": "maml",
    "SNAIL": "snail",
}

VALUE_ITERATION_REFERENCE_PER_EPISODE = 20.76
"""[2] Table 4 divides MDP totals by a 'value iteration' reference: [1] Table 2 / [2] Table 4 gives
about 20.76 per episode in every cell (see shared/paper/README.md)."""


@lru_cache(maxsize=None)
def load_table(name: str) -> tuple[dict, ...]:
    """Rows of a published table as dicts of floats (empty cells -> None)."""
    if name not in TABLE_FILES:
        raise KeyError(f"unknown table {name!r}; allowed: {', '.join(TABLE_FILES)}")
    text = resources.files("rl2lib.data").joinpath(TABLE_FILES[name]).read_text()
    rows = []
    for raw in csv.DictReader(text.splitlines()):
        rows.append({key: (float(value) if value != "" else None) for key, value in raw.items()})
    return tuple(rows)


def published(table: str, agent: str, num_traj: int, num_actions: int | None = None) -> float | None:
    """The published mean of `agent` (our name) in a setting, or None where the paper has none."""
    for row in load_table(table):
        if int(row["n"]) != num_traj or ("k" in row and num_actions is not None and int(row["k"]) != num_actions):
            continue
        for column, name in COLUMN_TO_AGENT.items():
            if name == agent and column in row and row[column] is not None:
                return row[column]
    return None


def normalised_scale(num_traj: int) -> float:
    """[2] Table 4's normalisation of an MDP trial's total: 1 / (20.76 n), the papers' "value iteration"
    reference per episode times the n episodes."""
    return 1 / (VALUE_ITERATION_REFERENCE_PER_EPISODE * num_traj)


def published_learner(model_type: str, task: str, num_actions: int, num_traj: int) -> float | None:
    """The paper's number for a learner cell: the GRU's from [1] Tables 1-2, or [2] Table 3's LSTM
    column where [1] has none (bandit n = 1000); SNAIL's and MAML's from [2] Tables 3-4, MDP numbers
    de-normalised to totals (times 20.76 n)."""
    k = num_actions if task == "bandit" else None
    if model_type == "gru":
        value = published("rl2_bandits" if task == "bandit" else "rl2_mdps", "rl2", num_traj, k)
        return value if value is not None else published("snail_bandits", "rl2", num_traj, k)
    value = published("snail_bandits" if task == "bandit" else "snail_mdps", model_type, num_traj, k)
    if value is not None and task == "mdp":
        value = value / normalised_scale(num_traj)
    return value


def welch_p_value(best_mean: float, best_se: float, mean: float, se: float, best_n: int, n: int) -> float:
    """One-sided Welch t-test p-value of H1: the method's true mean is below the best's.

    Standard errors stand for s / sqrt(n); the Welch-Satterthwaite degrees of freedom follow.
    """
    var_best, var = best_se**2, se**2
    denom = math.sqrt(var_best + var)
    if denom == 0.0:
        return 1.0 if mean >= best_mean else 0.0
    t = (best_mean - mean) / denom
    dof_denominator = (var_best**2 / max(best_n - 1, 1)) + (var**2 / max(n - 1, 1))
    dof = (var_best + var) ** 2 / dof_denominator if dof_denominator > 0 else float("inf")
    return float(stats.t.sf(t, dof))


def bold_mask(means: list[float], ses: list[float], counts: list[int], alpha: float = 0.05) -> list[bool]:
    """The papers' bold rule over one row: best mean, and every method not significantly worse."""
    best = max(range(len(means)), key=lambda i: means[i])
    return [
        i == best or welch_p_value(means[best], ses[best], means[i], ses[i], counts[best], counts[i]) >= alpha
        for i in range(len(means))
    ]
