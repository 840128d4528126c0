"""Learner results over training seeds: the mean over seeds, its SE, the spread and the best seed,
against hand computation; only a cell's own run group fills the published tables."""

import json
import math

import pytest

from rl2lib import tables
from rl2lib.paths import CELL_LINES, run_name_for, split_seed


def write_run(runs, name, mean, se, model="gru", num_traj=10, validation=None, num_actions=5, init_from=None):
    run = runs / name
    run.mkdir(parents=True)
    config = {
        "task": {"task": "bandit", "num_actions": num_actions, "num_traj": num_traj, "traj_len": 1, "num_states": 1},
        "model": {"model_type": model},
        "ppo": {},
        "init_from": init_from,
    }
    (run / "config.json").write_text(json.dumps(config))
    (run / "eval.json").write_text(json.dumps({"mean": mean, "se": se, "num_trials": 1000}))
    if validation is not None:
        (run / "metrics.csv").write_text(
            f"update,env_steps,wall_seconds,mean_trial_return,validation_return\n1,100,1.0,6.0,{validation}\n2,200,2.0,6.1,\n"
        )


def test_seed_names_round_trip():
    assert run_name_for("gru_mdp_n10", 0) == "gru_mdp_n10"
    assert split_seed(run_name_for("gru_mdp_n10", 3)) == ("gru_mdp_n10", 3)
    assert split_seed("gru_bandit_k5_n10") == ("gru_bandit_k5_n10", 0)
    assert split_seed("odd_seedling") == ("odd_seedling", 0)


def test_groups_average_over_seeds_and_only_the_cell_group_fills_tables(tmp_path, monkeypatch):
    monkeypatch.setenv("RL2LIB_RESULTS", str(tmp_path))
    runs = tmp_path / "runs"
    write_run(runs, "gru_bandit_k5_n10", 6.50, 0.06, validation=6.4)
    write_run(runs, "gru_bandit_k5_n10_seed1", 6.62, 0.08, validation=6.5)  # the best evaluation ...
    write_run(runs, "gru_bandit_k5_n10_seed2", 6.56, 0.07, validation=6.7)  # ... but this validated best
    write_run(runs, "gru_bandit_k5_n10_lr_variant", 6.70, 0.07)  # a variant: listed, never in a table
    groups = tables.learner_groups()
    group = groups["gru_bandit_k5_n10"]
    assert group["seeds"] == [0, 1, 2]
    assert group["mean"] == pytest.approx((6.50 + 6.62 + 6.56) / 3)
    assert group["se"] == pytest.approx(math.sqrt(0.06**2 + 0.08**2 + 0.07**2) / 3)
    assert group["spread"] == pytest.approx(0.06)  # sample SD of 6.50, 6.62, 6.56
    assert group["best"]["seed"] == 2 and group["best"]["mean"] == 6.56  # chosen on validation, not evaluation
    assert groups["gru_bandit_k5_n10_lr_variant"]["seeds"] == [0]
    cell = tables.load_results()[("bandit", 10, 5, "gru")]
    assert cell["run"] == "gru_bandit_k5_n10" and cell["mean"] == pytest.approx(group["mean"])
    text = tables.seed_markdown()
    assert "| gru_bandit_k5_n10 | gru | bandit | 5 | 10 | 3 | 6.56 ± 0.04 | 0.06 | 6.56 ± 0.07 (seed 2) |" in text


def test_a_cells_latest_phase_with_the_most_seeds_fills_the_table(tmp_path, monkeypatch):
    monkeypatch.setenv("RL2LIB_RESULTS", str(tmp_path))
    runs = tmp_path / "runs"
    write_run(runs, "gru_bandit_k5_n10", 6.50, 0.06)
    assert tables.load_results()[("bandit", 10, 5, "gru")]["run"] == "gru_bandit_k5_n10"
    write_run(runs, "gru_bandit_k5_n10_phase2", 6.61, 0.07)
    write_run(runs, "gru_bandit_k5_n10_phase2_seed1", 6.55, 0.07)
    cell = tables.load_results()[("bandit", 10, 5, "gru")]
    assert cell["run"] == "gru_bandit_k5_n10_phase2" and cell["mean"] == pytest.approx((6.61 + 6.55) / 2)
    assert set(tables.learner_groups()) == {"gru_bandit_k5_n10", "gru_bandit_k5_n10_phase2"}
    write_run(runs, "gru_bandit_k5_n10_phase10", 6.70, 0.07)  # by number: phase 10 comes after phase 9
    write_run(runs, "gru_bandit_k5_n10_phase9", 6.65, 0.07)
    write_run(runs, "gru_bandit_k5_n10_phase9_seed1", 6.63, 0.07)
    assert tables.load_results()[("bandit", 10, 5, "gru")]["run"] == "gru_bandit_k5_n10_phase9"  # phase 10: one seed
    write_run(runs, "gru_bandit_k5_n10_phase10_seed2", 6.69, 0.07)
    assert tables.load_results()[("bandit", 10, 5, "gru")]["run"] == "gru_bandit_k5_n10_phase10"


