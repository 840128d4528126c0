"""The evaluation command line: results, and one-line errors for bad input."""
import json
import subprocess
import sys

import pytest

from rl2lib.config import TaskConfig
from rl2lib.evaluate import evaluate_baseline, main


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "rl2lib.evaluate", *args], capture_output=True, text=True)


@pytest.mark.parametrize("args, fragment", [
    (["--agent", "nope"], "unknown agent 'nope'"),
    (["--agent", "random", "--num_actions", "1"], "at least 2 arms"),
    (["--agent", "random", "--num_traj", "0"], "num_traj"),
    (["--agent", "random", "--num_trials", "-3"], "num_trials"),
    (["--agent", "random", "--task", "maze"], "unknown task 'maze'"),
    (["--agent", "random", "--task", "bandit", "--traj_len", "3"], "traj_len must be 1"),
    (["--agent", "random", "--param", "0.5"], "has no hyper-parameter"),
    (["--agent", "missing.pt"], "does not exist"),
    (["--agent", "random", "--device", "tpu"], "unknown device"),
])
def test_bad_input_gives_one_line_error(args, fragment):
    result = run_cli(*args)
    assert result.returncode == 2
    assert fragment in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr


def test_corrupt_checkpoint_is_one_line_error(tmp_path):
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a checkpoint")
    result = run_cli("--agent", str(bad))
    assert result.returncode == 2 and "cannot be read" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_random_bandit_is_half_of_n_within_se(tmp_path):
    out = tmp_path / "r.json"
    result = main(["--agent", "random", "--num_traj", "100", "--num_trials", "2000", "--json", str(out)])
    assert abs(result.mean - 50.0) < 3 * result.se
    saved = json.loads(out.read_text())
    assert saved["num_trials"] == 2000 and saved["mean"] == pytest.approx(result.mean)


def test_same_seed_same_numbers():
    cfg = TaskConfig(task="mdp", num_traj=3)
    a = evaluate_baseline(cfg, "random", num_trials=50, seed=5)
    b = evaluate_baseline(cfg, "random", num_trials=50, seed=5)
    c = evaluate_baseline(cfg, "random", num_trials=50, seed=6)
    assert a.totals.equal(b.totals) and not a.totals.equal(c.totals)
