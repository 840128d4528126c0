"""The reproduction runner: execute the workbook's notebooks with papermill, one run per table cell.

`python -m rl2lib.reproduce` runs the cells of a profile (`rl2lib/data/profiles.json`: per cell, the
notebook, its parameters and optionally the CPUs/GPUs it needs), locally or as Ray tasks, resuming
after an interruption and retrying failed cells, and keeps each executed notebook under
`results/notebooks/`; `build_parser`'s epilog (`--help`) says how it resumes, seeds, executes and
sets threads.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import os
import sys
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from rl2lib.data import load_profiles
from rl2lib.paths import NOTEBOOKS_DIR, REPO_ROOT, TIMINGS_FILE, results_dir
from rl2lib.report import update_readme

EXECUTORS = ("local", "ray")
RAY_INSTALL_HINT = "the ray executor needs Ray: pip install -e .[cluster]"


class RunnerError(ValueError):
    """Bad runner input; one-line message."""


@dataclass(frozen=True)
class CellJob:
    """Everything a worker needs to execute one cell, with absolute paths (no driver state)."""

    name: str
    notebook: str  # absolute path of the source notebook
    parameters: dict
    results: str  # absolute path of the results folder (RL2LIB_RESULTS for the kernel)
    cpus: int = 1
    gpus: float = 0.0

    @property
    def output(self) -> Path:
        return Path(self.results) / "notebooks" / f"{self.name}.ipynb"

    @property
    def marker(self) -> Path:
        return Path(self.results) / "notebooks" / f"{self.name}.done.json"

    @property
    def timings(self) -> Path:
        """The seconds of every cell run here so far, merged. Not committed: the README's timing table is
        the committed record, and `report.timings_table` keeps its rows for cells absent from this file."""
        return Path(self.results) / "notebooks" / TIMINGS_FILE


def record_timing(job: CellJob) -> None:
    """Merge the finished `job`'s seconds (from its marker) into its results folder's timings file:
    running one cell never drops the others' rows."""
    seconds = json.loads(job.marker.read_text())["seconds"]
    timings = json.loads(job.timings.read_text()) if job.timings.exists() else {}
    timings[job.name] = {"notebook": Path(job.notebook).name, "seconds": seconds}
    tmp = job.timings.with_suffix(".tmp")
    tmp.write_text(json.dumps(dict(sorted(timings.items())), indent=2) + "\n")
    os.replace(tmp, job.timings)


def select_cells(profile: str, only: str | None) -> list[dict]:
    """The profile's cells selected by `only` (all if None): the cell of that exact name if there is
    one (so `03_rl2_bandit_k10_n10` never also runs `03_rl2_bandit_k10_n100`), else every cell whose
    name matches it as a glob or contains it."""
    profiles = load_profiles()
    if profile not in profiles:
        raise RunnerError(f"unknown profile {profile!r}; allowed: {', '.join(profiles)}")
    cells = profiles[profile]
    if only is not None:
        exact = [cell for cell in cells if cell["name"] == only]
        cells = exact or [cell for cell in cells if fnmatch.fnmatch(cell["name"], only) or only in cell["name"]]
        if not cells:
            names = ", ".join(cell["name"] for cell in profiles[profile])
            raise RunnerError(f"no cell of profile {profile!r} matches {only!r}; cells: {names}")
    return cells


def takes_train_seed(notebook: Path) -> bool:
    """Whether the notebook's `parameters` cell declares `train_seed` (the learner notebooks do)."""
    import papermill

    return "train_seed" in papermill.inspect_notebook(str(notebook))


def make_jobs(cells: list[dict], seeds: int = 1) -> list[CellJob]:
    """One job per cell and training seed (seeds apply to notebooks with a `train_seed` parameter)."""
    if seeds < 1:
        raise RunnerError(f"--seeds must be >= 1, got {seeds}")
    results = str(results_dir().resolve())
    jobs = []
    for cell in cells:
        notebook = (NOTEBOOKS_DIR / cell["notebook"]).resolve()
        job = CellJob(
            cell["name"], str(notebook), dict(cell["parameters"]), results, int(cell.get("cpus", 1)), float(cell.get("gpus", 0))
        )
        jobs.append(job)
        if seeds > 1 and takes_train_seed(notebook):
            jobs += [
                replace(job, name=f"{job.name}_seed{s}", parameters={**job.parameters, "train_seed": s}) for s in range(1, seeds)
            ]
    return jobs


KERNEL_ARGUMENTS = ["--log-level=ERROR"]
"""The kernels' own log shows errors only: ipykernel warns at every start that a local TCP kernel is
unencrypted, which says nothing about the cell."""


def strip_root(notebook: Path, root: Path) -> None:
    """Rewrite an executed notebook so that the paths it holds (papermill's input and output paths,
    printed run folders) are relative to `root`: reruns on another machine give the same file."""
    text = notebook.read_text()
    relative = text.replace(str(root) + "/", "").replace(str(root), ".")
    if relative != text:
        tmp = notebook.with_name(notebook.name + ".tmp")
        tmp.write_text(relative)
        os.replace(tmp, notebook)