def test_a_cell_of_another_recipe_line_is_filled_by_that_line_alone(tmp_path, monkeypatch):
    from rl2lib import paths

    monkeypatch.setenv("RL2LIB_RESULTS", str(tmp_path))
    monkeypatch.setattr(paths, "CELL_LINES", {"gru_bandit_k5_n10": "gru_bandit_k5_n10_h256"})
    runs = tmp_path / "runs"
    write_run(runs, "gru_bandit_k5_n10", 6.50, 0.06)
    write_run(runs, "gru_bandit_k5_n10_phase3", 6.60, 0.06)
    assert ("bandit", 10, 5, "gru") not in tables.load_results()  # the default line's runs are variants now
    write_run(runs, "gru_bandit_k5_n10_h256", 6.55, 0.06)
    assert tables.load_results()[("bandit", 10, 5, "gru")]["run"] == "gru_bandit_k5_n10_h256"
    write_run(runs, "gru_bandit_k5_n10_h256_phase2", 6.58, 0.06)
    assert tables.load_results()[("bandit", 10, 5, "gru")]["run"] == "gru_bandit_k5_n10_h256_phase2"
    assert paths.cell_phase("gru_bandit_k5_n10_phase3", "gru_bandit_k5_n10") is None
    assert paths.cell_phase("gru_bandit_k10_n10", "gru_bandit_k10_n10") == 1  # other cells keep their default line


def test_the_readme_tables_show_a_learner_cell_with_its_budget(tmp_path, monkeypatch):
    monkeypatch.setenv("RL2LIB_RESULTS", str(tmp_path))
    runs = tmp_path / "runs"
    write_run(runs, "gru_bandit_k5_n10", 6.50, 0.06)
    write_run(runs, "gru_bandit_k5_n10_seed1", 6.62, 0.08)
    for name, steps, wall in (("gru_bandit_k5_n10", 15_000_000, 1750.0), ("gru_bandit_k5_n10_seed1", 15_000_000, 1300.0)):
        (runs / name / "metrics.csv").write_text(f"update,env_steps,wall_seconds\n1,25000,3.0\n600,{steps},{wall}\n")
    text = tables.paper_tables_markdown()
    assert [title in text for _, title, _ in tables.PAPER_TABLES] == [True] * 4
    assert "| 10 | 5 | – (5.0) |" in text  # RL² Table 1 row n=10, k=5: no baselines here, ours in the RL2 column
    assert "**6.56 ± 0.05** (6.7) |" in text
    assert "| bandit, 10, 5, gru | gru_bandit_k5_n10 | 2 | – | 1.5e+07 | 0:21, 0:29 | 6.56 ± 0.05 |" in text


def test_phase_names_keep_the_seed_last_and_name_their_phase(monkeypatch):
    from rl2lib import paths
    from rl2lib.paths import cell_phase, phase_run_name

    monkeypatch.setattr(paths, "CELL_LINES", {})  # the recipe's line fills every cell

    assert phase_run_name("gru_mdp_n10") == "gru_mdp_n10_phase2"
    assert phase_run_name("gru_mdp_n10_seed2") == "gru_mdp_n10_phase2_seed2"
    assert split_seed(phase_run_name("gru_mdp_n10_seed2")) == ("gru_mdp_n10_phase2", 2)
    assert phase_run_name("gru_mdp_n10_phase2_seed1", 3) == "gru_mdp_n10_phase3_seed1"
    cell = "gru_bandit_k10_n100"
    assert [cell_phase(base, cell) for base in (cell, cell + "_phase2", cell + "_phase12")] == [1, 2, 12]
    for variant in ("gru_bandit_k10_n1000", cell + "_tau0.3", cell + "_phase", cell + "_phase1", cell + "_phase2x"):
        assert cell_phase(variant, cell) is None, variant


