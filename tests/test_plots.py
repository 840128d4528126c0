"""Figures: the baseline grids' shapes and labels, the paper's marker, one colour per method, the
learning curves' runs and marks, the normalisation, and the files written. Synthetic rows and runs
only; the Agg backend, no display."""

import json

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.colors import to_hex
from PIL import Image

from rl2lib import plots, report
from rl2lib.baseline_tables import BANDIT_SETTINGS, MDP_SETTINGS
from rl2lib.config import TaskConfig, TrainConfig
from rl2lib.paths import CELL_LINES
from rl2lib.runs import taught_by


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def baseline_rows(task: str) -> list[dict]:
    """A baseline table as `read_rows` returns it: random at n/2, Gittins and a ceiling above."""
    settings = BANDIT_SETTINGS if task == "bandit" else MDP_SETTINGS
    agents = ("random", "gittins", "bayes_optimal") if task == "bandit" else ("random", "opsrl", "oracle")
    rows = []
    for n, k in settings:
        for level, agent in zip((0.5, 0.7, 0.75), agents):
            paper = "" if agent in ("bayes_optimal", "oracle") else level * n + 0.1
            rows.append({"task": task, "n": n, "k": k, "agent": agent, "mean": level * n, "se": 0.01 * n, "paper": paper})
    return rows


def results_for(rows: list[dict]) -> dict:
    """`tables.load_results()`'s shape: (task, n, k, agent) -> row."""
    return {(row["task"], row["n"], row["k"], row["agent"]): row for row in rows}


def run(name: str, model: str, k: int, n: int, returns, first_step: int = 1000, validation=None, evaluation=None) -> dict:
    """A run as `report.training_runs()` returns it."""
    metrics = [
        {
            "update": str(i + 1),
            "env_steps": str(first_step * (i + 1)),
            "mean_trial_return": str(value),
            "validation_return": "" if validation is None or i % 5 else str(validation),
        }
        for i, value in enumerate(returns)
    ]
    config = {"task": {"task": "bandit", "num_actions": k, "num_traj": n}, "model": {"model_type": model}}
    return {"name": name, "config": config, "metrics": metrics, "eval": evaluation}


def paper_markers(axis) -> list:
    return [line for line in axis.get_lines() if line.get_marker() == plots.PAPER_MARKER["marker"]]


def test_bandit_bars_are_a_3x3_grid_of_n_by_k_and_mdp_bars_a_row_of_5():
    bandits = plots.plot_table_vs_paper(baseline_rows("bandit"))
    assert len(bandits.axes) == 9
    assert {axis.get_subplotspec().get_geometry()[:2] for axis in bandits.axes} == {(3, 3)}
    titles = [[axis.get_title() for axis in bandits.axes][3 * r : 3 * r + 3] for r in range(3)]
    assert titles[1] == ["bandits, n = 100, k = 5", "bandits, n = 100, k = 10", "bandits, n = 100, k = 50"]
    mdps = plots.plot_table_vs_paper(baseline_rows("mdp"))
    assert len(mdps.axes) == 5
    assert {axis.get_subplotspec().get_geometry()[:2] for axis in mdps.axes} == {(1, 5)}


def test_paper_number_is_a_hollow_diamond_once_per_panel_and_in_the_legend():
    rows = baseline_rows("bandit")
    figure = plots.plot_table_vs_paper(rows)
    for axis, (n, k) in zip(figure.axes, sorted(BANDIT_SETTINGS)):
        (marker,) = paper_markers(axis)  # exactly one artist with the paper's marker per panel
        assert marker.get_markerfacecolor() == "none" and marker.get_linestyle() == "None"
        published = [row["paper"] for row in rows if (row["n"], row["k"]) == (n, k)]
        np.testing.assert_allclose(marker.get_ydata(), [np.nan if p == "" else p for p in published])
        caps = [line.get_marker() for line in axis.get_lines() if line is not marker]
        assert plots.PAPER_MARKER["marker"] not in caps  # error-bar caps look different
    assert "paper" in [text.get_text() for text in figure.legends[0].get_texts()]