def execute_notebook(
    notebook: Path, output: Path, parameters: dict, results: str, cpus: int = 1, kernel_name: str = "python3"
) -> float:
    """Execute `notebook` with `parameters` into `output` (repository-relative paths), its kernel given the
    results folder and `cpus` torch threads. Returns the seconds taken; papermill's errors propagate."""
    import papermill

    output.parent.mkdir(parents=True, exist_ok=True)
    threads = str(max(1, cpus))
    kernel_env = {"RL2LIB_RESULTS": results, "OMP_NUM_THREADS": threads, "MKL_NUM_THREADS": threads}
    saved = {key: os.environ.get(key) for key in kernel_env}
    os.environ.update(kernel_env)  # the kernel is a child process: it inherits this environment
    started = time.perf_counter()
    try:
        papermill.execute_notebook(
            str(notebook),
            str(output),
            parameters=parameters,
            kernel_name=kernel_name,
            progress_bar=False,
            cwd=str(Path(notebook).parent),
            extra_arguments=KERNEL_ARGUMENTS,
        )
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    seconds = round(time.perf_counter() - started, 1)
    strip_root(output, REPO_ROOT)
    return seconds


def execute_job(job: CellJob, kernel_name: str = "python3") -> float:
    """Execute one cell's notebook (in whatever process runs this); write its executed copy and its
    done marker. Returns the seconds taken."""
    seconds = execute_notebook(Path(job.notebook), job.output, job.parameters, job.results, job.cpus, kernel_name)
    tmp = job.marker.with_suffix(".tmp")
    tmp.write_text(json.dumps({"cell": asdict(job), "seconds": seconds}, indent=2) + "\n")
    os.replace(tmp, job.marker)
    return seconds


def one_line(error: BaseException) -> str:
    """A failure as one line: the exception's type and the last line of its message."""
    lines = str(error).strip().splitlines()
    return f"{type(error).__name__}: {lines[-1] if lines else ''}"[:300]


