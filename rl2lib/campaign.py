"""The learner campaign's runner: it trains the runs that fill the learner cells of [1] Tables 1-2 and [2] Tables
3-4 (`rl2lib.campaign_runs.CAMPAIGN`, in its order) two at a time (one torch thread each) until each is done, then
evaluates each on 1000 tasks of seed 0 (`eval.json`) and confirms it on 10,000 tasks of another seed
(`confirm.json`). A run whose parent (`--init_from`, another trial length or an earlier phase) is not yet done waits for
it, and the runs that stalled or lost on validation (`SHELVED`) and those below them train only when named. Every
run trains with `--resume`, so the campaign can be stopped at any time (`--minutes`, Ctrl-C, `kill`) and started
again, on another machine too, from the committed checkpoints; a run that another process still trains (the
trainer of a campaign killed alone) holds a lane until it stops, and is then resumed or evaluated. Nothing here
computes: training and evaluation are the `rl2-train` and `rl2lib.evaluate` commands, run as subprocesses.
References: [1] Duan et al. 2016, "RL^2"; [2] Mishra et al. 2018, "SNAIL".
"""

from __future__ import annotations

import argparse
import difflib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from rl2lib.campaign_runs import CAMPAIGN, SHELVED, Run
from rl2lib.cli import print_output
from rl2lib.paths import REPO_ROOT, portable_path, results_dir
from rl2lib.runs import CONFIRM_FILE, EVAL_FILE, agent_path, is_training, trained_updates

CONFIRM_SEED = 2_000_003
"""Seed of the confirming evaluation on 10,000 tasks: never the evaluation seed 0, the validation
seed (`train.VALIDATION_SEED`) or the baselines' small tuning seeds."""
CONFIRM_TRIALS = 10_000
POLL_SECONDS = 5.0
"""How often the campaign looks at its runs."""


def planned_updates(run: Run) -> int:
    return trained_updates(run.run_dir) if run.flags is None else run.flags["metalearn_epochs"]


def is_trained(run: Run) -> bool:
    return run.flags is None or trained_updates(run.run_dir) >= run.flags["metalearn_epochs"]


def is_evaluated(run: Run) -> bool:
    return (run.run_dir / EVAL_FILE).exists() and (run.run_dir / CONFIRM_FILE).exists()


def is_done(run: Run) -> bool:
    return is_trained(run) and is_evaluated(run)


def evaluate_argv(run: Run, num_trials: int, seed: int, file: str) -> list[str]:
    return [
        "--agent",
        portable_path(run.run_dir),  # the evaluation looks up best.pt when it starts, after the training
        "--num_trials",
        str(num_trials),
        "--seed",
        str(seed),
        "--json",
        portable_path(run.run_dir / file),
    ]


def steps(run: Run) -> list[list[str]]:
    """The commands still to run for `run`, in order: training (resumed), evaluation, confirmation."""
    python = [sys.executable, "-m"]
    commands = [] if is_trained(run) else [python + ["rl2lib.train"] + run.train_argv()]
    if not (run.run_dir / EVAL_FILE).exists() or commands:
        commands.append(python + ["rl2lib.evaluate"] + evaluate_argv(run, 1000, 0, EVAL_FILE))
    if not (run.run_dir / CONFIRM_FILE).exists() or commands:
        commands.append(python + ["rl2lib.evaluate"] + evaluate_argv(run, CONFIRM_TRIALS, CONFIRM_SEED, CONFIRM_FILE))
    return commands


def campaign_run(name: str | None) -> Run | None:
    """The campaign's run called `name`; None for none (a committed run outside the campaign, or no parent)."""
    return next((run for run in CAMPAIGN if run.name == name), None)


def shelved(run: Run) -> str | None:
    """Why the default campaign passes over `run`: its `SHELVED` reason, or the shelved run above it (but
    one `evaluated_where_stopped`); None if it trains it."""
    if run.name in SHELVED:
        return SHELVED[run.name]
    parent = campaign_run(run.parent)
    if parent is None or evaluated_where_stopped(parent) or shelved(parent) is None:
        return None
    return f"below {parent.name}, which is shelved" if parent.name in SHELVED else shelved(parent)


def unknown_run_text(name: str) -> str:
    """What to say of `name`, not a campaign run: it, and the closest run names if any are close."""
    close = difflib.get_close_matches(name, [run.name for run in CAMPAIGN], n=3, cutoff=0.75)
    return f"{name!r} is not a campaign run" + (f" (did you mean {' or '.join(map(repr, close))}?)" if close else "")


def select(names: list[str] | None, everything: bool = False) -> list[Run]:
    """The campaign runs named, in the order given; none named: the campaign's, less those shelved
    (a shelved run another process still trains stays, to hold its lane; `everything`: all of them)."""
    if not names:
        return [run for run in CAMPAIGN if everything or shelved(run) is None or is_training(run.run_dir)]
    unknown = [name for name in names if campaign_run(name) is None]
    if unknown:
        said = "; ".join(unknown_run_text(name) for name in unknown)
        raise SystemExit(f"error: {said}; `python -m rl2lib.campaign --list` lists all {len(CAMPAIGN)}")
    return [campaign_run(name) for name in names]


