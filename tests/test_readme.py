"""Every command the README and its campaign log (docs/campaign_log.md) give names an existing entry
point, and its flags parse (the trainer's also make a valid config): a command written there works as
written in the project's environment (`source .venv/bin/activate`, which the README says to run first)."""

import re
import shlex
from pathlib import Path

import pytest

from rl2lib import behaviour, bench, campaign, cli, compare, evaluate, gpu_campaign, imitate, maml_train, reproduce, run_notebook

ROOT = Path(__file__).resolve().parents[1]
PARSERS = {
    "rl2lib.train": cli.build_parser,
    "rl2lib.evaluate": evaluate.build_parser,
    "rl2lib.reproduce": reproduce.build_parser,
    "rl2lib.campaign": campaign.build_parser,
    "rl2lib.bench": bench.build_parser,
    "rl2lib.maml_train": maml_train.build_parser,
    "rl2lib.gpu_campaign": gpu_campaign.build_parser,
    "rl2lib.compare": compare.build_parser,
    "rl2lib.behaviour": behaviour.build_parser,
    "rl2lib.imitate": imitate.build_parser,
}
PROGRAMS = ("rl2-train", "rl2-notebook", "rl2-maml", "python", "make", "papermill", "jupyter", "voila", "source")


DOCUMENTS = ("README.md", "docs/campaign_log.md")


def readme_commands() -> list[str]:
    """Commands in the code blocks (one per line) and inline code spans of the README and its campaign log."""
    text = "\n".join((ROOT / document).read_text() for document in DOCUMENTS)
    blocks = re.findall(r"```bash\n(.*?)```", text, re.S)
    lines = [line.split("  #")[0].strip() for block in blocks for line in block.splitlines()]
    spans = [" ".join(span.split()) for span in re.findall(r"`([^`]+)`", re.sub(r"```.*?```", "", text, flags=re.S))]
    commands = []
    for command in lines + spans:
        words = command.split()
        if words and words[0].removeprefix(".venv/bin/") in PROGRAMS and (len(words) > 1 or words[0] == "rl2-train"):
            commands.append(command)
    return commands


def test_the_readme_says_how_to_enter_the_environment_and_has_commands():
    text = (ROOT / "README.md").read_text()
    assert "source .venv/bin/activate" in text
    assert len(readme_commands()) > 30


@pytest.mark.parametrize("command", readme_commands())
def test_each_readme_command_names_an_entry_point_whose_flags_parse(command):
    words = shlex.split(command)
    program = words[0].removeprefix(".venv/bin/")
    if program == "make":
        targets = re.findall(r"^([a-z][\w.-]*):", (ROOT / "Makefile").read_text(), re.M)
        assert all(word in targets for word in words[1:] if "=" not in word), command
        return
    if program in ("source", "papermill", "jupyter", "voila"):
        assert program != "source" or words[1] == ".venv/bin/activate", command
        return
    if program == "rl2-maml":
        args = maml_train.build_parser().parse_args(words[1:])
        if not args.ceilings:
            maml_train.config_from_args(args)  # raises ConfigError on an impossible combination
        return
    if program == "rl2-notebook":
        args = run_notebook.build_parser().parse_args(words[1:])
        assert (ROOT / args.notebook).is_file(), command
        run_notebook.check_notebook_parameters(
            ROOT / args.notebook, {name: run_notebook.parse_value(value) for name, value in args.parameter}
        )
        return
    if program == "rl2-train":
        module, argv = "rl2lib.train", words[1:]
    else:
        assert words[1] == "-m" and words[2] in PARSERS or words[2] == "rl2lib.report", command
        module, argv = words[2], words[3:]
    if module == "rl2lib.report" or not argv:  # a module named, or one without flags: it exists
        assert module == "rl2lib.report" or module in PARSERS, command
        return
    args = PARSERS[module]().parse_args(argv)
    if module == "rl2lib.train" and not args.resume:
        cli.config_from_args(args)  # raises ConfigError on an impossible combination
