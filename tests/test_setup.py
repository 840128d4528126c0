"""Set-up files: the conda environment names the pip set-up's packages and pins; the standard files exist."""

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


def test_standard_files_license_citation_and_package_metadata():
    import tomllib

    import yaml

    license_text = (ROOT / "LICENSE").read_text()
    assert license_text.startswith("MIT License") and "Copyright (c) 2026 the rl2lib authors" in license_text
    citation = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    assert citation["cff-version"] == "1.2.0" and citation["type"] == "software" and citation["license"] == "MIT"
    assert {reference["url"] for reference in citation["references"]} == {
        "https://arxiv.org/abs/1611.02779",
        "https://arxiv.org/abs/1707.03141",
    }  # RL^2 [Duan 2016], SNAIL [Mishra 2018]
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert citation["version"] == project["version"]
    assert project["license"] == "MIT" and project["license-files"] == ["LICENSE"]
    assert project["authors"] == [{"name": "rl2lib authors"}] and project["keywords"] and project["classifiers"]
    assert not any(classifier.startswith("License ::") for classifier in project["classifiers"])  # PEP 639 forbids both


def test_the_notebook_ui_is_installed_with_this_projects_kernel():
    """`make lab` opens JupyterLab from .venv on the notebooks, whose kernel is this environment's."""
    import subprocess
    import sys

    bin_dir = Path(sys.executable).parent
    for program in ("jupyter-lab", "jupyter-notebook", "voila"):
        assert (bin_dir / program).exists(), f"{program} is not installed beside {sys.executable}"
    version = subprocess.run([str(bin_dir / "jupyter-lab"), "--version"], capture_output=True, text=True)
    pinned = pins((ROOT / "requirements.txt").read_text().splitlines())["jupyterlab"]
    assert version.returncode == 0 and version.stdout.strip() == pinned
    kernels = subprocess.run([str(bin_dir / "jupyter"), "kernelspec", "list", "--json"], capture_output=True, text=True)
    import json

    spec = json.loads(kernels.stdout)["kernelspecs"]["python3"]
    assert Path(spec["resource_dir"]).resolve().is_relative_to(Path(sys.prefix).resolve())
    makefile = (ROOT / "Makefile").read_text()
    assert "jupyter lab --notebook-dir=notebooks" in makefile and "cull_idle_timeout" in makefile
