"""The conda environment names the same packages and pins as the pip set-up."""
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def pins(lines):
    found = {}
    for line in lines:
        match = re.match(r"^\s*(?:-\s+)?([A-Za-z0-9_.\-]+)==([^\s#]+)", line)
        if match:
            found[match.group(1).lower()] = match.group(2)
    return found


def test_environment_yml_matches_requirements():
    pip_pins = pins((ROOT / "requirements.txt").read_text().splitlines())
    conda_pins = pins((ROOT / "environment.yml").read_text().splitlines())
    assert pip_pins["torch"] == "2.13.0"
    assert conda_pins == pip_pins


def test_ci_runs_the_readme_test_command():
    assert "make test" in (ROOT / ".ci" / "run").read_text()
    assert "make test" in (ROOT / "README.md").read_text()
