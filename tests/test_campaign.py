"""The learner campaign: its runs are valid trainer commands in parent-first order, a campaign
stopped at once and started again trains, evaluates and confirms every run, children from parents,
and a run another process trains is left to it."""

import json
import os
import re
import threading
from dataclasses import replace

import pytest

from rl2lib import campaign, campaign_runs
from rl2lib.cli import build_parser, config_from_args, config_from_flags
from rl2lib.config import TrainConfig
from rl2lib.paths import results_dir, run_name_for, split_seed
from rl2lib.runs import agent_path, is_training, load_checkpoint, load_parent, training_lock
from rl2lib.train import run_cli, train


def parse(run: campaign_runs.Run):
    return config_from_args(build_parser().parse_args(run.train_argv()))


def test_every_run_parses_and_follows_its_parent():
    """Each run's flags parse; its parent is an earlier campaign run or a committed run with a policy,
    and holds the same model (or a narrower GRU), task family and k, with at most as many episodes per trial where
    the model is SNAIL (whose depth grows with the trial; a GRU may come back from longer trials)."""
    names = [run.name for run in campaign_runs.CAMPAIGN]
    assert len(set(names)) == len(names)
    for index, run in enumerate(campaign_runs.CAMPAIGN):
        if run.flags is None:  # a committed run, only evaluated
            assert (run.run_dir / "eval.json").exists() and agent_path(run.run_dir).exists(), run.name
            continue
        config = parse(run)
        assert config.init_from is not None or run.parent is None
        if run.parent is None:
            continue
        earlier = [r for r in campaign_runs.CAMPAIGN[:index] if r.name == run.parent and r.flags is not None]
        assert run.parent not in names[index:], f"{run.name} comes before its parent"
        if earlier:
            parent_task, parent_model = parse(earlier[0]).task.to_dict(), parse(earlier[0]).model
        else:  # committed
            parent = load_checkpoint(agent_path(results_dir() / "runs" / run.parent))["config"]
            parent_task, parent_model = parent["task"], parent["model"]
            parent_model = type(config.model)(**parent_model)
            load_parent(config)  # the trainer accepts it (task, model, depth)
        assert {**parent_task, "num_traj": config.task.num_traj} == config.task.to_dict(), run.name
        assert parent_model.model_type == config.model.model_type and parent_model.hidden_size <= config.model.hidden_size
        assert parent_task["num_traj"] <= config.task.num_traj or config.model.model_type == "gru", run.name


def test_a_later_phase_starts_from_the_phase_before_it():
    """`<line>_phase<N>` starts from `<line>_phase<N-1>`, phase 2 from `<line>`: the tables join a cell's
    phases into one curve and budget by these names."""
    later_phases = [
        (run, *split_seed(run.name))
        for run in campaign_runs.CAMPAIGN
        if run.flags is not None and re.fullmatch(r".+_phase\d+", split_seed(run.name)[0])
    ]
    assert len(later_phases) >= 20 and any(seed > 0 for _, _, seed in later_phases)
    for run, base, seed in later_phases:
        line, phase = re.fullmatch(r"(.+)_phase(\d+)", base).groups()
        assert run.parent == run_name_for(line if phase == "2" else f"{line}_phase{int(phase) - 1}", seed), run.name


def test_a_training_seed_repeats_its_committed_seed_0_run_but_for_the_seed(monkeypatch):
    """Every campaign run `<name>_seed<s>` trains as the committed `<name>` did (its config.json: task, model,
    update, budget, validations where it had them), with seed s, from its parent's run of seed s (on a machine
    with native bfloat16, as seed 0's SNAIL runs had)."""
    monkeypatch.setattr(campaign_runs, "native_bf16", lambda device: True)
    seeded = [(run, *split_seed(run.name)) for run in campaign_runs.CAMPAIGN if run.flags is not None and split_seed(run.name)[1]]
    line_runs = {run for line in campaign_runs.SEEDED_LINES for run in (line, *(f"{line}_phase{p}" for p in range(2, 9)))}
    assert len({base for _, base, _ in seeded if base in line_runs}) == sum(campaign_runs.SEEDED_LINES.values())  # every phase
    for run, base, seed in seeded:
        config = parse(run)
        committed = TrainConfig.from_dict(json.loads((results_dir() / "runs" / base / "config.json").read_text()))
        assert config.seed == seed and committed.seed == 0, run.name
        if committed.validate_every == 0:  # seed 0 trained before the trainer validated: its seeds validate, to pick best.pt
            config = replace(config, validate_every=0, validate_trials=committed.validate_trials)
        assert replace(config, seed=0, init_from=committed.init_from) == committed, run.name
        if run.parent is not None:
            assert split_seed(run.parent)[1] == seed and config.init_from.startswith(f"results/runs/{run.parent}/"), run.name


