"""The thread policy: OpenMP threads that spin briefly, then sleep, while they wait for work.

torch runs its CPU operations on an OpenMP thread pool (libgomp in the PyPI wheels, which MKL
shares). By default an idle libgomp thread spins for 300,000 rounds before it sleeps: harmless on an
idle machine, ruinous on a shared one, where two processes of two threads each on two cores spend
their time slices spinning against each other (a baseline notebook cell went from 143 s alone to
1,245 s beside one training run). Sleeping at once (`OMP_WAIT_POLICY=PASSIVE`) cures that, but
slows small operations on an idle machine, each waking its threads anew; a short spin
(`GOMP_SPINCOUNT=1000`) before sleeping keeps most of both (README, "Threads"). Neither changes any
arithmetic. libgomp reads them once, when torch is imported, so `rl2lib/__init__.py` sets them on
import of the package, before any module imports torch: the trainer, the evaluation CLI, the
campaign's runs and the notebook kernels (which import rl2lib first) get them, and so do their child
processes. A policy the user exported (either variable) is left as it is.
"""

from __future__ import annotations

import os

WAIT_POLICY = {"OMP_WAIT_POLICY": "PASSIVE", "GOMP_SPINCOUNT": "1000"}


def apply_wait_policy() -> None:
    """Set `WAIT_POLICY` in this process's environment unless the user set a wait policy already."""
    if not any(name in os.environ for name in WAIT_POLICY):
        os.environ.update(WAIT_POLICY)
