"""Checked parameters: strict types, ranges and one-line messages, for notebooks and baselines."""

import math

import numpy as np
import pytest

from rl2lib.config import ConfigError
from rl2lib.params import Choice, Interval, ParameterError, check_parameters, check_value


def parameters_cell(**values):
    """A notebook namespace as papermill leaves it: the cell's annotations, then the injected values."""
    namespace = {}
    exec("smoke: bool = False\nnum_actions: int = 5\nrate: float = 0.5\ndevice: str = 'auto'\nrun_name: str = ''", namespace)
    namespace.update(values)
    return namespace


def test_defaults_pass_and_leave_the_namespace_alone():
    namespace = parameters_cell()
    check_parameters(namespace, {"device": Choice(("cpu", "cuda", "auto"))})
    assert namespace["num_actions"] == 5 and namespace["smoke"] is False


@pytest.mark.parametrize(
    "values, message",
    [
        ({"smoke": "no"}, "parameter smoke must be True or False, got 'no'"),
        ({"smoke": "false"}, "parameter smoke must be True or False, got 'false'"),
        ({"smoke": 0}, "parameter smoke must be True or False, got 0"),
        ({"num_actions": "five"}, "parameter num_actions must be an integer >= 2, got 'five'"),
        ({"num_actions": 5.0}, "parameter num_actions must be an integer >= 2, got 5.0"),
        ({"num_actions": True}, "parameter num_actions must be an integer >= 2, got True"),
        ({"num_actions": 1}, "parameter num_actions must be an integer >= 2, got 1"),
        ({"rate": float("nan")}, "parameter rate must be a number in [0, 1], got nan"),
        ({"rate": 1.5}, "parameter rate must be a number in [0, 1], got 1.5"),
        ({"device": "gpu"}, "parameter device must be one of 'cpu', 'cuda', 'auto', got 'gpu'"),
        ({"run_name": 3}, "parameter run_name must be a string, got 3"),
    ],
)
def test_bad_value_is_a_one_line_error_naming_parameter_value_and_range(values, message):
    ranges = {"num_actions": Interval(2), "rate": Interval(0.0, 1.0), "device": Choice(("cpu", "cuda", "auto"))}
    with pytest.raises(ParameterError) as error:
        check_parameters(parameters_cell(**values), ranges)
    assert str(error.value) == message
    assert isinstance(error.value, ConfigError)  # the command lines' one-line error handling catches it


def test_ipython_shows_the_message_in_place_of_a_traceback():
    error = ParameterError("parameter num_actions must be an integer >= 2, got 'five'")
    assert error._render_traceback_() == ["ParameterError: parameter num_actions must be an integer >= 2, got 'five'"]


def test_edge_values_pass_and_come_back_as_their_kind():
    assert check_value("p", 0, float, Interval(0.0, 1.0)) == 0.0
    assert isinstance(check_value("p", 1, float, Interval(0.0, 1.0)), float)
    assert check_value("n", np.int64(2), int, Interval(2)) == 2 and type(check_value("n", np.int64(2), int)) is int
    assert check_value("g", 1e-9, float, Interval(0.0, 1.0, low_open=True, high_open=True)) == 1e-9
    assert check_value("s", True, bool) is True


@pytest.mark.parametrize(
    "allowed, value, words",
    [
        (Interval(0.0, 1.0, low_open=True, high_open=True), 0.0, "a number in (0, 1)"),
        (Interval(0.0, 1.0, low_open=True, high_open=True), 1.0, "a number in (0, 1)"),
        (Interval(0.0), math.inf, "a finite number >= 0"),
        (Interval(0.0, low_open=True), 0.0, "a finite number > 0"),
        (None, -math.inf, "a finite number, got"),
    ],
)
def test_open_ends_and_infinities_are_excluded_and_said(allowed, value, words):
    with pytest.raises(ParameterError) as error:
        check_value("x", value, float, allowed)
    assert f"x must be {words}" in str(error.value)