def test_snail_runs_train_in_fp32_where_bf16_would_be_emulated(monkeypatch):
    """A run the campaign lists in bf16 (`campaign_runs.BF16`) trains in it where the machine computes bfloat16 natively,
    and in fp32 elsewhere (`ppo.native_bf16`); a run listed in fp32 stays fp32 on both."""
    snail = campaign.campaign_run("snail_bandit_k10_n100_value_per_step_phase2")
    gru = campaign.campaign_run("gru_bandit_k50_n100_value_per_step_phase3")
    assert snail.flags["precision"] == "bf16" and "precision" not in gru.flags
    for native, expected in ((True, "bf16"), (False, "fp32")):
        monkeypatch.setattr(campaign_runs, "native_bf16", lambda device, native=native: native)
        assert parse(snail).precision == expected and parse(gru).precision == "fp32"


def test_the_default_campaign_passes_over_shelved_runs_and_their_children(tmp_path, monkeypatch, capsys):
    """A shelved run, and every run below it, leaves the default campaign but not `--list`, and still
    trains when named; one that another process trains stays, to hold its lane; once it is evaluated
    and confirmed where it stopped, the runs below it go on from it. Each entry of `SHELVED` names a
    campaign run."""
    assert set(campaign_runs.SHELVED) <= {run.name for run in campaign_runs.CAMPAIGN}
    monkeypatch.setenv("RL2LIB_RESULTS", str(tmp_path))
    runs = (
        campaign_runs.cell("gru", "bandit", 10, 2, k=2, name="kept"),
        campaign_runs.cell("gru", "bandit", 10, 2, k=2, name="stalled"),
        campaign_runs.cell("gru", "bandit", 20, 2, k=2, parent="stalled", name="child"),
        campaign_runs.cell("gru", "bandit", 40, 2, k=2, parent="child", name="grandchild"),
    )
    monkeypatch.setattr(campaign, "CAMPAIGN", runs)
    monkeypatch.setattr(campaign, "SHELVED", {"stalled": "flat"})
    assert [run.name for run in campaign.select(None)] == ["kept"]
    assert campaign.select(None, everything=True) == list(runs)
    assert [run.name for run in campaign.select(["grandchild", "stalled"])] == ["grandchild", "stalled"]
    assert campaign.shelved(runs[2]) == campaign.shelved(runs[3]) == "below stalled, which is shelved"
    campaign.main(["--list"])
    listed = capsys.readouterr().out
    assert "0/2 updates, shelved: flat" in listed and "shelved: below stalled, which is shelved" in listed
    with training_lock(runs[1].run_dir):
        assert [run.name for run in campaign.select(None)] == ["kept", "stalled"]
        assert "training now" in campaign.status_line(runs[1])
    assert not campaign.parent_ready(runs[2])
    runs[1].run_dir.mkdir(parents=True)
    (runs[1].run_dir / "eval.json").write_text("{}")
    assert not campaign.parent_ready(runs[2])  # evaluated, not yet confirmed
    (runs[1].run_dir / "confirm.json").write_text("{}")
    assert campaign.parent_ready(runs[2]) and campaign.shelved(runs[2]) is None  # evaluated where it stopped
    assert [run.name for run in campaign.select(None)] == ["kept", "child", "grandchild"]


def test_an_unknown_run_name_is_one_line_with_the_closest_names(monkeypatch):
    """Names the campaign lacks stop it with one line: each unknown name with the closest run names where some are
    close (a typo, a phase or seed not defined), then where `--list` prints them all, not all of them."""
    runs = tuple(campaign_runs.cell("gru", "bandit", 10, 2, k=2, name=name) for name in ("line", "line_phase2", "other"))
    monkeypatch.setattr(campaign, "CAMPAIGN", runs)
    with pytest.raises(SystemExit) as stop:
        campaign.main(["line_phase3", "nothing_like_it"])
    message = str(stop.value)
    assert "\n" not in message and message.startswith("error: 'line_phase3' is not a campaign run")
    assert "run (did you mean 'line_phase2'?); 'nothing_like_it' is not a campaign run; `python" in message
    assert message.endswith("`python -m rl2lib.campaign --list` lists all 3") and "other" not in message


def test_a_parent_outside_the_campaign_is_ready_once_it_holds_a_policy_and_nothing_trains_it(tmp_path, monkeypatch):
    """Such as an imitation (`rl2lib.imitate`), which writes best.pt at its first validation, long before it ends."""
    monkeypatch.setenv("RL2LIB_RESULTS", str(tmp_path))
    child = campaign_runs.cell("gru", "bandit", 10, 2, k=2, parent="outside", name="child")
    monkeypatch.setattr(campaign, "CAMPAIGN", (child,))
    parent_dir = tmp_path / "runs" / "outside"
    assert not campaign.parent_ready(child)
    with training_lock(parent_dir):
        (parent_dir / "best.pt").write_bytes(b"")
        assert not campaign.parent_ready(child) and "waits for outside" in campaign.status_line(child)
    assert campaign.parent_ready(child)


