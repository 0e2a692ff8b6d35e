"""The DIP implementation against the independent one on realistic data: real ICD codes, the real surgery
list, Zipf-distributed recurring combinations with duplicates, extra and diagnostic procedures (the benchmark's
generator), so partial matches and every case type occur in numbers."""

from __future__ import annotations

import json
from pathlib import Path

from benchmarks.dip import write_history
from services.grouping.adapters.dip_files import (
    load_procedure_classes,
    parse_catalogue,
    read_cases,
    read_history,
    render_catalogue,
)
from services.grouping.domain.dip.build import CatalogueBuilder
from services.grouping.domain.dip.matching import DipGrouper

from ....support import shared_or_skip
from . import reference


def test_realistic_history_and_cases_agree_with_the_independent_implementation(tmp_path: Path) -> None:
    ref = shared_or_skip()
    surgery_path = ref / "grouping" / "chs-drg-1.1" / "or_procedures.tsv"
    classes = load_procedure_classes(surgery_path)
    history_path, cases_path = tmp_path / "history.jsonl", tmp_path / "cases.jsonl"
    write_history(history_path, 20_000, seed=3)
    write_history(cases_path, 2_000, seed=4, prefix="S")
    builder = CatalogueBuilder(classes)
    with history_path.open("rb") as lines:
        builder.add_all(read_history(lines, "history.jsonl"))
    text = render_catalogue(builder.catalogue(15))
    history = [json.loads(line) for line in history_path.read_text().splitlines()]
    expected = reference.build(history, 15, set(classes.surgery))
    assert text.decode() == expected
    grouper = DipGrouper("r", "r", parse_catalogue(text, "catalogue.tsv", classes), classes)
    kinds: dict[str, int] = {}
    with cases_path.open("rb") as lines:
        for entry, raw in zip(read_cases(lines, "cases.jsonl"), cases_path.read_text().splitlines(), strict=True):
            got = grouper.group(entry.case)
            assert (got.group, got.kind.value) == reference.group(expected, json.loads(raw), set(classes.surgery))
            kinds[got.kind.value] = kinds.get(got.kind.value, 0) + 1
    assert kinds.keys() == {"core", "core_partial", "comprehensive"}
    assert min(kinds.values()) > 100
