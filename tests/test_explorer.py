"""The explorer: TrialSession against the evaluation loop, reset, posterior and visit counts by hand,
the widgets' wiring, and the notebook served by Voila and driven in a headless Chromium."""
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

from rl2lib.config import ModelConfig, TaskConfig, TrainConfig
from rl2lib.envs import BanditTasks, MDPTasks, seeded_tasks
from rl2lib.evaluate import make_generators, play_baseline
from rl2lib.explorer import TrialSession, build_explorer
from rl2lib.paths import NOTEBOOKS_DIR
from rl2lib.rollout import collect_trials
from rl2lib.train import CHECKPOINT_FORMAT, build_policy

CHROMIUM = Path("/usr/bin/chromium")


def play_to_end(session: TrialSession) -> None:
    """Step by step, asking for the action probabilities first, as the explorer does."""
    while not session.done:
        session.action_probs()
        session.step()


def save_checkpoint(path: Path, task: TaskConfig, model_type: str = "gru") -> Path:
    """An untrained policy in the checkpoint format of `rl2lib.train` (what `load_policy` reads)."""
    config = TrainConfig(task=task, model=ModelConfig(model_type=model_type, hidden_size=16), seed=3)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"format": CHECKPOINT_FORMAT, "config": config.to_dict(),
                "model": build_policy(config).state_dict()}, path)
    return path


@pytest.mark.parametrize("task, name, num_traj", [
    ("bandit", "ts", 10), ("bandit", "ucb1", 10), ("bandit", "eps_greedy", 10), ("bandit", "oracle", 10),
    ("bandit", "gittins", 20), ("mdp", "psrl", 2), ("mdp", "eps_greedy", 2), ("mdp", "oracle", 2),
])
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
    policy = build_policy(TrainConfig(task=config, model=ModelConfig(hidden_size=16), seed=3)).eval()
    env_generator, action_generator = make_generators(2)
    batch = collect_trials(policy, seeded_tasks(config, 1, 2), config, env_generator, action_generator)
    assert [step.action for step in session.history] == batch.actions[:, 0].tolist()
    assert session.total == pytest.approx(batch.totals.item(), rel=1e-6)
    with pytest.raises(RuntimeError, match="trial is over"):
        session.step()


def test_a_checkpoint_of_another_task_is_refused(tmp_path):
    path = save_checkpoint(tmp_path / "run" / "checkpoint.pt", TaskConfig(task="mdp", num_traj=2))
    with pytest.raises(ValueError, match="trained on task=mdp"):
        TrialSession(TaskConfig(task="bandit"), str(path))


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


def test_widgets_are_wired_to_the_session(tmp_path):
    runs = tmp_path / "runs"
    checkpoint = save_checkpoint(runs / "mdp_run" / "checkpoint.pt", TaskConfig(task="mdp", num_traj=2))
    explorer = build_explorer(task="bandit", num_actions=5, num_traj=10, agent="ts", seed=0, runs_dir=runs,
                              num_replicas=20)
    assert explorer.summary.value == "step 0/10, total reward 0.00"
    assert "rl2-plot" in explorer.plot._dom_classes and "rl2-summary" in explorer.summary._dom_classes
    explorer.step_button.click()
    assert explorer.summary.value.startswith("step 1/10")
    explorer.play_button.click()
    assert explorer.summary.value.startswith("step 10/10") and explorer.step_button.disabled
    explorer.reset_button.click()
    assert explorer.summary.value.startswith("step 0/10") and not explorer.step_button.disabled
    explorer.new_task_button.click()
    assert explorer.seed_box.value == 1 and explorer.session.seed == 1
    explorer.k_box.value = 1  # a one-armed bandit is no setting: the error is shown, nothing breaks
    assert explorer.summary.value.startswith("cannot play this setting") and explorer.session is None
    explorer.k_box.value = 5
    explorer.task_box.value = "mdp"
    assert explorer.agent_box.value == "psrl" and explorer.summary.value.startswith("step 0/100")
    explorer.task_box.value = "bandit"
    explorer.agent_box.value = str(checkpoint)  # a checkpoint brings its own task
    assert explorer.task_box.value == "mdp" and explorer.session.policy is not None
    explorer.n_box.value = 2
    explorer.step_button.click()
    assert explorer.summary.value.startswith("step 1/20")


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


CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.mark.slow
@pytest.mark.timeout(420)
def test_explorer_notebook_in_voila_and_chromium(tmp_path):
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium; `make test` tries): browser test skipped")
    from playwright.sync_api import sync_playwright

    # A kernel spec of this interpreter, ahead of any other on the Jupyter path.
    kernel_dir = tmp_path / "jupyter" / "kernels" / "python3"
    kernel_dir.mkdir(parents=True)
    (kernel_dir / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3", "language": "python"}))
    env = dict(os.environ, JUPYTER_PATH=str(tmp_path / "jupyter"), JUPYTER_CONFIG_DIR=str(tmp_path / "config"),
               JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"), RL2LIB_RESULTS=str(tmp_path / "results"),
               MPLBACKEND="Agg")
    port = free_port()
    log = open(tmp_path / "voila.log", "w")
    voila = subprocess.Popen(
        [sys.executable, "-m", "voila", "08_explorer.ipynb", "--no-browser", f"--port={port}",
         "--Voila.ip=127.0.0.1", "--show_tracebacks=True"],
        cwd=NOTEBOOKS_DIR, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_for_port(port, voila, timeout=45)
        with sync_playwright() as playwright:
            context = playwright.chromium.launch_persistent_context(
                str(tmp_path / "chromium-profile"), executable_path=str(CHROMIUM), headless=True,
                args=CHROMIUM_ARGS)
            try:
                page = context.new_page()
                # Voila streams the page while the notebook runs (kernel start, imports): on a loaded
                # machine that took over 90 s once, so wait for the first bytes, then for the widgets
                page.goto(f"http://127.0.0.1:{port}/", timeout=240_000, wait_until="commit")
                summary = page.locator(".rl2-summary")
                summary.wait_for(timeout=240_000)
                page.wait_for_function(
                    "() => document.querySelector('.rl2-summary')?.innerText.startsWith('step 0/10')", timeout=30_000)
                image = page.locator(".rl2-plot img")
                image.wait_for(timeout=15_000)
                first_image = image.get_attribute("src")
                assert first_image.startswith("data:image/png")
                assert page.locator(".rl2-explorer select").count() >= 2  # task and agent dropdowns rendered

                page.locator("button.rl2-step").click()
                page.wait_for_function(
                    "() => document.querySelector('.rl2-summary')?.innerText.startsWith('step 1/10')", timeout=20_000)
                page.wait_for_function(
                    "(old) => { const img = document.querySelector('.rl2-plot img');"
                    " return img !== null && img.getAttribute('src') !== old; }", arg=first_image, timeout=20_000)

                page.locator("button.rl2-play").click()
                page.wait_for_function(
                    "() => document.querySelector('.rl2-summary')?.innerText.startsWith('step 10/10')", timeout=20_000)
                assert page.locator("button.rl2-step").is_disabled()
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
