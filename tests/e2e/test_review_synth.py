"""Upcoding found on a synthetic year: `medpay synth` plants it at its aggressive hospitals (plain stays coded with
an MCC, their cost that of the plain stay), the batch review over the year's lists finds it.

Fast scale (6,000 lists, 8 hospitals, so an upcoder has a few hundred stays in split ADRGs). Before hospitals were
compared with peers of their level, this year's upcoder (a secondary hospital) stood at 1.17 x a share pooled over
every level, its own stays and the tertiary hospital's included, under the rule's 1.3: recall 0 of 90. The CMI rule
(RV-UPC-03) is held to the same bar on its own."""

from __future__ import annotations

from pathlib import Path

import orjson

from services.evaluation.adapters.review.files import DEFAULT_RULESET, read_levels, read_ruleset
from services.evaluation.domain.review.engine import Reviewer
from services.evaluation.domain.review.rules import Context
from services.evaluation.service_layer.review.batch import BatchReview
from services.grouping.adapters.scheme_files import load_code_tables, load_scheme

from ..support import reference_dir
from ..unit.review.builders import knowledge
from .test_cli import medpay


def test_upcoding_on_a_synthetic_year_is_found_with_sensible_recall_and_precision(tmp_path: Path) -> None:
    ref = reference_dir()
    scheme_id = "chs-drg-1.1" if (ref / "grouping/chs-drg-1.1").is_dir() else "medpay-sample"
    out = medpay("synth", "--cases", "6000", "--hospitals", "8", "--seed", "7", "--no-fee-details",
                 "--scheme", scheme_id, "--out", str(tmp_path), env={"MEDPAY_REFERENCE_DIR": str(ref)})
    assert out.returncode == 0, out.stderr
    codes = load_code_tables(ref)
    reviewer = Reviewer(read_ruleset(DEFAULT_RULESET), Context(knowledge(), codes.diagnoses, codes.procedures))
    levels = read_levels(tmp_path / "institutions.jsonl")
    BatchReview(reviewer, load_scheme(ref, scheme_id), levels=levels).run(
        tmp_path / "settlement_lists.jsonl", None, tmp_path / "flags.jsonl", tmp_path / "settlement_records.jsonl")
    truth = [orjson.loads(line) for line in (tmp_path / "truth.jsonl").read_bytes().splitlines()]
    planted = {t["setl_id"] for t in truth if "UPCODED" in t["behaviours"]}
    flags = [orjson.loads(line) for line in (tmp_path / "flags.jsonl").read_bytes().splitlines()]
    found = {f["setl_id"] for f in flags if f["category"] == "upcoding"}
    assert len(planted) >= 30
    recall, precision = len(found & planted) / len(planted), len(found & planted) / max(len(found), 1)
    assert recall >= 0.3, (recall, precision, len(planted), len(found))
    assert precision >= 0.25, (recall, precision, len(planted), len(found))
    cmi = {f["setl_id"] for f in flags if f["rule_id"] == "RV-UPC-03"}  # the CMI rule on its own
    cmi_recall, cmi_precision = len(cmi & planted) / len(planted), len(cmi & planted) / max(len(cmi), 1)
    assert cmi_recall >= 0.3 and cmi_precision >= 0.3, (cmi_recall, cmi_precision, len(cmi))
    evidence = next(f["evidence"] for f in flags if f["category"] == "upcoding")
    assert "population:" in evidence and "z = " in evidence and "peers: the other stays at hospitals of its level" \
        in evidence
