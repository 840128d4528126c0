"""The learner campaign's turn on a lent GPU machine, in three steps around one call of the device
tool, which sends the working tree (at most 64 MiB) and brings back at most 8 files of 16 MiB from
its out folder. `slim`, here before the call, chooses the turn's runs (unless named, the campaign's
costliest per step that can start now) and sets aside every run folder they do not need
(`results/runs/` holds far more than 64 MiB), keeping each chosen run's folder and, for a run not yet
started, its parent's `best.pt`. `train`, on the GPU machine, trains those runs side by side on
CUDA (`rl2-train --resume`, one process each) until a deadline, benches the CUDA rows of the long
trials, and packs each run folder into one tar file in the out folder.
`restore`, here after the call, puts the set-aside folders back and unpacks the returned runs; the
CPU campaign then evaluates and confirms them on the usual tasks, and resumes any unfinished one
(checkpoints written on CUDA resume on a CPU, `rl2lib.train.restore_generator`). Nothing here
computes: training and benching are `rl2lib.train` and `rl2lib.bench`, run as subprocesses.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tarfile
import time
from pathlib import Path

from rl2lib import campaign, campaign_runs
from rl2lib.config import TaskConfig
from rl2lib.paths import REPO_ROOT, results_dir
from rl2lib.runs import BEST_FILE, CHECKPOINT_FILE, LOCK_FILE, trained_updates

TURN_RUNS = 3
"""How many runs a turn trains when none is named (`default_runs`)."""
TURN_FILE = "gpu_turn.txt"
"""In `results/` from `slim` to `restore`: the names of the turn's runs, which `train` reads when none
is named (on the slimmed tree a run's parent no longer shows as done)."""
TREE_LIMIT_MIB = 64
RETURN_LIMIT_FILES, RETURN_LIMIT_MIB = 8, 16
ASIDE_DIR = ".runs_aside"
"""Beside `results/` (ignored by git): the run folders `slim` set aside, moved back by `restore`."""
BENCH = ["--settings", "bandit_n500_k50,mdp_n50", "--sizes", "recipe", "--naive_trials", "0"]
"""The bench rows of a GPU turn (`rl2lib.bench`): the recipe's networks on long trials, both precisions."""


def runs_dir() -> Path:
    return results_dir() / "runs"


def aside_dir() -> Path:
    return results_dir().parent / ASIDE_DIR


def turn_file() -> Path:
    return results_dir() / TURN_FILE


def step_cost(run: campaign_runs.Run) -> tuple[bool, int]:
    """A sort key for how dear an environment step of `run` is: SNAIL above the GRU (its causal
    attention reads the whole trial, [2] Sec. 3), then the trial's length T in steps."""
    flags = run.flags
    task = TaskConfig(task=flags["task"], num_actions=flags["num_actions"], num_traj=flags["num_traj"])
    return flags["model_type"] == "snail", task.trial_len


def default_runs(count: int = TURN_RUNS) -> list[campaign_runs.Run]:
    """The turn's runs when none is named: of the runs the default campaign trains, the `count` that can
    start now (not done, parent ready) and cost the most per step (`step_cost`; campaign order among equals)."""
    ready = [
        run for run in campaign.select(None) if run.flags is not None and not campaign.is_done(run) and campaign.parent_ready(run)
    ]
    return sorted(ready, key=step_cost, reverse=True)[:count]


def turn_runs() -> list[campaign_runs.Run]:
    """The runs `slim` chose, from `turn_file()`."""
    if not turn_file().exists():
        raise SystemExit(f"error: no runs named and no {turn_file()}: name the runs, or run `slim` here first")
    return campaign.select(turn_file().read_text().split())


def needed_files(runs: list[campaign_runs.Run]) -> dict[str, set[str] | None]:
    """Run folder -> the files of it a GPU turn needs (None: the whole folder): each chosen run's
    folder, and the policy of the parent of a run that has no checkpoint yet."""
    needed: dict[str, set[str] | None] = {run.name: None for run in runs}
    for run in runs:
        if run.parent is not None and not (run.run_dir / CHECKPOINT_FILE).exists():
            needed.setdefault(run.parent, {BEST_FILE})
    return needed


def slim(runs: list[campaign_runs.Run]) -> None:
    """Move every run folder but the needed ones (`needed_files`) into `aside_dir()`; a parent
    folder stays with its policy file alone (copied back)."""
    aside = aside_dir()
    if aside.exists():
        raise SystemExit(f"error: {aside} exists: an earlier slim was not restored; run `restore` first")
    needed = needed_files(runs)
    for run in runs:
        if not (run.run_dir / CHECKPOINT_FILE).exists() and not campaign.parent_ready(run):
            raise SystemExit(f"error: {run.name} waits for its parent {run.parent}, not yet done; choose other runs")
    aside.mkdir()
    turn_file().write_text("".join(f"{run.name}\n" for run in runs))
    for folder in sorted(p for p in runs_dir().iterdir() if p.is_dir()):
        files = needed.get(folder.name, set())
        if files is None:
            continue
        shutil.move(folder, aside / folder.name)
        if files:
            folder.mkdir()
            for name in files:
                shutil.copy2(aside / folder.name / name, folder / name)
    size = travelling_mib()
    print(f"set aside {len(list(aside.iterdir()))} run folders in {aside}; the tree that travels: {size:.1f} MiB")
    print(f"the turn's runs ({turn_file()}): {', '.join(run.name for run in runs)}")
    if size > TREE_LIMIT_MIB:
        print(f"warning: over the device tool's {TREE_LIMIT_MIB} MiB: choose fewer runs (`restore` undoes this)")


def travelling_mib() -> float:
    """MiB of what the device tool sends: the tracked files present, and the untracked ones git does not ignore."""
    listing = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO_ROOT,
        capture_output=True,
        check=True,
    ).stdout.split(b"\0")
    paths = [REPO_ROOT / os.fsdecode(name) for name in listing if name]
    return sum(path.stat().st_size for path in paths if path.is_file()) / 2**20


