"""The thread policy: OpenMP threads that sleep while they wait for work, set before torch loads.

torch runs its CPU operations on an OpenMP thread pool (libgomp in the PyPI wheels, which MKL
shares). By default an idle OpenMP thread spins for a while before it sleeps, which is harmless on
an idle machine and ruinous on a shared one: two processes of two threads each on two cores spend
their time slices spinning against each other (a baseline notebook cell went from 143 s alone to
1,245 s beside one training run). `OMP_WAIT_POLICY=PASSIVE` makes waiting threads sleep; it changes
no arithmetic, so results stay bit-identical. libgomp reads it once, when torch is imported, so
`rl2lib/__init__.py` applies it on import of the package, before any module imports torch; the
trainer, the evaluation CLI, the campaign's runs and the notebook kernels (which import rl2lib first)
all get it, and their child processes inherit it. A value the user exported is kept.
"""
from __future__ import annotations

import os

WAIT_POLICY = "PASSIVE"


def apply_wait_policy() -> None:
    """Set OMP_WAIT_POLICY=PASSIVE in this process's environment unless it is set already."""
    os.environ.setdefault("OMP_WAIT_POLICY", WAIT_POLICY)
