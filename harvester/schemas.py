"""Where the node's declarative files live, and loading them once."""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

SCHEMAS_DIR = Path(__file__).resolve().parent.parent / "schemas"


@lru_cache(maxsize=None)
def load_json(name: str):
    """Load a JSON file from schemas/ (cached: these files never change at run time)."""
    with open(SCHEMAS_DIR / name, encoding="utf-8") as fh:
        return json.load(fh)