def status_line(run: Run) -> str:
    """`run`'s name and state: done, waiting for its parent, or its updates so far, training now or shelved and why."""
    progress, why = f"{trained_updates(run.run_dir)}/{planned_updates(run)} updates", shelved(run)
    if is_done(run):
        state = "done"
    elif is_training(run.run_dir):
        state = f"{progress}, training now"
    elif why is not None:
        state = f"{progress}, shelved: {why}"
    elif not parent_ready(run):
        state = f"waits for {run.parent}"
    else:
        state = progress
    return f"{run.name:32s} {state}"


def evaluated_where_stopped(run: Run) -> bool:
    """A shelved run evaluated and confirmed at the checkpoint it stopped at (it fills its cell there): its
    children start from its best policy, as from a finished run's."""
    return run.name in SHELVED and is_evaluated(run)


def parent_ready(run: Run) -> bool:
    """A run may start once its parent is done or `evaluated_where_stopped` (a parent outside the campaign, such
    as an imitation, `rl2lib.imitate`, must hold a policy and no process may be training it)."""
    if run.parent is None:
        return True
    parent = campaign_run(run.parent)
    if parent is None:
        parent_dir = results_dir() / "runs" / run.parent
        return agent_path(parent_dir).exists() and not is_training(parent_dir)
    return is_done(parent) or evaluated_where_stopped(parent)


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def run_campaign(runs: list[Run], lanes: int, minutes: float | None, log_dir: Path) -> None:
    """Keep up to `lanes` runs going until every run is done or `minutes` have passed (then stop
    the children; their last checkpoints stand and the next campaign resumes them)."""
    deadline = None if minutes is None else time.monotonic() + 60 * minutes
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    pending = [run for run in runs if not is_done(run)]
    active: dict[str, tuple[subprocess.Popen, list[list[str]]]] = {}
    elsewhere: dict[str, Run] = {}  # trained by another process (an earlier campaign's trainer): a lane each
    log_dir.mkdir(parents=True, exist_ok=True)
    try:
        while pending or active or elsewhere:
            for name, run in list(elsewhere.items()):
                if not is_training(run.run_dir):
                    del elsewhere[name]
                    pending.insert(0, run)  # its other process stopped: resume or evaluate it next
            for name, (process, queue) in list(active.items()):
                code = process.poll()
                if code is None:
                    continue
                if code != 0:
                    log(f"{name}: {queue[0][2]} exited {code}; see {log_dir / (name + '.log')}; skipped this time")
                    del active[name]
                    continue
                queue.pop(0)
                if queue:
                    active[name] = (start(queue[0], env, log_dir / f"{name}.log"), queue)
                else:
                    log(f"{name}: done")
                    del active[name]
            for run in list(pending):
                if len(active) + len(elsewhere) >= lanes:
                    break
                if run.name in active or not parent_ready(run):
                    continue
                pending.remove(run)
                if is_training(run.run_dir):
                    log(f"{run.name}: trained by another process; this campaign takes it over when that stops")
                    elsewhere[run.name] = run
                    continue
                queue = steps(run)
                if not queue:
                    continue
                log(
                    f"{run.name}: starting ({trained_updates(run.run_dir)}/{planned_updates(run)} updates); "
                    f"log {log_dir / (run.name + '.log')}"
                )
                active[run.name] = (start(queue[0], env, log_dir / f"{run.name}.log"), queue)
            if not active and not elsewhere and pending and not any(parent_ready(run) for run in pending):
                log("the remaining runs wait for parents that did not finish: " + ", ".join(r.name for r in pending))
                break
            if deadline is not None and time.monotonic() > deadline:
                log(f"{minutes} minutes are up: stopping; the checkpoints stand and the next campaign resumes")
                break
            time.sleep(POLL_SECONDS)
    finally:  # SIGTERM: a background job ignores SIGINT; a run killed between checkpoints resumes from its last
        for name, (process, _) in active.items():
            if process.poll() is None:
                process.terminate()
        for name, (process, _) in active.items():
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()


def start(command: list[str], env: dict, log_path: Path) -> subprocess.Popen:
    with open(log_path, "a") as handle:
        handle.write(f"$ {' '.join(command[1:])}\n")
        handle.flush()
        return subprocess.Popen(command, cwd=REPO_ROOT, env=env, stdout=handle, stderr=subprocess.STDOUT)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m rl2lib.campaign", description="Train the learner campaign's runs, resuming whatever was cut off."
    )
    parser.add_argument(
        "runs", nargs="*", help="campaign runs to work on (default: all, in order, less those shelved; --list shows why)"
    )
    parser.add_argument("--lanes", type=int, default=2, help="runs at a time, one torch thread each (default 2)")
    parser.add_argument("--minutes", type=float, default=None, help="stop after this many minutes (default: never)")
    parser.add_argument("--list", action="store_true", help="print each run's state and command, and exit")
    parser.add_argument("--log_dir", type=Path, default=Path("campaign_logs"), help="one log per run (default campaign_logs/)")
    return parser


def main(argv: list[str] | None = None) -> None:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.lanes < 1:
        parser.error(f"--lanes must be >= 1, got {args.lanes}")
    runs = select(args.runs, everything=args.list)
    if args.list:
        lines = [
            status_line(run) + ("" if run.flags is None else f"\n    rl2-train {' '.join(run.train_argv())}") for run in runs
        ]
        print_output("\n".join(lines))
        return
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # `kill` stops the children too
    signal.signal(signal.SIGINT, signal.default_int_handler)  # also when started in the background
    try:
        run_campaign(runs, args.lanes, args.minutes, args.log_dir)
    except KeyboardInterrupt:
        log("interrupted: the checkpoints stand and the next campaign resumes")


if __name__ == "__main__":
    main()
