"""Runs side by side: the values read at each step against the rows written, the errors, and a report
(this one's, behaviour's, the campaign's list) piped into `head`."""

import shlex
import subprocess
import sys

import pytest

from rl2lib.compare import compare_markdown, main, value_at
from rl2lib.runs import METRICS_FILE, write_metrics


def write_run(results, name, rows):
    run_dir = results / "runs" / name
    run_dir.mkdir(parents=True)
    write_metrics(run_dir / METRICS_FILE, rows)


@pytest.fixture
def two_runs(tmp_path, monkeypatch):
    monkeypatch.setenv("RL2LIB_RESULTS", str(tmp_path))
    # a: 1M steps per update, validated every other update; b: 2M per update, validated every update, 3 updates
    write_run(
        tmp_path,
        "a",
        [
            {
                "update": u,
                "env_steps": u * 1_000_000,
                "mean_trial_return": 10 + u,
                "validation_return": 20 + u if u % 2 == 0 else "",
            }
            for u in range(1, 9)
        ],
    )
    write_run(
        tmp_path,
        "b",
        [
            {"update": u, "env_steps": u * 2_000_000, "mean_trial_return": 30 + u, "validation_return": 40 + u}
            for u in range(1, 4)
        ],
    )
    return tmp_path


def test_value_at_takes_the_last_point_within_the_window():
    points = [(1.0, 5.0), (3.0, 7.0)]
    assert value_at(points, 3.0, 2.0) == 7.0 and value_at(points, 4.0, 2.0) == 7.0
    assert value_at(points, 5.5, 2.0) is None  # the last point is more than a window back
    assert value_at(points, 0.5, 2.0) is None  # nothing yet


def test_table_rows_read_each_run_at_the_same_steps(two_runs, monkeypatch):
    lines = compare_markdown(["a", "b"], every=2e6).splitlines()
    assert lines[0] == "| env steps | a | b |"
    # a validated at 2M, 4M, 6M, 8M (22, 24, 26, 28); b at 2M, 4M, 6M (41, 42, 43), nothing after 6M
    assert lines[2:6] == [
        "| 2e+06 | 22.00 | 41.00 |",
        "| 4e+06 | 24.00 | 42.00 |",
        "| 6e+06 | 26.00 | 43.00 |",
        "| 8e+06 | 28.00 | – |",
    ]
    assert lines[6] == "| best (at steps) | 28.00 (8e+06) | 43.00 (6e+06) |"
    assert lines[7] == "| last (at steps) | 28.00 (8e+06) | 43.00 (6e+06) |"
    assert compare_markdown(["b"], every=1e6).splitlines()[2] == "| 2e+06 | 41.00 |"  # from its first validation
    monkeypatch.chdir(two_runs.parent)
    by_path = compare_markdown([f"{two_runs.name}/runs/b"], every=1e6).splitlines()  # a run folder's relative path
    assert by_path[2] == "| 2e+06 | 41.00 |"
    training = compare_markdown(["a"], every=3e6, column="training").splitlines()
    assert training[2:4] == ["| 3e+06 | 13.00 |", "| 6e+06 | 16.00 |"]


def test_bad_input_is_one_line(two_runs, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["a", "missing"])
    error = capsys.readouterr().err
    assert exit_info.value.code == 2 and error.startswith("error: no run 'missing': neither a folder nor a name under")
    assert error.count("\n") == 1
    (two_runs / "runs" / "untrained").mkdir()  # a folder without metrics.csv
    with pytest.raises(SystemExit) as exit_info:
        main(["untrained"])
    error = capsys.readouterr().err
    assert exit_info.value.code == 2 and error.startswith("error: run 'untrained' has no validation returns in")
    assert error.count("\n") == 1
    with pytest.raises(SystemExit) as exit_info:
        main(["a", "--every", "0"])
    assert exit_info.value.code == 2 and "--every must be > 0" in capsys.readouterr().err


def test_a_report_piped_into_head_ends_without_a_traceback():
    # a report far larger than a pipe's buffer, read one line: print_output meets a closed pipe
    code = "from rl2lib.cli import print_output; print_output('row\\n' * 1_000_000)"
    command = f"{shlex.quote(sys.executable)} -c {shlex.quote(code)} | head -1"
    result = subprocess.run(command, shell=True, capture_output=True, text=True)
    assert result.stdout == "row\n" and result.stderr == ""
