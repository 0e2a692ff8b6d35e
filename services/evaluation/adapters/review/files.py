"""Knowledge libraries and rule sets from files: CONTRACT.md's items.csv; rule sets as TOML or JSON."""

from __future__ import annotations

import csv
import json
import tomllib
from datetime import date
from pathlib import Path
from typing import Any

from ...domain.review.knowledge import KnowledgeLibrary, build_library
from ...domain.review.ruleset import RuleSet, RuleSetError, parse_ruleset

DEFAULT_RULESET = Path(__file__).with_name("default_ruleset.toml")


def read_knowledge(path: Path, *, version: str = "", effective_from: date | None = None) -> KnowledgeLibrary:
    """The library of an items.csv (UTF-8, a BOM tolerated); ``KnowledgeError`` names every bad line."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return knowledge_from_text(handle.read(), version=version, effective_from=effective_from)


def knowledge_from_text(text: str, *, version: str = "", effective_from: date | None = None) -> KnowledgeLibrary:
    rows = csv.reader(text.splitlines())
    header = next(rows, [])
    numbered = ((i, cells) for i, cells in enumerate(rows, start=2) if any(c.strip() for c in cells))
    return build_library(numbered, header, version=version, effective_from=effective_from)


def read_ruleset(path: Path) -> RuleSet:
    """A validated rule set from a .toml or .json file; ``RuleSetError`` lists every problem."""
    return parse_ruleset(ruleset_document(path.read_bytes(), path.suffix.lower()))


def ruleset_document(data: bytes, suffix: str) -> Any:
    """The plain document of a rule set file (TOML or JSON by ``suffix``), or ``RuleSetError`` if unreadable."""
    try:
        if suffix == ".json":
            return json.loads(data)
        return tomllib.loads(data.decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as bad:
        raise RuleSetError([f"not valid {'JSON' if suffix == '.json' else 'TOML'}: {bad}"]) from bad


def default_ruleset() -> RuleSet:
    return read_ruleset(DEFAULT_RULESET)


def read_levels(path: Path) -> dict[str, int]:
    """Each institution's level (``hosp_lv``, 1-3) by ``fixmedins_code`` from a JSON-lines institutions file, as
    ``medpay synth`` writes ``institutions.jsonl``; a line without a level in 1-3 is an error naming the line."""
    levels: dict[str, int] = {}
    with path.open(encoding="utf-8") as handle:
        for number, raw in enumerate(handle, 1):
            if not raw.strip():
                continue
            try:
                row = json.loads(raw)
                code, level = row["fixmedins_code"], row["hosp_lv"]
            except (ValueError, KeyError, TypeError):
                problem = "not a JSON object with fixmedins_code and hosp_lv"
                raise ValueError(f"{path.name} line {number}: {problem}") from None
            if not isinstance(code, str) or not code or level not in (1, 2, 3) or isinstance(level, bool):
                raise ValueError(f"{path.name} line {number}: hosp_lv must be 1, 2 or 3 and fixmedins_code a code")
            levels[code] = level
    return levels
