"""The DIP worked examples of ``shared/dip/examples``: built and grouped byte for byte, in-process and through
the `medpay dip` commands as an operator runs them. (Other data is the job of the property tests, which compare
with an independent implementation.)"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from services.grouping.adapters.dip_files import (
    load_procedure_classes,
    parse_catalogue,
    read_cases,
    read_history,
    render_catalogue,
)
from services.grouping.dip_cli import result_line
from services.grouping.domain.dip.build import CatalogueBuilder
from services.grouping.domain.dip.matching import DipGrouper

from ..support import ROOT, shared_or_skip


def examples() -> list[Path]:
    return sorted(p for p in (shared_or_skip() / "dip" / "examples").iterdir() if p.is_dir())


def threshold_of(folder: Path) -> int:
    words = (folder / "README").read_text().split()
    return int(words[words.index("threshold") + 1])


def test_examples_in_process() -> None:
    ref = shared_or_skip()
    classes = load_procedure_classes(ref / "grouping" / "chs-drg-1.1" / "or_procedures.tsv")
    for folder in examples():
        builder = CatalogueBuilder(classes)
        with (folder / "history.jsonl").open("rb") as lines:
            builder.add_all(read_history(lines, "history.jsonl"))
        rendered = render_catalogue(builder.catalogue(threshold_of(folder)))
        assert rendered == (folder / "expected_catalogue.tsv").read_bytes(), folder.name
        grouper = DipGrouper(folder.name, "x", parse_catalogue(rendered, "catalogue.tsv", classes), classes)
        with (folder / "cases.jsonl").open("rb") as lines:
            out = b"".join(result_line(e.case_id, (r := grouper.group(e.case)).group, r.kind.value)
                           for e in read_cases(lines, "cases.jsonl"))
        assert out == (folder / "expected_groups.jsonl").read_bytes(), folder.name


@pytest.mark.parametrize("name", ["region-a"])
def test_examples_through_the_commands(name: str, tmp_path: Path) -> None:
    ref = shared_or_skip()
    folder = ref / "dip" / "examples" / name
    catalogue = tmp_path / "catalogue.tsv"
    built = subprocess.run([sys.executable, "-m", "services.cli", "dip", "build", "--history",
                            str(folder / "history.jsonl"), "--threshold", str(threshold_of(folder)),
                            "--out", str(catalogue), "--reference-dir", str(ref)],
                           capture_output=True, check=True, timeout=120, cwd=ROOT)
    assert catalogue.read_bytes() == (folder / "expected_catalogue.tsv").read_bytes()
    assert b"core" in built.stdout
    grouped = subprocess.run([sys.executable, "-m", "services.cli", "dip", "group", "--catalogue", str(catalogue),
                              "--cases", str(folder / "cases.jsonl"), "--reference-dir", str(ref)],
                             capture_output=True, check=True, timeout=120, cwd=ROOT)
    assert grouped.stdout == (folder / "expected_groups.jsonl").read_bytes()