@pytest.mark.slow
def test_a_stopped_campaign_resumes_and_finishes_every_run(tmp_path, monkeypatch):
    monkeypatch.setenv("RL2LIB_RESULTS", str(tmp_path))
    tiny = {
        "batch_size": 100,
        "mini_batch_size": 50,
        "hidden_size": 16,
        "ppo_epochs": 1,
        "validate_every": 1,
        "validate_trials": 20,
    }
    runs = (
        campaign_runs.cell("gru", "bandit", 3, 2, k=2, name="short", **tiny),
        campaign_runs.cell("gru", "bandit", 5, 2, k=2, parent="short", name="long", **tiny),
    )
    monkeypatch.setattr(campaign, "CAMPAIGN", runs)
    monkeypatch.setattr(campaign, "CONFIRM_TRIALS", 50)
    campaign.run_campaign(list(runs), lanes=2, minutes=0, log_dir=tmp_path / "logs")  # stopped at once
    assert not campaign.is_done(runs[0]) and not (tmp_path / "runs" / "long").exists()
    campaign.run_campaign(list(runs), lanes=2, minutes=None, log_dir=tmp_path / "logs")
    for run in runs:
        assert campaign.is_done(run), (tmp_path / "logs" / f"{run.name}.log").read_text()
        evaluation = json.loads((run.run_dir / "eval.json").read_text())
        confirmation = json.loads((run.run_dir / "confirm.json").read_text())
        assert (evaluation["seed"], evaluation["num_trials"]) == (0, 1000)
        assert evaluation["played"] == confirmation["played"] == "best.pt"  # written during this campaign's training
        assert (confirmation["seed"], confirmation["num_trials"]) == (campaign.CONFIRM_SEED, 50)
    child = json.loads((tmp_path / "runs" / "long" / "config.json").read_text())
    assert child["init_from"] == str(tmp_path / "runs" / "short" / "best.pt")
    assert child["task"]["num_traj"] == 5 and child["ppo"]["learning_rate"] == pytest.approx(1e-3)  # the recipe's / 3
    assert child["ppo"]["ent_coef"] == 0.0
    assert campaign.steps(runs[1]) == []  # nothing left to do


@pytest.mark.slow
def test_a_run_another_process_trains_holds_a_lane_until_that_process_stops(tmp_path, monkeypatch, capsys):
    """The trainer of a campaign killed alone goes on: a second campaign neither trains that run too
    (its folder's lock, `runs.training_lock`) nor fills the lane it takes; it evaluates the run once the
    lock is released. A second trainer on a locked folder stops with a one-line error."""
    monkeypatch.setenv("RL2LIB_RESULTS", str(tmp_path))
    monkeypatch.setattr(campaign, "POLL_SECONDS", 0.1)
    tiny = {"batch_size": 40, "mini_batch_size": 20, "hidden_size": 8, "ppo_epochs": 1}
    runs = (campaign_runs.Run("first", None), campaign_runs.Run("second", None))  # trained: only their evaluations are left
    for run in runs:
        train(
            config_from_flags(task="bandit", num_actions=2, num_traj=2, metalearn_epochs=1, **tiny), run.run_dir, progress=False
        )
    monkeypatch.setattr(campaign, "CAMPAIGN", runs)
    monkeypatch.setattr(campaign, "CONFIRM_TRIALS", 50)
    held, release = threading.Event(), threading.Event()

    def another_trainer() -> None:
        with training_lock(runs[0].run_dir):
            held.set()
            release.wait(60)

    thread = threading.Thread(target=another_trainer)
    thread.start()
    held.wait(10)
    assert is_training(runs[0].run_dir) and "training now" in campaign.status_line(runs[0])
    with pytest.raises(SystemExit):
        run_cli(["--run_dir", str(runs[0].run_dir), "--resume", "--metalearn_epochs", "2"])
    assert f"is being trained by another process (pid {os.getpid()})" in capsys.readouterr().err
    threading.Timer(1.0, release.set).start()
    campaign.run_campaign(list(runs), lanes=1, minutes=None, log_dir=tmp_path / "logs")
    thread.join()
    events = [line.split("] ", 1)[1] for line in capsys.readouterr().out.splitlines()]
    waited = events.index("first: trained by another process; this campaign takes it over when that stops")
    first = next(i for i, event in enumerate(events) if event.startswith("first: starting"))
    second = next(i for i, event in enumerate(events) if event.startswith("second: starting"))
    assert waited < first < events.index("first: done") < second  # one lane: the locked run held it
    assert all(campaign.is_done(run) for run in runs) and not is_training(runs[0].run_dir)