def test_bar_axes_are_labelled_and_start_at_zero():
    for task in ("bandit", "mdp"):
        figure = plots.plot_table_vs_paper(baseline_rows(task))
        for axis in figure.axes:
            spec = axis.get_subplotspec()
            assert axis.get_ylim()[0] == 0
            assert axis.get_title()
            assert [tick.get_text() for tick in axis.get_xticklabels()][:2] == [
                "Random",
                plots.method_label("gittins" if task == "bandit" else "opsrl"),
            ]
            if spec.is_first_col():
                assert "starts at 0" in axis.get_ylabel()
            if spec.is_last_row():
                assert axis.get_xlabel() == "method"


def test_a_method_has_one_colour_in_every_figure():
    rows = baseline_rows("bandit")
    results = results_for(rows)
    bars = plots.plot_table_vs_paper(rows)
    gittins_bar = bars.axes[0].patches[1]  # agents in table order: random, gittins, ...
    runs = [
        run("gru_bandit_k5_n10", "gru", 5, 10, np.linspace(5, 6.5, 30)),
        run("snail_bandit_k5_n10", "snail", 5, 10, np.linspace(5, 6.6, 30)),
    ]
    figures = plots.learning_curve_figures(runs, results)
    curve_axis = figures["learning_bandit_k5_n10"].axes[0]
    normalised_axis = figures["normalised_bandits"].axes[0]

    def colours(axis, linestyle):
        return {to_hex(line.get_color()) for line in axis.get_lines() if line.get_linestyle() == linestyle}

    gittins = plots.METHOD_COLORS["gittins"]
    assert to_hex(gittins_bar.get_facecolor()) == gittins
    assert gittins in colours(curve_axis, ":") and gittins in colours(normalised_axis, ":")  # its baseline line
    for model in ("gru", "snail"):
        assert plots.METHOD_COLORS[model] in colours(curve_axis, "-") & colours(normalised_axis, "-")
    for axis in (curve_axis, normalised_axis):  # the paper: always black dashes, one diamond per paper number
        dashed = [line for line in axis.get_lines() if line.get_linestyle() == "--"]
        assert {to_hex(line.get_color()) for line in dashed} == {to_hex(plots.PAPER_COLOR)}
        (marker,) = paper_markers(axis)
        assert len(marker.get_ydata()) == 2 and marker.get_markerfacecolor() == "none"


def test_main_runs_of_each_cell_and_ablations_apart_with_readable_labels(monkeypatch):
    """A cell that plays the recipe's line (GRU k = 5, n = 500, taken out of `paths.CELL_LINES`)."""
    monkeypatch.delitem(CELL_LINES, "gru_bandit_k5_n500")
    results = results_for(baseline_rows("bandit"))
    results[("bandit", 500, 5, "gru")] = {"mean": 398.0, "se": 2.5}
    runs = [
        run("gru_bandit_k5_n500", "gru", 5, 500, np.linspace(50, 77, 40), validation=70),
        run("gru_bandit_k5_n500_seed1", "gru", 5, 500, np.linspace(50, 76, 40)),
        run("gru_bandit_k5_n500_tau0.3", "gru", 5, 500, np.linspace(50, 75, 40), evaluation={"mean": 75.0, "se": 0.6}),
        run("quickstart", "gru", 5, 500, np.linspace(50, 60, 10)),
    ]
    curves = plots.collect_curves(runs, results)[("bandit", 500, 5)]
    (main,) = curves["main"]
    assert main.label == "RL² (GRU), 2 seeds" and len(main.segments) == 2
    assert main.evaluated == (398.0, 2.5) and main.paper == pytest.approx(401.6)
    assert [curve.label for curve in curves["ablations"]] == ["RL² (GRU) variant: tau0.3", "RL² (GRU) variant: quickstart"]
    assert len({to_hex(curve.line_color) for curve in curves["ablations"] + [main]}) == 3  # shades of one colour
    figures = plots.learning_curve_figures(runs, results)
    assert set(figures) == {"learning_bandit_k5_n500", "ablations_bandit_k5_n500", "normalised_bandits"}
    axis = figures["learning_bandit_k5_n500"].axes[0]
    assert len(axis.get_lines()) > 2 * len(main.segments)  # raw and smoothed per segment, and the marks
    legend = [text.get_text() for text in figures["learning_bandit_k5_n500"].legends[0].get_texts()]
    assert "RL² (GRU), 2 seeds" in legend and "paper" in legend and "validation (held-out tasks)" in legend
    assert not any("_" in label for label in legend)  # no folder names
    assert "tau0.3" not in " ".join(legend)  # the ablation only in its own figure
    assert axis.get_xlabel() == "environment steps (millions)" and axis.get_ylabel()