def test_the_thirty_learner_cells_their_bars_lineage_and_confirmation(tmp_path, monkeypatch):
    """30 learner cells (the GRU's of [1] Tables 1-2 plus bandit n = 1000, SNAIL's of [2] Tables 3-4);
    a bar is the paper's number minus max(3 SE, 1%), from the exact Bayes-optimal expectation where it
    is lower; a cell's row names the runs it started from and its confirming evaluation."""
    cells = tables.learner_cells()
    assert len(cells) == 30 and len(set(cells)) == 30
    assert ("bandit", 1000, 50, "gru") in cells and ("mdp", 100, 5, "snail") in cells
    assert tables.learner_bar(("bandit", 500, 5, "gru"), 2.5, {}) == pytest.approx(401.6 - 7.5)
    assert tables.learner_bar(("bandit", 500, 5, "gru"), 1.0, {}) == pytest.approx(401.6 * 0.99)
    exact = {("bandit", 10, 50, "bayes_optimal"): {"exact_expectation": "6.714"}}
    assert tables.learner_bar(("bandit", 10, 50, "gru"), 0.07, exact) == pytest.approx(6.714 - 0.21)
    monkeypatch.setenv("RL2LIB_RESULTS", str(tmp_path))
    monkeypatch.delitem(CELL_LINES, "gru_bandit_k5_n500")  # the cell on the recipe's line
    runs = tmp_path / "runs"
    write_run(runs, "gru_bandit_k5_n100", 78.0, 0.5, num_traj=100, validation=78.0)
    write_run(
        runs,
        "gru_bandit_k5_n500",
        400.0,
        2.5,
        num_traj=500,
        validation=400.0,
        init_from="results/runs/gru_bandit_k5_n100/best.pt",
    )
    assert tables.run_lineage("gru_bandit_k5_n500") == ["gru_bandit_k5_n100"]
    row = next(line for line in tables.budget_markdown().splitlines() if line.startswith("| bandit, 500, 5, gru |"))
    assert "gru_bandit_k5_n100" in row and "✓ (unconfirmed)" in row
    (runs / "gru_bandit_k5_n500" / "confirm.json").write_text(
        json.dumps({"mean": 390.0, "se": 0.8, "seed": 2000003, "num_trials": 10000})
    )  # below 401.6 * 0.99
    row = next(line for line in tables.budget_markdown().splitlines() if line.startswith("| bandit, 500, 5, gru |"))
    assert row.endswith("| ✗ | 390.00 ± 0.80 |")


def test_a_cells_budget_counts_all_that_its_parents_trained(tmp_path, monkeypatch):
    """A warm start's metrics count on from the parent's snapshot it started from; the budget table adds
    the updates the parent trained past it, so the cell's cost equals the naive sum, over the run and its
    parents, of each run's updates times its steps per update (and of each run's own wall time)."""
    monkeypatch.setenv("RL2LIB_RESULTS", str(tmp_path))
    monkeypatch.delitem(CELL_LINES, "gru_bandit_k5_n500")  # the cell on the recipe's line
    runs = tmp_path / "runs"

    def write(name, num_traj, num_trials, rows, init_from=None):
        write_run(runs, name, 78.0, 0.5, num_traj=num_traj, init_from=init_from)
        config = json.loads((runs / name / "config.json").read_text())
        config["ppo"] = {"num_trials": num_trials, "minibatch_trials": num_trials}
        (runs / name / "config.json").write_text(json.dumps(config))
        lines = [f"{u},{steps},{wall},6.0,{v}" for u, steps, wall, v in rows]
        (runs / name / "metrics.csv").write_text(
            "update,env_steps,wall_seconds,mean_trial_return,validation_return\n" + "\n".join(lines) + "\n"
        )

    # the parent: 4 updates of 10 trials x 100 steps, 10 s each; best.pt at update 2
    write("gru_bandit_k5_n100", 100, 10, [(1, 1000, 10.0, 70), (2, 2000, 20.0, 78), (3, 3000, 30.0, 77), (4, 4000, 40.0, "")])
    # the child starts from update 2's snapshot: 2 updates of 4 trials x 500 steps, 5 s each
    child_rows = [(1, 4000, 25.0, 390), (2, 6000, 30.0, 400)]
    write("gru_bandit_k5_n500", 500, 4, child_rows, init_from="results/runs/gru_bandit_k5_n100/best.pt")
    assert tables.run_budget("gru_bandit_k5_n100") == (4000, 40.0)
    assert tables.run_budget("gru_bandit_k5_n500") == (4 * 1000 + 2 * 2000, 40.0 + 2 * 5.0)
    row = next(line for line in tables.budget_markdown().splitlines() if line.startswith("| bandit, 500, 5, gru |"))
    assert "| 8e+03 | 0:00 |" in row


