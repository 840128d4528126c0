"""The campaign's turn on a GPU machine: `slim` leaves only what the chosen runs need and `restore`
brings every set-aside file back unchanged; a turn (run here on the CPU) trains, packs each run
into one tar file, and the unpacked run resumes and is evaluated by the CPU campaign."""

import pytest

from rl2lib import campaign, campaign_runs, gpu_campaign
from rl2lib.runs import trained_updates
from rl2lib.train import train
from tests.test_campaign import parse

TINY = {"batch_size": 100, "mini_batch_size": 50, "hidden_size": 16, "ppo_epochs": 1, "validate_every": 1, "validate_trials": 20}


def snapshot(folder):
    """Every file under `folder`, by relative path, with its bytes."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def two_runs(tmp_path, monkeypatch):
    """A trained and evaluated parent `short` and its child `long` (not started) in a results folder of their own."""
    monkeypatch.setenv("RL2LIB_RESULTS", str(tmp_path / "results"))
    runs = (
        campaign_runs.cell("gru", "bandit", 3, 2, k=2, name="short", **TINY),
        campaign_runs.cell("gru", "bandit", 5, 2, k=2, parent="short", name="long", **TINY),
    )
    monkeypatch.setattr(campaign, "CAMPAIGN", runs)
    train(parse(runs[0]), runs[0].run_dir, progress=False)
    for name in ("eval.json", "confirm.json"):  # the parent is done: its evaluations stand in for real ones
        (runs[0].run_dir / name).write_text("{}")
    return runs


def test_a_turn_by_default_trains_the_costliest_runs_per_step_that_can_start_now(two_runs, monkeypatch):
    short, long = two_runs
    more = (
        campaign_runs.cell("snail", "bandit", 4, 2, k=2, parent="short", name="snail_child", **TINY),
        campaign_runs.cell("gru", "mdp", 2, 2, parent="short", name="mdp_child", **TINY),  # T = 20 steps
        campaign_runs.cell("snail", "bandit", 9, 2, k=2, parent="long", name="waits", **TINY),  # long is not done
        campaign_runs.cell("snail", "mdp", 9, 2, name="shelved", **TINY),
    )
    monkeypatch.setattr(campaign, "CAMPAIGN", two_runs + more)
    monkeypatch.setitem(campaign.SHELVED, "shelved", "a test")
    assert [run.name for run in gpu_campaign.default_runs(count=2)] == ["snail_child", "mdp_child"]
    assert [run.name for run in gpu_campaign.default_runs()] == ["snail_child", "mdp_child", "long"]  # short is done
    with pytest.raises(SystemExit, match="run `slim` here first"):
        gpu_campaign.main(["train", "--minutes", "1", "--out", "out"])


def test_slim_keeps_what_the_runs_need_and_restore_brings_the_rest_back(two_runs, tmp_path):
    runs_dir = tmp_path / "results" / "runs"
    other = runs_dir / "other"
    other.mkdir()
    (other / "eval.json").write_text("{}")
    before = snapshot(runs_dir)
    gpu_campaign.main(["slim"])  # by default the child: it has no checkpoint, so its parent's policy must travel
    assert snapshot(runs_dir) == {"short/best.pt": before["short/best.pt"]}
    assert [run.name for run in gpu_campaign.turn_runs()] == ["long"]  # what `train` trains there by default
    with pytest.raises(SystemExit, match="restore"):  # a second slim before the restore
        gpu_campaign.slim([two_runs[1]])
    gpu_campaign.restore(None)
    assert snapshot(runs_dir) == before and not gpu_campaign.turn_file().exists()
    (two_runs[0].run_dir / "checkpoint.pt").rename(tmp_path / "aside.pt")  # the parent unfinished
    with pytest.raises(SystemExit, match="waits for its parent short"):
        gpu_campaign.slim([two_runs[1]])
    assert not (tmp_path / gpu_campaign.ASIDE_DIR).exists() and not gpu_campaign.turn_file().exists()


@pytest.mark.slow
def test_a_turn_trains_packs_and_the_unpacked_run_resumes_here(two_runs, tmp_path):
    short, long = two_runs
    gpu_campaign.slim([long])
    out = tmp_path / "out"
    gpu_campaign.train_on_gpu([long], minutes=5, out=out, device="cpu", bench=False)
    assert sorted(p.name for p in out.iterdir()) == ["long.tar", "train.log"]
    gpu_campaign.restore(out)
    assert trained_updates(long.run_dir) == 2 and (short.run_dir / "checkpoint.pt").exists()
    extended = campaign_runs.cell("gru", "bandit", 5, 3, k=2, parent="short", name="long", **TINY)
    history = train(parse(extended), long.run_dir, resume=True, progress=False)
    assert [row["update"] for row in history] == [1, 2, 3]
    assert [step[2] for step in campaign.steps(long)] == ["rl2lib.evaluate", "rl2lib.evaluate"]  # evaluated here