def test_a_run_trained_on_other_arms_shows_only_what_was_measured_on_the_papers():
    """A curriculum run's training returns come from other tasks (`--train_prior_b`): its curve draws its validation
    and evaluation only, says so in its label, and a run with neither is left out."""
    results = results_for(baseline_rows("bandit"))
    runs = [
        run("gru_bandit_k50_n100_prior0.5", "gru", 50, 100, np.full(40, 93.0), validation=81.0),
        run("gru_bandit_k50_n100_prior2", "gru", 50, 100, np.full(40, 62.0)),
    ]
    for curriculum in runs:
        curriculum["config"]["train_prior_b"] = 0.5 if curriculum["name"].endswith("0.5") else 2.0
    (curve,) = plots.collect_curves(runs, results)[("bandit", 100, 50)]["ablations"]
    assert curve.label == "RL² (GRU) variant: prior0.5 (trained on Beta(1, 0.5) arms)" and not curve.training_drawn
    axis = plots.plot_learning_curves([curve]).axes[0]
    drawn = np.concatenate([line.get_ydata() for line in axis.get_lines()])
    assert set(drawn) == {81.0}  # the validation dots only, never the training batches' 93


def test_learning_panel_draws_raw_faint_smoothed_validation_evaluation_and_paper():
    curve = plots.Curve(
        "RL² (GRU)",
        "gru",
        [run("x", "gru", 5, 10, np.arange(50.0), validation=3.0)["metrics"]],
        evaluated=(40.0, 1.0),
        paper=45.0,
    )
    figure = plots.plot_learning_curves([curve], {"random": 5.0})
    axis = figure.axes[0]
    lines = axis.get_lines()
    faint = [line for line in lines if line.get_alpha() is not None and line.get_alpha() < 0.5]
    assert len(faint) == 1
    np.testing.assert_allclose(faint[0].get_ydata(), np.arange(50.0))  # the raw curve
    validation = [line for line in lines if line.get_marker() == "o" and line.get_markerfacecolor() == "white"]
    assert len(validation) == 1 and set(validation[0].get_ydata()) == {3.0}
    assert len(axis.containers) == 1  # the evaluated number's error bar
    np.testing.assert_allclose(np.asarray(axis.containers[0].lines[0].get_ydata(), dtype=float), [40.0])
    (marker,) = paper_markers(axis)
    np.testing.assert_allclose(marker.get_ydata(), [45.0])


def test_paper_is_in_the_legend_only_where_a_published_number_is_drawn():
    metrics = run("x", "gru", 50, 30, np.linspace(20, 22, 40))["metrics"]
    for paper in (None, 22.5):
        figure = plots.plot_learning_curves([plots.Curve("RL² (GRU)", "gru", [metrics], paper=paper)])
        labels = [text.get_text() for text in figure.legends[0].get_texts()]
        assert ("paper" in labels) == (paper is not None) == bool(paper_markers(figure.axes[0]))


def test_models_with_the_same_published_number_share_one_paper_line_label_and_diamond():
    metrics = run("x", "gru", 10, 100, np.linspace(50, 82, 40))["metrics"]
    curves = [
        plots.Curve("RL² (GRU)", "gru", [metrics], paper=83.5),
        plots.Curve("SNAIL", "snail", [metrics], paper=83.5),
        plots.Curve("MAML", "maml", [metrics], paper=70.1),
    ]
    axis = plots.plot_learning_curves(curves, {}).axes[0]
    dashed = [line for line in axis.get_lines() if line.get_linestyle() == "--"]
    assert sorted(line.get_ydata()[0] for line in dashed) == [70.1, 83.5]
    assert sorted(text.get_text() for text in axis.texts) == ["paper: MAML", "paper: RL² (GRU), SNAIL"]
    (marker,) = paper_markers(axis)
    np.testing.assert_allclose(sorted(marker.get_ydata()), [70.1, 83.5])