def restore(returned: Path | None) -> None:
    """Unpack the run folders the GPU turn returned (`<run>.tar` in `returned`) over the slimmed ones,
    then move the set-aside folders back (a parent kept for its policy file alone is replaced)."""
    aside = aside_dir()
    turn_file().unlink(missing_ok=True)
    for archive in sorted(returned.glob("*.tar")) if returned is not None else []:
        with tarfile.open(archive) as tar:
            names = tar.getnames()
            if not names or any(Path(name).parts[0] != archive.stem or ".." in Path(name).parts for name in names):
                raise SystemExit(f"error: {archive} holds files outside a folder named {archive.stem}; not unpacked")
            target = runs_dir() / archive.stem
            if target.exists():
                shutil.rmtree(target)
            tar.extractall(runs_dir(), filter="data")
        print(f"unpacked {archive.name}: {archive.stem} at {trained_updates(runs_dir() / archive.stem)} updates")
    if not aside.exists():
        return
    for folder in sorted(aside.iterdir()):
        target = runs_dir() / folder.name
        if target.exists():
            shutil.rmtree(target)  # a parent's policy file alone, copied from this folder
        shutil.move(folder, target)
    aside.rmdir()
    print(f"moved the set-aside run folders back from {aside}")


def train_on_gpu(runs: list[campaign_runs.Run], minutes: float, out: Path, device: str, bench: bool = True) -> None:
    """Train `runs` side by side on `device` for `minutes`, then stop them (each resumes from its last
    checkpoint), pack each run folder into `out/<run>.tar` (the trainers' logs into `out/train.log`),
    and bench the device's rows (`BENCH`) into `out/bench_<device>.json`, last, so that a bench cut
    off by the call's time limit loses no training."""
    if len(runs) > RETURN_LIMIT_FILES - 2:
        raise SystemExit(f"error: at most {RETURN_LIMIT_FILES - 2} runs per turn (the tool returns {RETURN_LIMIT_FILES} files)")
    out.mkdir(parents=True, exist_ok=True)
    logs = out / "logs"
    logs.mkdir(exist_ok=True)
    before = {run.name: trained_updates(run.run_dir) for run in runs}
    python = [sys.executable, "-m"]
    processes = {
        run.name: campaign.start(
            python + ["rl2lib.train", *run.train_argv(), "--device", device], dict(os.environ), logs / f"{run.name}.log"
        )
        for run in runs
        if not campaign.is_trained(run)
    }
    deadline = time.monotonic() + 60 * minutes
    while any(p.poll() is None for p in processes.values()) and time.monotonic() < deadline:
        time.sleep(campaign.POLL_SECONDS)
    for process in processes.values():
        if process.poll() is None:
            process.terminate()
    for process in processes.values():
        process.wait()
    with open(out / "train.log", "w") as combined:
        for log in sorted(logs.iterdir()):
            combined.write(f"==> {log.name}\n{log.read_text()}\n")
    shutil.rmtree(logs)
    for run in runs:
        with tarfile.open(out / f"{run.name}.tar", "w") as tar:
            for path in sorted(run.run_dir.iterdir()):
                if path.is_file() and path.name != LOCK_FILE:
                    tar.add(path, arcname=f"{run.name}/{path.name}")
        size = (out / f"{run.name}.tar").stat().st_size / 2**20
        warning = f" (over the tool's {RETURN_LIMIT_MIB} MiB: it will not come back)" if size > RETURN_LIMIT_MIB else ""
        print(f"{run.name}: updates {before[run.name]} -> {trained_updates(run.run_dir)}, {size:.1f} MiB{warning}", flush=True)
    if bench:
        command = python + ["rl2lib.bench", "--devices", device, *BENCH, "--out_dir", str(out)]
        subprocess.run(command, cwd=REPO_ROOT, check=False)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m rl2lib.gpu_campaign", description="The learner campaign's turn on a lent GPU machine."
    )
    steps = parser.add_subparsers(dest="step", required=True)
    for name, help_text, default in (
        (
            "slim",
            "here, before the device call: set aside the run folders the chosen runs do not need",
            f"the {TURN_RUNS} costliest per step that can start now",
        ),
        (
            "train",
            "on the GPU machine: train the chosen runs until the deadline, bench, pack them into --out",
            f"those slim chose, from results/{TURN_FILE}",
        ),
    ):
        step = steps.add_parser(name, help=help_text)
        step.add_argument("runs", nargs="*", help=f"campaign runs (default: {default})")
        if name == "train":
            step.add_argument("--minutes", type=float, required=True, help="training time before the bench and packing")
            step.add_argument("--out", type=Path, required=True, help="the folder the device tool returns ($OUT)")
            step.add_argument("--device", default="cuda", help="cuda (default), or cpu to try the step here")
            step.add_argument("--no_bench", action="store_true", help="skip the bench rows")
    step = steps.add_parser("restore", help="here, after the device call: unpack the returned runs, move the rest back")
    step.add_argument("returned", nargs="?", type=Path, default=None, help="the folder of the returned <run>.tar files")
    return parser


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    if args.step == "restore":
        restore(args.returned)
        return
    if args.step == "slim":
        slim(campaign.select(args.runs) if args.runs else default_runs())
    else:
        runs = campaign.select(args.runs) if args.runs else turn_runs()
        if args.minutes <= 0:
            raise SystemExit(f"error: --minutes must be > 0, got {args.minutes}")
        train_on_gpu(runs, args.minutes, args.out, args.device, bench=not args.no_bench)


if __name__ == "__main__":
    main()
