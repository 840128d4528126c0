"""The explorer: TrialSession against the evaluation loop, reset, posterior and visit counts by hand,
what a run folder plays, the agent list against hand-made runs, the figure's legibility at k=50 and
n=500, the widgets' wiring, and the notebook served by Voila and driven in a headless Chromium."""

import itertools
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import torch
from matplotlib.backends.backend_agg import FigureCanvasAgg

from rl2lib.baselines import BASELINES
from rl2lib.config import ModelConfig, TaskConfig, TrainConfig
from rl2lib.envs import BanditTasks, MDPTasks, seeded_tasks
from rl2lib.evaluate import evaluation_generators, play_baseline
from rl2lib.explorer import TrialSession, agent_options, build_explorer, plot_session
from rl2lib.paths import NOTEBOOKS_DIR, portable_path
from rl2lib.rollout import collect_trials
from rl2lib.runs import CHECKPOINT_FORMAT, load_policy
from rl2lib.train import build_config_policy

CHROMIUM = Path("/usr/bin/chromium")


def play_to_end(session: TrialSession) -> None:
    """Step by step, asking for the action probabilities first, as the explorer does."""
    while not session.done:
        session.action_probs()
        session.step()


def save_checkpoint(path: Path, task: TaskConfig, model_type: str = "gru", seed: int = 3) -> Path:
    """An untrained policy (initialised from `seed`) in the checkpoint format of `rl2lib.train`."""
    config = TrainConfig(task=task, model=ModelConfig(model_type=model_type, hidden_size=16), seed=seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(seed)
    torch.save({"format": CHECKPOINT_FORMAT, "config": config.to_dict(), "model": build_config_policy(config).state_dict()}, path)
    return path


def make_run(
    runs: Path, name: str, task: TaskConfig, model_type: str = "gru", best: bool = False, evaluated: bool = False
) -> Path:
    """A run folder as `rl2-train` leaves it: config.json and checkpoint.pt, best.pt when it validated,
    eval.json (what the tables read) once evaluated."""
    run_dir = runs / name
    save_checkpoint(run_dir / "checkpoint.pt", task, model_type, seed=1)
    if best:
        save_checkpoint(run_dir / "best.pt", task, model_type, seed=2)
    config = TrainConfig(task=task, model=ModelConfig(model_type=model_type, hidden_size=16))
    (run_dir / "config.json").write_text(json.dumps(config.to_dict()))
    if evaluated:
        (run_dir / "eval.json").write_text(json.dumps({"mean": 5.0, "se": 0.1, "num_trials": 100}))
    return run_dir


@pytest.mark.parametrize(
    "task, name, num_traj",
    [
        ("bandit", "ts", 10),
        ("bandit", "ucb1", 10),
        ("bandit", "eps_greedy", 10),
        ("bandit", "oracle", 10),
        ("bandit", "gittins", 20),
        ("mdp", "psrl", 2),
        ("mdp", "eps_greedy", 2),
        ("mdp", "oracle", 2),
    ],
)
def test_stepping_to_the_end_plays_the_trial_of_play_baseline(task, name, num_traj):
    config = TaskConfig(task=task, num_actions=5, num_traj=num_traj)
    session = TrialSession(config, name, seed=7, num_replicas=50)
    play_to_end(session)
    _, _, record = play_baseline(config, name, num_trials=1, seed=7)
    assert [step.action for step in session.history] == record.actions[:, 0].tolist()
    assert [step.state for step in session.history] == record.states[:, 0].tolist()
    assert session.total == pytest.approx(record.totals.item(), rel=1e-12, abs=1e-12)


def test_a_checkpoint_plays_the_trial_of_collect_trials(tmp_path):
    config = TaskConfig(task="bandit", num_actions=3, num_traj=15)
    path = save_checkpoint(tmp_path / "run" / "checkpoint.pt", config)
    session = TrialSession(config, str(path), seed=2)
    probs = session.action_probs()
    assert probs.shape == (3,) and probs.sum() == pytest.approx(1.0)
    play_to_end(session)
    policy = build_config_policy(TrainConfig(task=config, model=ModelConfig(hidden_size=16), seed=3)).eval()
    env_generator, action_generator = evaluation_generators(2)
    batch = collect_trials(policy, seeded_tasks(config, 1, 2), config, env_generator, action_generator)
    assert [step.action for step in session.history] == batch.actions[:, 0].tolist()
    assert session.total == pytest.approx(batch.totals.item(), rel=1e-6)
    with pytest.raises(RuntimeError, match="trial is over"):
        session.step()


def test_a_checkpoint_of_another_task_is_refused(tmp_path):
    path = save_checkpoint(tmp_path / "run" / "checkpoint.pt", TaskConfig(task="mdp", num_traj=2))
    with pytest.raises(ValueError, match="trained on task=mdp"):
        TrialSession(TaskConfig(task="bandit"), str(path))


def weights(policy: torch.nn.Module) -> torch.Tensor:
    return torch.cat([parameter.detach().flatten() for parameter in policy.parameters()])


def test_a_run_folder_plays_best_pt_when_it_validated_else_checkpoint_pt(tmp_path):
    """What the tables score (their evaluation plays best.pt where there is one), never checkpoint.pt beside it."""
    config = TaskConfig(task="bandit", num_actions=3, num_traj=5)
    validated, unvalidated = make_run(tmp_path, "validated", config, best=True), make_run(tmp_path, "plain", config)
    best, final = load_policy(validated / "best.pt")[0], load_policy(validated / "checkpoint.pt")[0]
    assert not torch.equal(weights(best), weights(final))  # the two files differ, so the check below means something
    assert torch.equal(weights(TrialSession(config, str(validated)).policy), weights(best))
    assert torch.equal(
        weights(TrialSession(config, str(unvalidated)).policy), weights(load_policy(unvalidated / "checkpoint.pt")[0])
    )
    assert TrialSession(config, str(validated)).label == "validated"  # a run is named by its folder


def test_to_the_end_of_the_episode():
    mdp = TrialSession(TaskConfig(task="mdp", num_traj=3), "random", seed=0)
    mdp.advance(3)
    assert mdp.steps_left_in_episode == 7
    mdp.finish_episode()
    assert mdp.t == 10 and mdp.history[-1].episode_done
    assert not any(step.episode_done for step in mdp.history[:-1])
    mdp.finish_episode()
    assert mdp.t == 20
    mdp.play()
    assert mdp.finish_episode() == [] and mdp.steps_left_in_episode == 0 and mdp.t == 30
    bandit = TrialSession(TaskConfig(task="bandit", num_traj=4), "ts", seed=0)
    bandit.finish_episode()  # a bandit episode is one pull
    assert bandit.t == 1


def test_the_agent_list_puts_table_cells_first_then_baselines_then_other_runs(tmp_path, monkeypatch):
    """Hand-made runs of every kind; the list holds the setting's own, each labelled with what it is."""
    monkeypatch.setenv("RL2LIB_RESULTS", str(tmp_path))
    runs = tmp_path / "runs"
    bandit = TaskConfig(task="bandit", num_actions=5, num_traj=10)
    cell = make_run(runs, "gru_bandit_k5_n10", bandit, best=True, evaluated=True)
    cell_seed1 = make_run(runs, "gru_bandit_k5_n10_seed1", bandit, evaluated=True)
    snail = make_run(runs, "snail_bandit_k5_n10", bandit, "snail", best=True)  # the cell's run, not evaluated yet
    variant = make_run(runs, "gru_bandit_k5_n10_tau0.3", bandit, best=True, evaluated=True)
    make_run(runs, "gru_bandit_k5_n100", TaskConfig(task="bandit", num_actions=5, num_traj=100), evaluated=True)
    make_run(runs, "gru_bandit_k10_n10", TaskConfig(task="bandit", num_actions=10, num_traj=10), evaluated=True)
    make_run(runs, "gru_bandit_k5_n10_started", bandit)
    (runs / "gru_bandit_k5_n10_started" / "checkpoint.pt").unlink()  # no file to play yet: not listed
    baselines = [(f"baseline: {name}", name) for name in BASELINES["bandit"]]
    assert agent_options("bandit", 5, 10) == [
        ("RL² GRU — table cell", str((cell / "best.pt").resolve())),
        ("RL² GRU — table cell, training seed 1", str((cell_seed1 / "checkpoint.pt").resolve())),
        *baselines,
        ("SNAIL — table cell, not evaluated yet", str((snail / "best.pt").resolve())),
        ("variant: gru_bandit_k5_n10_tau0.3", str((variant / "best.pt").resolve())),
    ]

    mdp = TaskConfig(task="mdp", num_traj=10)
    phase1 = make_run(runs, "gru_mdp_n10", mdp, best=True, evaluated=True)
    phase2 = make_run(runs, "gru_mdp_n10_phase2", mdp, best=True, evaluated=True)
    options = agent_options("mdp", 5, 10)
    assert options[0] == ("RL² GRU — table cell", str((phase2 / "best.pt").resolve()))  # the second phase fills it
    assert options[1:-1] == [(f"baseline: {name}", name) for name in BASELINES["mdp"]]
    assert options[-1] == ("RL² GRU — first training phase of the table cell", str((phase1 / "best.pt").resolve()))
    phase3 = make_run(runs, "gru_mdp_n10_phase3", mdp, best=True)  # training: phase 2 still fills the cell
    assert agent_options("mdp", 5, 10)[-1] == (
        "RL² GRU — training phase 3 of the table cell, not evaluated yet",
        str((phase3 / "best.pt").resolve()),
    )
    make_run(runs, "gru_mdp_n10_phase3", mdp, best=True, evaluated=True)
    options = agent_options("mdp", 5, 10)
    assert options[0] == ("RL² GRU — table cell", str((phase3 / "best.pt").resolve()))
    assert options[-2:] == [
        ("RL² GRU — first training phase of the table cell", str((phase1 / "best.pt").resolve())),
        ("RL² GRU — training phase 2 of the table cell", str((phase2 / "best.pt").resolve())),
    ]


def drawn_tick_labels(axis) -> list:
    """The tick labels an axis draws: those of its major ticks inside the view, on either side."""
    low, high = sorted(axis.get_view_interval())
    return [label for tick in axis.get_major_ticks() if low <= tick.get_loc() <= high for label in (tick.label1, tick.label2)]


def text_boxes(figure):
    """Window extents of every title, axis label and drawn tick label of the figure (drawn with Agg)."""
    FigureCanvasAgg(figure).draw()
    renderer = figure.canvas.get_renderer()
    texts = []
    for ax in figure.axes:
        texts += [ax.title, ax.xaxis.label, ax.yaxis.label, *drawn_tick_labels(ax.xaxis), *drawn_tick_labels(ax.yaxis)]
    return [text.get_window_extent(renderer) for text in texts if text.get_visible() and text.get_text()]


@pytest.mark.parametrize(
    "task, num_actions, num_traj, agent",
    [("bandit", 50, 100, "ts"), ("bandit", 5, 500, "ts"), ("bandit", 100, 10, "ts"), ("mdp", 5, 50, "psrl")],
)
def test_panels_are_legible(task, num_actions, num_traj, agent):
    """Every panel has a title and labelled axes; no text leaves the figure or overlaps another
    (k = 50 once put 50 merged arm labels under each panel)."""
    session = TrialSession(TaskConfig(task=task, num_actions=num_actions, num_traj=num_traj), agent, seed=0, num_replicas=20)
    session.advance(30)
    figure = plot_session(session)
    for ax in figure.axes[:3]:
        assert ax.get_title() and ax.get_xlabel() and ax.get_ylabel()
    boxes = text_boxes(figure)
    frame = figure.bbox
    for box in boxes:
        assert frame.x0 <= box.x0 and box.x1 <= frame.x1 and frame.y0 <= box.y0 and box.y1 <= frame.y1, box
    overlapping = [(a, b) for a, b in itertools.combinations(boxes, 2) if a.overlaps(b)]
    assert not overlapping


def test_reset_restores_the_start():
    session = TrialSession(TaskConfig(task="bandit", num_actions=5, num_traj=12), "ts", seed=3)
    first_probs = session.action_probs().copy()
    session.advance(5)
    assert session.t == 5
    session.reset()
    assert session.t == 0 and session.total == 0.0 and session.history == []
    np.testing.assert_array_equal(session.action_probs(), first_probs)
    play_to_end(session)
    replay = [step.action for step in session.history]
    session.reset()
    session.play()
    assert [step.action for step in session.history] == replay


def test_bandit_posterior_matches_a_hand_count():
    """Arm 1 always pays, arms 0 and 2 never: successes and pulls follow from the actions alone."""
    tasks = BanditTasks(torch.tensor([[0.0, 1.0, 0.0]]))
    session = TrialSession(TaskConfig(task="bandit", num_actions=3, num_traj=30), "random", seed=0, tasks=tasks)
    session.play()
    pulls = Counter(step.action for step in session.history)
    posterior = session.arm_posterior()
    for arm in range(3):
        successes = pulls[arm] if arm == 1 else 0
        assert posterior["pulls"][arm] == pulls[arm]
        assert posterior["successes"][arm] == successes
        assert posterior["mean"][arm] == pytest.approx((1 + successes) / (2 + pulls[arm]))
        assert posterior["low"][arm] < posterior["mean"][arm] < posterior["high"][arm]
    assert session.total == pulls[1]


def test_mdp_visit_counts_on_a_cycle():
    """Every action moves s to s + 1 (mod 10): each 10-step episode from state 0 visits every state once."""
    S, A = 10, 5
    transitions = torch.zeros(1, S, A, S)
    for s in range(S):
        transitions[0, s, :, (s + 1) % S] = 1.0
    tasks = MDPTasks(torch.zeros(1, S, A), transitions)
    session = TrialSession(TaskConfig(task="mdp", num_actions=A, num_traj=3), "random", seed=1, tasks=tasks)
    session.advance(14)
    assert session.visit_counts().sum(1).tolist() == [2, 2, 2, 2, 1, 1, 1, 1, 1, 1]
    assert session.state == 4
    session.play()
    assert session.visit_counts().sum(1).tolist() == [3] * S
    assert session.visit_counts().sum() == 30


def test_action_probabilities_of_deterministic_baselines():
    config = TaskConfig(task="bandit", num_actions=4, num_traj=10)
    greedy = TrialSession(config, "greedy", seed=5, num_replicas=20)
    assert greedy.action_probs().tolist() == [1.0, 0.0, 0.0, 0.0]  # all means 1/2: ties to arm 0
    oracle = TrialSession(config, "oracle", seed=5, num_replicas=20)
    best = int(seeded_tasks(config, 1, 5).arm_probs[0].argmax())
    assert oracle.action_probs()[best] == 1.0
    ts = TrialSession(config, "ts", seed=5, num_replicas=400)
    assert ts.action_probs().sum() == pytest.approx(1.0)
    assert np.abs(ts.action_probs() - 0.25).max() < 0.1  # flat posteriors: about uniform


def test_comparisons_are_the_baselines_on_the_same_task():
    config = TaskConfig(task="bandit", num_actions=5, num_traj=10)
    session = TrialSession(config, "ts", seed=4)
    assert set(session.comparison_rewards) == {"greedy", "oracle"}  # the agent itself is left out
    for name, rewards in session.comparison_rewards.items():
        assert rewards.sum() == play_baseline(config, name, num_trials=1, seed=4)[2].totals.item()


def test_summary_line():
    session = TrialSession(TaskConfig(task="bandit", num_actions=5, num_traj=10), "oracle", seed=0)
    assert session.summary() == "step 0/10, total reward 0.00"
    session.advance(3)
    assert session.summary().startswith(f"step 3/10, total reward {session.total:.2f}")


PNG = b"\x89PNG"


def test_widgets_are_wired_to_the_session(tmp_path, monkeypatch):
    monkeypatch.setenv("RL2LIB_RESULTS", str(tmp_path))
    cell_10 = make_run(tmp_path / "runs", "gru_bandit_k5_n10", TaskConfig(num_traj=10), best=True, evaluated=True)
    cell_20 = make_run(tmp_path / "runs", "gru_bandit_k5_n20", TaskConfig(num_traj=20), evaluated=True)
    explorer = build_explorer(task="bandit", num_actions=5, num_traj=10, agent="ts", seed=0, num_replicas=20)
    assert explorer.summary.value == "step 0/10, total reward 0.00"
    assert "rl2-plot" in explorer.plot._dom_classes and "rl2-summary" in explorer.summary._dom_classes
    assert bytes(explorer.plot.value).startswith(PNG)
    explorer.step_button.click()
    assert explorer.summary.value.startswith("step 1/10")
    explorer.num_steps_box.value = 4
    explorer.step_n_button.click()
    assert explorer.summary.value.startswith("step 5/10")
    explorer.episode_button.click()  # a bandit episode is one pull
    assert explorer.summary.value.startswith("step 6/10")
    explorer.play_button.click()
    assert explorer.summary.value.startswith("step 10/10") and all(b.disabled for b in explorer.move_buttons)
    explorer.reset_button.click()
    assert explorer.summary.value.startswith("step 0/10") and not any(b.disabled for b in explorer.move_buttons)
    explorer.new_task_button.click()
    assert explorer.seed_box.value == 1 and explorer.session.seed == 1

    explorer.k_box.value = 1  # a one-armed bandit is no setting: the error is shown and the figure goes
    assert explorer.summary.value.startswith("cannot play this setting") and explorer.session is None
    assert bytes(explorer.plot.value) == b"" and explorer.plot.layout.display == "none"
    assert all(b.disabled for b in explorer.move_buttons) and explorer.reset_button.disabled
    explorer.k_box.value = 5
    assert bytes(explorer.plot.value).startswith(PNG) and explorer.plot.layout.display is None

    explorer.agent_box.value = str((cell_10 / "best.pt").resolve())
    assert explorer.agent_box.label == "RL² GRU — table cell" and explorer.session.label == "RL² GRU — table cell"
    explorer.n_box.value = 20  # the same role in the new setting: its table cell
    assert explorer.agent_box.value == str((cell_20 / "checkpoint.pt").resolve())
    assert explorer.session.policy is not None and explorer.summary.value.startswith("step 0/20")
    explorer.n_box.value = 30  # no trained run here: back to Thompson sampling
    assert explorer.agent_box.value == "ts"
    explorer.task_box.value = "mdp"
    assert explorer.agent_box.value == "psrl" and explorer.summary.value.startswith("step 0/300")
    explorer.episode_button.click()
    assert explorer.summary.value.startswith("step 10/300")
    explorer.num_steps_box.value = 4
    explorer.step_n_button.click()
    explorer.episode_button.click()
    assert explorer.summary.value.startswith("step 20/300")


def test_a_checkpoint_given_to_the_explorer_stays_on_its_list(tmp_path, monkeypatch):
    monkeypatch.setenv("RL2LIB_RESULTS", str(tmp_path / "results"))
    checkpoint = save_checkpoint(tmp_path / "elsewhere" / "checkpoint.pt", TaskConfig(task="mdp", num_traj=2))
    explorer = build_explorer(task="mdp", num_actions=5, num_traj=2, agent=str(checkpoint), num_replicas=20)
    assert explorer.agent_box.label == f"checkpoint: {portable_path(checkpoint)}"
    assert explorer.session.policy is not None
    explorer.n_box.value = 3  # a GRU plays any n
    assert explorer.session.policy is not None and explorer.summary.value.startswith("step 0/30")
    explorer.task_box.value = "bandit"  # still selected: it says why it cannot play here
    assert explorer.summary.value.startswith("cannot play this setting")
    assert "trained on task=mdp" in explorer.summary.value
    assert bytes(explorer.plot.value) == b""


# ----------------------------------------------------------------------------------------------
# The notebook in a browser
# ----------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_port(port: int, process: subprocess.Popen, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"voila exited with code {process.returncode}")
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise TimeoutError(f"voila did not listen on port {port} within {timeout} s")


def wait_for_summary(page, prefix: str, timeout: float = 30_000) -> None:
    """Wait until the explorer's summary line starts with `prefix`."""
    page.wait_for_function(
        "(prefix) => document.querySelector('.rl2-summary')?.innerText.startsWith(prefix)", arg=prefix, timeout=timeout
    )


def set_number(page, box: str, value: int) -> None:
    """Type `value` into the number box of DOM class `box` and commit it (Enter), as a reader does."""
    field = page.locator(f"{box} input")
    field.fill(str(value))
    field.press("Enter")


CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.mark.slow
@pytest.mark.timeout(420)
def test_explorer_notebook_in_voila_and_chromium(tmp_path):
    """The page as a reader meets it: controls on the first screen, a step redraws the figure, an
    impossible setting shows its message with no figure under it, and a bandit trial of n = 500 is
    played by "step N", "to the end of the episode" and "play to the end of the trial"."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium; `make test` tries): browser test skipped")
    from playwright.sync_api import sync_playwright

    # A kernel spec of this interpreter, ahead of any other on the Jupyter path.
    kernel_dir = tmp_path / "jupyter" / "kernels" / "python3"
    kernel_dir.mkdir(parents=True)
    (kernel_dir / "kernel.json").write_text(
        json.dumps(
            {
                "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                "display_name": "Python 3",
                "language": "python",
            }
        )
    )
    env = dict(
        os.environ,
        JUPYTER_PATH=str(tmp_path / "jupyter"),
        JUPYTER_CONFIG_DIR=str(tmp_path / "config"),
        JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"),
        RL2LIB_RESULTS=str(tmp_path / "results"),
        MPLBACKEND="Agg",
    )
    port = free_port()
    log = open(tmp_path / "voila.log", "w")
    voila = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "voila",
            "08_explorer.ipynb",
            "--no-browser",
            f"--port={port}",
            "--Voila.ip=127.0.0.1",
            "--show_tracebacks=True",
        ],
        cwd=NOTEBOOKS_DIR,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        wait_for_port(port, voila, timeout=45)
        with sync_playwright() as playwright:
            context = playwright.chromium.launch_persistent_context(
                str(tmp_path / "chromium-profile"), executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
            )
            try:
                page = context.new_page()
                # Voila streams the page while the notebook runs (kernel start, imports): on a loaded
                # machine that took over 90 s once, so wait for the first bytes, then for the widgets
                page.goto(f"http://127.0.0.1:{port}/", timeout=240_000, wait_until="commit")
                page.locator(".rl2-summary").wait_for(timeout=240_000)
                wait_for_summary(page, "step 0/10", timeout=30_000)
                image = page.locator("img.rl2-plot")
                image.wait_for(timeout=15_000)
                first_image = image.get_attribute("src")
                assert first_image.startswith("blob:")  # the PNG bytes of the Image widget
                assert page.locator(".rl2-explorer select").count() >= 2  # task and agent dropdowns rendered
                step = page.locator("button.rl2-step")
                assert step.bounding_box()["y"] < page.viewport_size["height"]  # the controls come first on the page

                step.click()
                wait_for_summary(page, "step 1/10")
                page.wait_for_function(
                    "(old) => { const img = document.querySelector('img.rl2-plot');"
                    " return img !== null && img.getAttribute('src') !== old; }",
                    arg=first_image,
                    timeout=20_000,
                )

                set_number(page, ".rl2-k", 1)  # no setting: the message, and no figure left under it
                wait_for_summary(page, "cannot play this setting: a bandit needs at least 2 arms")
                image.wait_for(state="hidden", timeout=20_000)
                assert step.is_disabled()
                set_number(page, ".rl2-k", 5)
                wait_for_summary(page, "step 0/10")
                image.wait_for(state="visible", timeout=20_000)

                set_number(page, ".rl2-n", 500)  # a long trial
                wait_for_summary(page, "step 0/500")
                set_number(page, ".rl2-num-steps", 25)
                page.locator("button.rl2-step-n").click()
                wait_for_summary(page, "step 25/500")
                page.locator("button.rl2-episode").click()
                wait_for_summary(page, "step 26/500")
                page.locator("button.rl2-play").click()
                wait_for_summary(page, "step 500/500")
                assert step.is_disabled() and page.locator("button.rl2-step-n").is_disabled()
                image.wait_for(state="visible", timeout=20_000)
            finally:
                context.close()
    except Exception:
        log.flush()
        print((tmp_path / "voila.log").read_text()[-4000:])
        raise
    finally:
        os.killpg(voila.pid, signal.SIGTERM)  # voila and the kernel it started (its own session)
        try:
            voila.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(voila.pid, signal.SIGKILL)
            voila.wait()
        log.close()