def test_normalised_curves_put_random_at_0_and_the_normaliser_at_1():
    results = results_for(baseline_rows("bandit"))  # n=10: random 5, Gittins 7
    runs = [run("gru_bandit_k5_n10", "gru", 5, 10, [5.0] * 20 + [7.0] * 20)]
    figure = plots.plot_normalised_learning_curves(plots.collect_curves(runs, results), results, "bandit")
    assert {axis.get_subplotspec().get_geometry()[:2] for axis in figure.axes} == {(3, 3)}
    axis = figure.axes[0]
    raw = next(line for line in axis.get_lines() if line.get_alpha() == 0.25)
    np.testing.assert_allclose(raw.get_ydata(), [0.0] * 20 + [1.0] * 20)
    assert axis.get_ylabel() == "normalised total reward\n(Random = 0, Gittins = 1)"
    assert [axis.texts[0].get_text() for axis in figure.axes[1:]] == ["no run yet"] * 8


def test_moving_average_matches_a_naive_trailing_mean():
    values = np.random.default_rng(0).normal(size=37)
    expected = [values[max(0, i + 1 - 5) : i + 1].mean() for i in range(len(values))]
    np.testing.assert_allclose(plots.moving_average(values, 5), expected)


def test_save_figure_writes_png_at_200_dpi_and_pdf(tmp_path, monkeypatch):
    monkeypatch.setenv("RL2LIB_RESULTS", str(tmp_path / "results"))
    figure, axis = plt.subplots(figsize=(2, 1))
    axis.plot([0, 1])
    png, pdf = plots.save_figure(figure, "example")
    assert (png, pdf) == (tmp_path / "results/figures/example.png", tmp_path / "results/figures/example.pdf")
    assert plots.FIGURE_DPI >= 200
    assert Image.open(png).info["dpi"][0] == pytest.approx(plots.FIGURE_DPI, abs=1)
    assert pdf.read_bytes().startswith(b"%PDF")
    assert plots.save_figure(figure, tmp_path / "other" / "named.png") == [
        tmp_path / "other/named.png",
        tmp_path / "other/named.pdf",
    ]
    assert all(path.exists() for path in (tmp_path / "other/named.png", tmp_path / "other/named.pdf"))


def test_a_line_started_from_a_taught_network_says_so_up_to_its_last_phase(tmp_path):
    """`runs.taught_by` follows `--init_from` up a line to the first imitation (imitation.json, `rl2lib.imitate`);
    a line learned from reward alone has none, and its label says nothing."""
    (tmp_path / "clone").mkdir()
    (tmp_path / "clone" / "imitation.json").write_text(json.dumps({"teacher": "gittins"}))
    runs = [
        run("gru_bandit_k50_n100_taught", "gru", 50, 100, np.full(10, 85.0)),
        run("gru_bandit_k50_n100_taught_phase2", "gru", 50, 100, np.full(10, 85.0)),
        run("gru_bandit_k50_n100_scratch", "gru", 50, 100, np.full(10, 82.0)),
    ]
    for entry in runs:  # a full config, as config.json holds it (the report rebuilds each run's command)
        entry["config"] = TrainConfig(task=TaskConfig(task="bandit", num_actions=50, num_traj=100), num_updates=10).to_dict()
    runs[0]["config"]["init_from"] = str(tmp_path / "clone" / "best.pt")
    (tmp_path / "taught").mkdir()
    (tmp_path / "taught" / "config.json").write_text(json.dumps(runs[0]["config"]))
    runs[1]["config"]["init_from"] = str(tmp_path / "taught" / "best.pt")
    assert [taught_by(r["config"]) for r in runs] == ["gittins", "gittins", None]
    curves = plots.collect_curves(runs, results_for(baseline_rows("bandit")))[("bandit", 100, 50)]["ablations"]
    assert [curve.label for curve in curves] == [
        "RL² (GRU) variant: scratch",
        "RL² (GRU) variant: taught (from a network taught to play as gittins)",
        "RL² (GRU) variant: taught phase2 (from a network taught to play as gittins)",
    ]
    for index, mean in ((0, 85.0), (2, 82.0)):
        runs[index]["eval"] = {"mean": mean, "se": 0.3, "played": "best.pt"}
    rows = report.training_table([runs[0], runs[2]]).splitlines()
    assert "85.00 ± 0.30 (from a network taught to play as gittins) |" in rows[2] and "✓" not in rows[2]
    assert "82.00 ± 0.30 ✗" in rows[3]  # scored against the cell's bar
