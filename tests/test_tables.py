"""Learner results over training seeds: the mean over seeds, its SE, the spread and the best seed,
against hand computation; only a cell's own run group fills the published tables."""
import json
import math

import pytest

from rl2lib import tables
from rl2lib.experiment import run_name_for, split_seed


def write_run(runs, name, mean, se, model="gru", num_traj=10):
    run = runs / name
    run.mkdir(parents=True)
    config = {"task": {"task": "bandit", "num_actions": 5, "num_traj": num_traj, "traj_len": 1, "num_states": 1},
              "model": {"model_type": model}}
    (run / "config.json").write_text(json.dumps(config))
    (run / "eval.json").write_text(json.dumps({"mean": mean, "se": se, "num_trials": 1000}))


def test_seed_names_round_trip():
    assert run_name_for("gru_mdp_n10", 0) == "gru_mdp_n10"
    assert split_seed(run_name_for("gru_mdp_n10", 3)) == ("gru_mdp_n10", 3)
    assert split_seed("gru_bandit_k5_n10") == ("gru_bandit_k5_n10", 0)
    assert split_seed("odd_seedling") == ("odd_seedling", 0)


def test_groups_average_over_seeds_and_only_the_cell_group_fills_tables(tmp_path, monkeypatch):
    monkeypatch.setenv("RL2LIB_RESULTS", str(tmp_path))
    runs = tmp_path / "runs"
    write_run(runs, "gru_bandit_k5_n10", 6.50, 0.06)
    write_run(runs, "gru_bandit_k5_n10_seed1", 6.62, 0.08)
    write_run(runs, "gru_bandit_k5_n10_seed2", 6.56, 0.07)
    write_run(runs, "gru_bandit_k5_n10_lr_variant", 6.70, 0.07)  # a variant: listed, never in a table
    groups = tables.learner_groups()
    group = groups["gru_bandit_k5_n10"]
    assert group["seeds"] == [0, 1, 2]
    assert group["mean"] == pytest.approx((6.50 + 6.62 + 6.56) / 3)
    assert group["se"] == pytest.approx(math.sqrt(0.06**2 + 0.08**2 + 0.07**2) / 3)
    assert group["spread"] == pytest.approx(0.06)  # sample SD of 6.50, 6.62, 6.56
    assert group["best"]["seed"] == 1 and group["best"]["mean"] == 6.62
    assert groups["gru_bandit_k5_n10_lr_variant"]["seeds"] == [0]
    cell = tables.load_results()[("bandit", 10, 5, "gru")]
    assert cell["run"] == "gru_bandit_k5_n10" and cell["mean"] == pytest.approx(group["mean"])
    text = tables.seed_markdown()
    assert "| gru_bandit_k5_n10 | gru | bandit | 5 | 10 | 3 | 6.56 ± 0.04 | 0.06 | 6.62 ± 0.08 (seed 1) |" in text


def test_a_cells_second_phase_fills_the_table_in_place_of_its_first(tmp_path, monkeypatch):
    monkeypatch.setenv("RL2LIB_RESULTS", str(tmp_path))
    runs = tmp_path / "runs"
    write_run(runs, "gru_bandit_k5_n10", 6.50, 0.06)
    assert tables.load_results()[("bandit", 10, 5, "gru")]["run"] == "gru_bandit_k5_n10"
    write_run(runs, "gru_bandit_k5_n10_phase2", 6.61, 0.07)
    write_run(runs, "gru_bandit_k5_n10_phase2_seed1", 6.55, 0.07)
    cell = tables.load_results()[("bandit", 10, 5, "gru")]
    assert cell["run"] == "gru_bandit_k5_n10_phase2" and cell["mean"] == pytest.approx((6.61 + 6.55) / 2)
    assert set(tables.learner_groups()) == {"gru_bandit_k5_n10", "gru_bandit_k5_n10_phase2"}


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
    assert "| bandit, 10, 5, gru | gru_bandit_k5_n10 | 2 | 600 | 1.5e+07 | 0:21, 0:29 |" in text


def test_second_phase_names_keep_the_seed_last():
    from rl2lib.paths import phase2_run_name
    assert phase2_run_name("gru_mdp_n10") == "gru_mdp_n10_phase2"
    assert phase2_run_name("gru_mdp_n10_seed2") == "gru_mdp_n10_phase2_seed2"
    assert split_seed(phase2_run_name("gru_mdp_n10_seed2")) == ("gru_mdp_n10_phase2", 2)