class LocalExecutor:
    """Cells in this process (jobs = 1: each runs when the driver waits for it, so the progress bar
    moves as each ends) or in a pool of `jobs` worker processes."""

    def __init__(self, jobs: int = 1):
        if jobs < 1:
            raise RunnerError(f"--jobs must be >= 1, got {jobs}")
        self.pool, self.jobs = None, jobs
        if jobs > 1:
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor

            self.pool = ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("spawn"))

    def submit(self, job: CellJob):
        if self.pool is not None:  # share the cores: no more threads in all than there are cores
            threads = min(job.cpus, max(1, (os.cpu_count() or 1) // self.jobs))
            return self.pool.submit(execute_job, replace(job, cpus=threads))
        from concurrent.futures import Future

        future = Future()
        future.job = job  # run by wait_one
        return future

    def wait_one(self, pending: list):
        """(a finished handle, its error or None)."""
        from concurrent.futures import FIRST_COMPLETED, wait

        if self.pool is None:
            future = pending[0]
            try:
                future.set_result(execute_job(future.job))
            except Exception as error:  # reported by the driver
                future.set_exception(error)
            return future, future.exception()
        done, _ = wait(pending, return_when=FIRST_COMPLETED)
        handle = next(iter(done))
        return handle, handle.exception()

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(cancel_futures=True)


class RayExecutor:
    """Each cell a Ray task declaring `num_cpus` / `num_gpus`; Ray also re-runs a task whose worker died."""

    def __init__(self, address: str | None = None, num_cpus: int | None = None):
        try:
            import ray
        except ImportError:
            raise RunnerError(RAY_INSTALL_HINT) from None
        self.ray = ray
        self.started_here = not ray.is_initialized()
        if self.started_here:
            # a local instance: cells return a number, so a small object store is plenty
            options = (
                {"address": address}
                if address
                else {"num_cpus": num_cpus, "include_dashboard": False, "object_store_memory": 256 * 1024**2}
            )
            ray.init(log_to_driver=False, **options)
        self.remote = ray.remote(execute_job)

    def submit(self, job: CellJob):
        return self.remote.options(num_cpus=job.cpus, num_gpus=job.gpus, max_retries=1).remote(job)

    def wait_one(self, pending: list):
        [handle], _ = self.ray.wait(pending, num_returns=1)
        try:
            self.ray.get(handle)
            return handle, None
        except Exception as error:  # RayTaskError wraps the cell's own error
            return handle, getattr(error, "cause", None) or error

    def close(self) -> None:
        if self.started_here:
            self.ray.shutdown()


def make_executor(name: str, jobs: int = 1, address: str | None = None):
    if name not in EXECUTORS:
        raise RunnerError(f"unknown executor {name!r}; allowed: {', '.join(EXECUTORS)}")
    if name == "local":
        if address is not None:
            raise RunnerError("--address is for --executor ray")
        return LocalExecutor(jobs)
    return RayExecutor(address, num_cpus=None if address else max(jobs, 1))


def run_jobs(jobs: list[CellJob], executor, force: bool = False, retries: int = 1) -> list[tuple[str, str]]:
    """Run the jobs not yet done through `executor`, retrying each failure up to `retries` times.

    Returns the failures as (cell name, one-line reason); finished cells keep their files whatever
    happens to the others.
    """
    from tqdm.auto import tqdm

    if retries < 0:
        raise RunnerError(f"--retries must be >= 0, got {retries}")
    todo = [job for job in jobs if force or not job.marker.exists()]
    for job in todo:
        job.marker.unlink(missing_ok=True)
    bar = tqdm(total=len(jobs), initial=len(jobs) - len(todo), desc="reproduce", unit="cell")
    attempts, failures, pending = {}, [], {}
    try:
        for job in todo:
            pending[executor.submit(job)] = job
            attempts[job.name] = 1
        while pending:
            handle, error = executor.wait_one(list(pending))
            job = pending.pop(handle)
            if error is None:
                record_timing(job)
                bar.update()
                bar.set_postfix_str(job.name)
            elif attempts[job.name] <= retries:
                attempts[job.name] += 1
                pending[executor.submit(job)] = job
            else:
                failures.append((job.name, f"{one_line(error)} (after {attempts[job.name]} attempts)"))
                bar.update()
    finally:
        bar.close()
    order = [job.name for job in jobs]
    return sorted(failures, key=lambda failure: order.index(failure[0]))


def run(
    profile: str = "quick",
    only: str | None = None,
    force: bool = False,
    seeds: int = 1,
    executor: str = "local",
    jobs: int = 1,
    address: str | None = None,
    retries: int = 1,
) -> list[tuple[str, str]]:
    """Run the selected cells of `profile`; returns the failures as (cell name, one-line reason)."""
    cell_jobs = make_jobs(select_cells(profile, only), seeds)
    runner = make_executor(executor, jobs, address)
    try:
        return run_jobs(cell_jobs, runner, force, retries)
    finally:
        runner.close()


EPILOG = """\
- A cell whose done marker exists is skipped unless --force, so an interrupted run resumes where it
  stopped; a failing cell is retried up to --retries times, then reported while the others go on;
  the exit code is non-zero if any cell failed.
- --seeds N runs every cell whose notebook has a `train_seed` parameter (the learner notebooks)
  once per training seed 0..N-1; seed s > 0 is the cell `<name>_seed<s>` and trains the run
  `<run>_seed<s>`. The tables then report the mean over seeds.
- Executors: `local` runs --jobs cells at a time in worker processes (one at a time in this process
  when --jobs is 1); `ray` submits each cell as a Ray task declaring its CPUs and GPUs, to a local
  Ray instance or to the cluster at --address. Both write the same files: a cell gets the results
  folder's absolute path, so Ray workers must see this repository's filesystem (one machine, or a
  cluster sharing it, e.g. over NFS).
- Each cell runs its kernel with as many torch threads as the CPUs it declares (`cpus`, default 1):
  on a shared machine, more threads than cores slow everything down.
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m rl2lib.reproduce",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Regenerate results/ by executing the notebooks with papermill.",
    )
    add = parser.add_argument
    add("--profile", default="quick", help="quick (default; reduced budgets) or paper (full budgets)")
    add(
        "--only",
        default=None,
        help="run only the cell of this name, or else the cells whose name matches this glob or contains it",
    )
    add("--seeds", type=int, default=1, help="training seeds per learner cell (default 1: seed 0)")
    add("--executor", default="local", help="local (default) or ray")
    add(
        "--address",
        default=None,
        help="with --executor ray: an existing cluster (e.g. ray://head:10001 or auto); default: start a local Ray instance",
    )
    add(
        "--jobs",
        type=int,
        default=1,
        help="cells at a time (local executor; default 1); with a local Ray instance, the CPUs it gets",
    )
    add("--retries", type=int, default=1, help="re-runs of a failed cell before it is reported (default 1)")
    add("--force", action="store_true", help="re-run cells that already completed")
    add("--list", action="store_true", help="list the profile's cells and exit")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.list:
            for job in make_jobs(select_cells(args.profile, args.only), args.seeds):
                status = "done" if job.marker.exists() else "todo"
                print(f"{job.name:40s} {status}  {Path(job.notebook).name} {json.dumps(job.parameters)}")
            return 0
        failures = run(args.profile, args.only, args.force, args.seeds, args.executor, args.jobs, args.address, args.retries)
    except RunnerError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    updated = update_readme()
    print(f"results in {results_dir()}; README blocks updated: {', '.join(updated) or 'none'}")
    if failures:
        print(f"{len(failures)} cell(s) failed:", file=sys.stderr)
        for name, reason in failures:
            print(f"  {name}: {reason}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
