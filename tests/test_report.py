"""The README's rendered blocks: a partial rerun changes only what it ran."""

import json
import re

from rl2lib import report
from rl2lib.paths import REPO_ROOT, TIMINGS_FILE


def test_one_cell_timings_file_keeps_the_readmes_other_timing_rows(tmp_path, monkeypatch):
    """On a fresh clone timings.json holds only the cells run there: after `--only 08_explorer` the
    README keeps every other cell's row as it was and takes the explorer's new seconds."""
    monkeypatch.setenv("RL2LIB_RESULTS", str(tmp_path / "results"))
    shown = [
        "| 00_quickstart | 00_quickstart.ipynb | 5.0 |",
        "| 01_bandit_baselines | 01_bandit_tasks_and_baselines.ipynb | 143.2 |",
        "| 07_tables | 07_tables.ipynb | 9.3 |",
        "| 08_explorer | 08_explorer.ipynb | 3.7 |",
    ]
    readme = tmp_path / "README.md"
    readme.write_text(
        "intro\n\n<!-- results:reproduce_times -->\n| cell | notebook | seconds |\n|---|---|---|\n"
        + "\n".join(shown)
        + "\n<!-- /results:reproduce_times -->\n\nafter\n"
    )
    notebooks = tmp_path / "results" / "notebooks"
    notebooks.mkdir(parents=True)
    (notebooks / TIMINGS_FILE).write_text(json.dumps({"08_explorer": {"notebook": "08_explorer.ipynb", "seconds": 4.2}}))
    assert "reproduce_times" in report.update_readme(readme)
    text = readme.read_text()
    block = re.search(r"<!-- results:reproduce_times -->\n(.*?)<!-- /results:reproduce_times -->", text, re.S).group(1)
    assert block.splitlines() == ["| cell | notebook | seconds |", "|---|---|---|"] + shown[:3] + [
        "| 08_explorer | 08_explorer.ipynb | 4.2 |"
    ]
    assert text.startswith("intro\n") and text.endswith("\nafter\n")


def test_the_committed_readme_is_what_the_committed_results_render():
    """Every README block is `python -m rl2lib.report`'s rendering of the committed results/ (the
    training-runs block up to its figure links): a result committed without re-rendering fails here."""
    readme = (REPO_ROOT / "README.md").read_text()
    rendered = report.blocks(readme, figures=False)
    assert {"baselines_bandits", "baselines_mdps", "bench", "paper_tables", "training_runs"} <= set(rendered)
    for name, body in rendered.items():
        shown = report.marked_block(readme, name)
        assert shown.startswith(body + "\n") if name == "training_runs" else shown == body + "\n", name