def test_an_open_cells_trend_is_the_least_squares_slope_of_its_last_validations(tmp_path, monkeypatch):
    """`validation_trend` against numpy's polyfit (slope and its SE) on the last half of a noisy curve, the
    wall time per 1e7 steps by hand; the open-cells table extrapolates the shortfall along that line and
    leaves out a reached, confirmed cell."""
    from rl2lib import paths

    np = pytest.importorskip("numpy")
    monkeypatch.setenv("RL2LIB_RESULTS", str(tmp_path))
    monkeypatch.setattr(paths, "CELL_LINES", {})  # the recipe's line fills every cell
    runs = tmp_path / "runs"
    write_run(runs, "gru_bandit_k10_n100", 80.0, 0.4, num_traj=100, num_actions=10)
    updates = np.arange(1, 41)
    steps = 250_000 * updates
    validation = 78.0 + 2.0 * steps / 1e7 + np.random.default_rng(0).normal(0, 0.1, updates.size)
    rows = ["update,env_steps,wall_seconds,validation_return"]
    rows += [
        f"{u},{s},{12.0 * u},{float(v)!r}" if u % 2 == 0 else f"{u},{s},{12.0 * u},"
        for u, s, v in zip(updates, steps, validation)
    ]
    (runs / "gru_bandit_k10_n100" / "metrics.csv").write_text("\n".join(rows) + "\n")
    trend = tables.validation_trend(runs / "gru_bandit_k10_n100")
    x, y = steps[1::2][-10:] / 1e7, validation[1::2][-10:]  # 20 validations (every 2nd update): the last 10
    (slope, _), cov = np.polyfit(x, y, 1, cov=True)
    assert trend["rate"] == pytest.approx(slope) and trend["rate_se"] == pytest.approx(math.sqrt(cov[0, 0]))
    assert trend["wall_per_1e7"] == pytest.approx(12.0 * 1e7 / 250_000) and trend["updates"] == "22-40"
    assert tables.validation_trend(tmp_path / "missing") is None

    row = next(line for line in tables.open_cells_markdown().splitlines() if line.startswith("| bandit, 100, 10, gru |"))
    shortfall = tables.learner_bar(("bandit", 100, 10, "gru"), 0.4, {}) - 80.0
    assert f"| {shortfall:.3g} | gru_bandit_k10_n100 | {trend['rate']:+.2g} ± {trend['rate_se']:.2g} (22-40) |" in row
    assert row.endswith(f"| {shortfall / trend['rate'] * 1e7:.2g} steps, {shortfall / trend['rate'] * 480 / 3600:.2g} h |")
    (runs / "gru_bandit_k10_n100_phase2").mkdir()  # a second phase in training: its curve, the first's shortfall
    (runs / "gru_bandit_k10_n100_phase2" / "metrics.csv").write_text("\n".join(rows[:9]) + "\n")
    row = next(line for line in tables.open_cells_markdown().splitlines() if line.startswith("| bandit, 100, 10, gru |"))
    assert f"| {shortfall:.3g} | gru_bandit_k10_n100_phase2 (unfinished) | " in row and "(2-8) |" in row  # at least 4 validations
    (runs / "gru_bandit_k10_n100" / "eval.json").write_text(json.dumps({"mean": 84.0, "se": 0.4, "num_trials": 1000}))
    (runs / "gru_bandit_k10_n100" / "confirm.json").write_text(
        json.dumps({"mean": 84.0, "se": 0.13, "seed": 2000003, "num_trials": 10000})
    )
    assert "| bandit, 100, 10, gru |" not in tables.open_cells_markdown()  # reached and confirmed
