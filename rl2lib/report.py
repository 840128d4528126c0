"""Render what the runs produced into the README, between marker comments, never by hand.

`python -m rl2lib.report` (called by `make reproduce` after the notebooks) replaces each block
`<!-- results:NAME -->` ... `<!-- /results:NAME -->` of README.md with a table rendered from the
files under `results/`. Blocks whose source file is missing are left as they are.
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

from rl2lib.baseline_tables import BANDIT_AGENTS, CEILINGS, MDP_AGENTS, read_rows
from rl2lib.paths import REPO_ROOT, tables_dir


def wide_baseline_table(rows: list[dict], agents: tuple[str, ...], ceilings: tuple[str, ...]) -> str:
    """One line per setting: ours (paper) per agent, ours in bold by the papers' rule, then the ceilings."""
    settings = sorted({(row["n"], row["k"]) for row in rows})
    bandit = rows and rows[0]["task"] == "bandit"
    head = ["n", "k"] if bandit else ["n"]
    lines = ["| " + " | ".join(head + list(agents) + list(ceilings)) + " |",
             "|" + "---|" * (len(head) + len(agents) + len(ceilings))]
    for n, k in settings:
        cell = {row["agent"]: row for row in rows if (row["n"], row["k"]) == (n, k)}
        out = [str(n)] + ([str(k)] if bandit else [])
        for agent in agents + ceilings:
            row = cell.get(agent)
            if row is None:
                out.append("n/a")
                continue
            ours = f"{row['mean']:.1f}" if abs(row["mean"]) >= 100 else f"{row['mean']:.2f}"
            if row.get("bold") is True:
                ours = f"**{ours}**"
            if row.get("within_tolerance") is False:
                ours += " ✗"
            paper = f" ({row['paper']})" if row.get("paper") not in ("", None) else ""
            exact = f" [exact {row['exact_expectation']:.3f}]" if row.get("exact_expectation") not in ("", None) else ""
            out.append(ours + paper + exact)
        lines.append("| " + " | ".join(out) + " |")
    return "\n".join(lines)


def blocks() -> dict[str, str]:
    """Rendered blocks by name, for the sources that exist."""
    rendered = {}
    for task, agents in (("bandit", BANDIT_AGENTS), ("mdp", MDP_AGENTS)):
        path = tables_dir() / f"baselines_{task}s.csv"
        if path.exists():
            rendered[f"baselines_{task}s"] = wide_baseline_table(read_rows(path), agents, CEILINGS[task])
    return rendered


def update_readme(readme: Path = REPO_ROOT / "README.md") -> list[str]:
    """Replace the marked blocks of the README; returns the names of the blocks replaced."""
    text = readme.read_text()
    replaced = []
    for name, body in blocks().items():
        pattern = re.compile(rf"(<!-- results:{name} -->\n).*?(<!-- /results:{name} -->)", re.S)
        if pattern.search(text):
            text = pattern.sub(lambda m: m.group(1) + body + "\n" + m.group(2), text)
            replaced.append(name)
    readme.write_text(text)
    return replaced


if __name__ == "__main__":
    names = update_readme()
    print(f"README blocks updated: {', '.join(names) or 'none'}", file=sys.stderr)
