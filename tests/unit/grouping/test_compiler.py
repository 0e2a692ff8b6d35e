"""Loading a pack: problems are load errors naming the file and the rule; good packs compile and index."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from libs.common.reference import BUNDLED_SAMPLE
from services.grouping.adapters.scheme_files import load_scheme
from services.grouping.domain.errors import SchemeError

from .builders import pack


def test_unknown_predicate_names_the_rule() -> None:
    with pytest.raises(SchemeError, match=r"scheme.json: adrgs.TA1: unknown predicate 'principal_dx_is'"):
        pack({"principal_dx_is": ["A00.000"]})


def test_dangling_adrg_step_is_reported() -> None:
    with pytest.raises(SchemeError, match=r"MDC T.*ADRG step 'NOPE' is not defined"):
        pack({"always": True}, mdc_steps=["NOPE"])


def test_duplicate_codes_in_a_rule_list_are_reported() -> None:
    with pytest.raises(SchemeError, match=r"duplicate codes: A00.000"):
        pack({"principal_dx_in": ["A00.000", "A00.000"]})


def test_conflicting_duplicate_rows_in_a_table_name_file_and_line(tmp_path: Path) -> None:
    folder = tmp_path / "grouping" / "medpay-sample"
    shutil.copytree(BUNDLED_SAMPLE / "grouping" / "medpay-sample", folder)
    with (folder / "mcc.tsv").open("a") as f:
        f.write("N17.900\t999\n")
    with pytest.raises(SchemeError, match=r"mcc.tsv: line \d+: duplicate code N17.900"):
        load_scheme(tmp_path, "medpay-sample")


def test_duplicate_json_keys_are_reported(tmp_path: Path) -> None:
    folder = tmp_path / "grouping" / "medpay-sample"
    shutil.copytree(BUNDLED_SAMPLE / "grouping" / "medpay-sample", folder)
    text = (folder / "scheme.json").read_text()
    (folder / "scheme.json").write_text(text.replace('"adrgs": {', '"adrgs": {"FM1": {}, ', 1))
    with pytest.raises(SchemeError, match=r"key 'FM1'.*defined twice"):
        load_scheme(tmp_path, "medpay-sample")


def test_missing_pack_lists_the_available_ones() -> None:
    with pytest.raises(SchemeError, match=r"no such scheme pack \(available: medpay-sample\)"):
        load_scheme(BUNDLED_SAMPLE, "chs-drg-9.9")


def test_rules_are_indexed_by_principal_diagnosis() -> None:
    scheme = load_scheme(BUNDLED_SAMPLE, "medpay-sample")
    assert [m.code for m in scheme.mdcs.candidates("I21.001")] == ["F"]
    assert [m.code for m in scheme.mdcs.candidates("Z99.999")] == []
    f = next(m for m in scheme.mdcs.items if m.code == "F")
    steps = [getattr(s, "step_id", "") for s in f.steps.candidates("I10.x05")]
    assert steps == ["FM1", "FT2"]  # FR2 is guarded by AMI diagnoses and skipped


def test_versions_carry_a_digest_of_the_files(tmp_path: Path) -> None:
    folder = tmp_path / "grouping" / "medpay-sample"
    shutil.copytree(BUNDLED_SAMPLE / "grouping" / "medpay-sample", folder)
    before = load_scheme(tmp_path, "medpay-sample").version
    doc = json.loads((folder / "scheme.json").read_text())
    doc["adrgs"]["FT2"]["rule_text"] = "changed"
    (folder / "scheme.json").write_text(json.dumps(doc, ensure_ascii=False))
    after = load_scheme(tmp_path, "medpay-sample").version
    assert before.startswith("sample-1+") and after.startswith("sample-1+") and before != after
