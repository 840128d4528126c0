"""What every training loop does after an update, written once for `rl2lib.train.train` (RL^2 and
SNAIL) and `rl2lib.maml_train.train_maml`: the metrics row appended to metrics.csv, best.pt when the
validation return is the best so far, the progress (a bar on a terminal or in a notebook, else a
plain line every `PROGRESS_EVERY` updates and at each validation), the periodic checkpoint, and the
files of a run that had nothing left to do. The loops own their models, optimisers and checkpoints'
contents; this module only says when to write them.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from tqdm.auto import tqdm

from rl2lib.runs import BEST_FILE, CHECKPOINT_FILE, METRICS_FILE, append_metrics

PROGRESS_EVERY = 10
"""Off a terminal, a training loop prints a plain line every this many updates, and at each validation."""


def interactive() -> bool:
    """Whether progress can be a live bar: a terminal, or a notebook kernel (tqdm's widget)."""
    return sys.stderr.isatty() or "ipykernel" in sys.modules


def progress_line(row: dict, num_updates: int, steps_per_second: float) -> str:
    """One log line of an update: 'update 20/300  30,500,000 steps  return 401.09  validation 402.89 +- 2.71  21,034 steps/s'."""
    validation = (
        f"  validation {row['validation_return']:.2f} +- {row['validation_se']:.2f}" if "validation_return" in row else ""
    )
    return (
        f"update {row['update']}/{num_updates}  {row['env_steps']:,} steps  return {row['mean_trial_return']:.2f}"
        f"{validation}  {steps_per_second:,.0f} steps/s"
    )


class UpdateLog:
    """The updates `start` .. `end` - 1 of a run of `total`, and what happens after each (`record`).

    Args:
        history: the rows so far (a resumed run's), appended to in place.
        best_validation: the best validation return so far (-inf for none).
        wall_offset: the seconds the run had taken before this call (a resumed run's, or a parent's).
        save: `save(update, path)` writes the loop's checkpoint; it reads `best_validation` from here.
    """

    def __init__(
        self,
        run_dir: Path,
        *,
        total: int,
        start: int,
        end: int,
        checkpoint_every: int,
        steps_per_update: int,
        history: list[dict],
        best_validation: float,
        wall_offset: float,
        fields: tuple[str, ...],
        save: Callable[[int, Path], None],
        progress: bool,
        desc: str,
    ):
        self.run_dir, self.total, self.start, self.end = run_dir, total, start, end
        self.checkpoint_every, self.steps_per_update, self.fields, self.save = checkpoint_every, steps_per_update, fields, save
        self.history, self.best_validation, self.wall_offset = history, best_validation, wall_offset
        self.lines = progress and not interactive()
        self.started = time.perf_counter()
        self.bar = tqdm(range(start, end), initial=start, total=total, disable=not progress or self.lines, desc=desc)

    def __iter__(self) -> Iterator[int]:
        return iter(self.bar)

    def wall(self) -> float:
        """The run's wall seconds so far, counting what it took before this call."""
        return self.wall_offset + time.perf_counter() - self.started

    def record(self, row: dict) -> None:
        """After update `row['update']` (1-based): its metrics row, best.pt, progress, and the checkpoint."""
        update = row["update"]
        self.history.append(row)
        append_metrics(self.run_dir / METRICS_FILE, row, self.fields)
        if "validation_return" in row and row["validation_return"] > self.best_validation:
            self.best_validation = row["validation_return"]
            self.save(update, self.run_dir / BEST_FILE)
        steps_per_second = self.steps_per_update * (update - self.start) / max(row["wall_seconds"] - self.wall_offset, 1e-9)
        self.bar.set_postfix(ret=f"{row['mean_trial_return']:.2f}", sps=f"{steps_per_second:,.0f}")
        if self.lines and ("validation_return" in row or update % PROGRESS_EVERY == 0 or update == self.end):
            print(progress_line(row, self.total, steps_per_second), flush=True)
        if update % self.checkpoint_every == 0 or update == self.end:
            self.save(update, self.run_dir / CHECKPOINT_FILE)

    def close(self) -> None:
        """End the progress bar; a run with nothing left to do still gets its checkpoint written."""
        self.bar.close()
        if self.start >= self.end:
            self.save(self.start, self.run_dir / CHECKPOINT_FILE)
