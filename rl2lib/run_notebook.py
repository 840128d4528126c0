"""`rl2-notebook`: execute one workbook notebook with your own parameters, papermill's command line with
one-line errors. `rl2-notebook NOTEBOOK OUTPUT [-p NAME VALUE]...` reads each VALUE as papermill does
(True, False, None, an int, a float, else a string), checks it against the notebook's `parameters`
cell (its annotated type, via `papermill.inspect_notebook`) and `rl2lib.params.NOTEBOOK_RANGES`
before any kernel starts, then executes the notebook as the reproduction runner executes a cell
(`rl2lib.reproduce.execute_notebook`: the results folder, torch threads, repository-relative
paths). A bad parameter, or an error inside the notebook, ends in one line on stderr naming what
went wrong (exit code 2 for bad input, 1 for a failing cell), where `papermill` itself prints its
own traceback around the same line; the executed copy keeps the failing cell's full traceback.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rl2lib.config import ConfigError
from rl2lib.params import NOTEBOOK_RANGES, ParameterError, check_value
from rl2lib.paths import results_dir
from rl2lib.reproduce import execute_notebook, one_line

TYPES = {"bool": bool, "int": int, "float": float, "str": str}
"""The types a `parameters` cell may annotate, by the name `papermill.inspect_notebook` infers."""


def parse_value(text: str):
    """A `-p` value as papermill reads it: True, False, None, an int, a float, or else the string."""
    literals = {"True": True, "False": False, "None": None}
    if text in literals:
        return literals[text]
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def check_notebook_parameters(notebook: Path, given: dict) -> dict:
    """`given` checked against the notebook's parameters cell; the checked values, by name.

    Raises:
        ParameterError: one line naming an unknown parameter (with the ones the notebook has) or a
            value of the wrong type or out of range.
    """
    import papermill

    declared = papermill.inspect_notebook(str(notebook))  # name -> {"inferred_type_name": "int", ...}
    checked = {}
    for name, value in given.items():
        if name not in declared:
            raise ParameterError(f"{notebook.name} has no parameter {name!r}; it has {', '.join(declared)}")
        kind = TYPES[declared[name]["inferred_type_name"]]
        checked[name] = check_value(f"parameter {name}", value, kind, NOTEBOOK_RANGES.get(name))
    return checked


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rl2-notebook",
        description="Execute one workbook notebook with papermill, with checked parameters and one-line errors.",
    )
    parser.add_argument("notebook", type=Path, help="the notebook to run, e.g. notebooks/03_rl2_bandits.ipynb")
    parser.add_argument("output", type=Path, help="where to write the executed copy")
    parser.add_argument(
        "-p",
        "--parameter",
        nargs=2,
        action="append",
        default=[],
        metavar=("NAME", "VALUE"),
        help="set a parameter (repeatable); `rl2-notebook NOTEBOOK OUTPUT --list` lists them",
    )
    parser.add_argument("--threads", type=int, default=1, help="torch threads of the kernel (default 1)")
    parser.add_argument("--list", action="store_true", help="print the notebook's parameters and exit")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if not args.notebook.is_file():
            raise ConfigError(f"no notebook at {args.notebook}")
        if args.threads < 1:
            raise ConfigError(f"--threads must be >= 1, got {args.threads}")
        if args.list:
            import papermill

            for name, info in papermill.inspect_notebook(str(args.notebook)).items():
                print(f"{name}: {info['inferred_type_name']} = {info['default']}  # {info['help']}")
            return 0
        parameters = check_notebook_parameters(args.notebook, {name: parse_value(value) for name, value in args.parameter})
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    import papermill

    try:
        seconds = execute_notebook(
            args.notebook.resolve(), args.output.resolve(), parameters, str(results_dir().resolve()), args.threads
        )
    except papermill.PapermillExecutionError as error:
        print(
            f"error: {error.ename}: {error.evalue.strip().splitlines()[-1] if error.evalue.strip() else ''}"
            f" (the executed copy, with the traceback, is {args.output})",
            file=sys.stderr,
        )
        return 1
    except Exception as error:  # a kernel that fails to start, a notebook papermill cannot read
        print(f"error: {one_line(error)}", file=sys.stderr)
        return 1
    print(f"{args.output} executed in {seconds:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
