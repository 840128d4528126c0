"""The package's data: the published tables (CSV) and the reproduction profiles (`profiles.json`: per
cell, the notebook, its parameters and budget), read through `importlib.resources`."""

from __future__ import annotations

import json
from importlib import resources


def load_profiles() -> dict[str, list[dict]]:
    """Profile name -> its cells, from profiles.json (keys starting with "_" are notes)."""
    data = json.loads(resources.files(__name__).joinpath("profiles.json").read_text())
    return {name: cells for name, cells in data.items() if not name.startswith("_")}
