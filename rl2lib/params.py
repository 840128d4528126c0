"""Checked parameters: the notebooks' `parameters` cells and the baselines' hyper-parameters.

A value is checked against a type (bool, int, float or str) and, where it has one, a range: an
`Interval` of numbers or a `Choice` of names. Types are strict: a bool must be True or False (papermill
passes `-p save_figures no` as the string "no", which Python would count as true), an int must be an
integer (not 5.0, not "five"), a float any finite number (an int will do). A bad value raises
`ParameterError`, whose message is one line naming the parameter, the value given and what is
allowed; in a notebook IPython shows that line instead of a traceback. A notebook checks its
parameters with one call right after its `parameters` cell, `params.check_parameters(globals())`:
the cell's annotations give the types (the ones `papermill --help-notebook` prints) and
`NOTEBOOK_RANGES` the ranges, by name. Each baseline checks its hyper-parameter with the same
`check_value`, against its own `param_range` (`rl2lib.baselines.base.Baseline.check_param`).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from dataclasses import dataclass

from rl2lib.config import DEVICE_NAMES, PRECISIONS, TASK_NAMES, ConfigError


class ParameterError(ConfigError):
    """A parameter of the wrong type or out of range. Its message is one line."""

    def _render_traceback_(self) -> list[str]:
        """The lines IPython shows in place of a traceback (the hook its `showtraceback` calls)."""
        return [f"{type(self).__name__}: {self}"]


@dataclass(frozen=True)
class Interval:
    """The numbers from `low` to `high`, each end closed unless marked open; ends default to +-inf."""

    low: float = -math.inf
    high: float = math.inf
    low_open: bool = False
    high_open: bool = False

    def __contains__(self, value: float) -> bool:
        above = value > self.low if self.low_open else value >= self.low
        below = value < self.high if self.high_open else value <= self.high
        return above and below and math.isfinite(value)  # NaN fails both comparisons

    @property
    def bounded(self) -> bool:
        """Whether both ends are finite (then "in [low, high]" already says the value is finite)."""
        return math.isfinite(self.low) and math.isfinite(self.high)

    def __str__(self) -> str:
        if self.high == math.inf and self.low != -math.inf:
            return f"{'>' if self.low_open else '>='} {self.low:g}"
        if self.low == -math.inf and self.high != math.inf:
            return f"{'<' if self.high_open else '<='} {self.high:g}"
        return f"in {'(' if self.low_open else '['}{self.low:g}, {self.high:g}{')' if self.high_open else ']'}"


@dataclass(frozen=True)
class Choice:
    """One of a few names."""

    names: tuple[str, ...]

    def __contains__(self, value: str) -> bool:
        return value in self.names

    def __str__(self) -> str:
        return "one of " + ", ".join(repr(name) for name in self.names)


KIND_NAMES = {bool: "True or False", int: "an integer", float: "a number", str: "a string"}


def describe(kind: type, allowed: Interval | Choice | None = None) -> str:
    """What a parameter may be, in words: "an integer >= 1", "a number in (0, 1)", "one of 'cpu', ..."."""
    if isinstance(allowed, Choice):
        return str(allowed)
    noun = KIND_NAMES[kind]
    if kind is float and not (isinstance(allowed, Interval) and allowed.bounded):
        noun = "a finite number"  # inf and NaN are never allowed, though inf >= 0
    return noun if allowed is None else f"{noun} {allowed}"


def check_value(name: str, value, kind: type, allowed: Interval | Choice | None = None):
    """`value` as a `kind` if it is one and lies in `allowed`, else a one-line ParameterError.

    Args:
        name: what the message calls the parameter ("parameter num_actions", "discount of gittins").
        value: the value given.
        kind: bool, int, float or str; an int is accepted as a float, nothing else converts; a
            float must be finite.
        allowed: an Interval (numbers) or a Choice (str), or None for any value of the kind.
    Returns:
        The value, as a float where `kind` is float and as a plain int where it is int.
    """
    if kind not in KIND_NAMES:
        raise TypeError(f"{name}: cannot check values of type {kind.__name__}")
    if kind is bool:
        ok = isinstance(value, bool)
    elif kind is int:
        ok = isinstance(value, numbers.Integral) and not isinstance(value, bool)
    elif kind is float:
        ok = isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)
    else:
        ok = isinstance(value, str)
    checked = kind(value) if ok and kind in (int, float) else value
    if not ok or (allowed is not None and checked not in allowed):
        raise ParameterError(f"{name} must be {describe(kind, allowed)}, got {value!r}")
    return checked


NOTEBOOK_RANGES: dict[str, Interval | Choice] = {
    "task": Choice(TASK_NAMES),
    "num_actions": Interval(2),  # k arms or actions: one action leaves nothing to learn
    "num_traj": Interval(1),  # n episodes per trial
    "num_updates": Interval(1),
    "phase2_updates": Interval(0),  # 0: no second phase
    "hidden_size": Interval(1),
    "num_trials": Interval(1),
    "tuning_trials": Interval(1),
    "num_replicas": Interval(0),  # 0: the explorer shows no action probabilities for a baseline
    "seed": Interval(0),
    "train_seed": Interval(0),
    "device": Choice(DEVICE_NAMES),
    "precision": Choice(PRECISIONS),
    "adapt_trials": Interval(0),  # MAML: unscored trials before the inner step; 0: adapt within the trial
    "adapt_episodes": Interval(0),  # MAML with adapt_trials 0: 0 means n // 2
    "inner_lr": Interval(0),
    "meta_batch_tasks": Interval(1),
}
"""The range of each notebook parameter, by name; the same name means the same thing in every
notebook. Parameters not listed (`smoke`, `run_name`, `agent`, ...) are checked for their type only."""


def check_parameters(namespace: Mapping, ranges: Mapping[str, Interval | Choice] = NOTEBOOK_RANGES) -> None:
    """Check a notebook's parameters once papermill has injected its values.

    Every name annotated so far in `namespace` (a notebook's `globals()`, whose `__annotations__`
    holds the `parameters` cell's `name: type = default` lines) must hold a value of its annotated
    type, within `ranges[name]` where the name is listed.

    Raises:
        ParameterError: one line naming the first bad parameter, the value given and what is allowed.
    """
    for name, kind in namespace.get("__annotations__", {}).items():
        check_value(f"parameter {name}", namespace[name], kind, ranges.get(name))
