"""`medpay review` as an operator runs it: a real process over files written by an independent world."""

from __future__ import annotations

from pathlib import Path

import orjson

from ..support import ROOT
from ..unit.review.world import World
from .test_cli import medpay

SAMPLE = {"MEDPAY_REFERENCE_DIR": str(ROOT / "libs/reference_sample")}


def test_batch_writes_contract_flags_and_a_summary(tmp_path: Path) -> None:
    w = World(seed=21, stays=150)
    planted = w.plant("duplicate_charge", 3) + w.plant("restricted_sex", 3)
    paths = w.write(tmp_path, his_form=True)
    out = medpay("review", "batch", "--lists", str(paths["lists"]), "--fee-details", str(paths["fee_details"]),
                 "--knowledge", str(paths["knowledge"]), "--records", str(paths["records"]),
                 "--out", str(tmp_path / "flags.jsonl"), env=SAMPLE)
    assert out.returncode == 0, out.stderr
    flags = [orjson.loads(line) for line in (tmp_path / "flags.jsonl").read_bytes().splitlines()]
    flagged = {(f["setl_id"], f["category"]) for f in flags}
    assert all((s.setl_id, c) in flagged for s in planted for c in s.planted)
    assert f"reviewed {len(w.stays)} settlement lists ({len(w.stays)} with fee details" in out.stderr
    assert "grouped with medpay-sample" in out.stderr and "duplicate_charge" in out.stderr


def test_bad_inputs_are_messages_not_tracebacks(tmp_path: Path) -> None:
    paths = World(seed=2, stays=5).write(tmp_path)
    base = ["review", "batch", "--lists", str(paths["lists"]), "--fee-details", str(paths["fee_details"]),
            "--out", str(tmp_path / "f.jsonl")]
    missing = medpay(*base, "--knowledge", str(tmp_path / "none.csv"), env=SAMPLE)
    assert missing.returncode == 2 and "--knowledge" in missing.stderr and "does not exist" in missing.stderr
    (tmp_path / "bad.csv").write_text("code,name\nA,b\n", encoding="utf-8")
    bad = medpay(*base, "--knowledge", str(tmp_path / "bad.csv"), env=SAMPLE)
    assert bad.returncode == 2 and "header must be exactly" in bad.stderr and "Traceback" not in bad.stderr
    (tmp_path / "inst.jsonl").write_text('{"fixmedins_code": "H1", "hosp_lv": 3}\n{"fixmedins_code": "H2", '
                                         '"hosp_lv": 7}\n', encoding="utf-8")
    level = medpay(*base, "--knowledge", str(paths["knowledge"]), "--institutions", str(tmp_path / "inst.jsonl"),
                   env=SAMPLE)
    assert level.returncode == 2 and "inst.jsonl line 2: hosp_lv must be 1, 2 or 3" in level.stderr


def test_check_rules_lists_the_rules_or_every_problem(tmp_path: Path) -> None:
    good = medpay("review", "check-rules", env=SAMPLE)
    assert good.returncode == 0 and "RV-SPLIT-01" in good.stdout and "16 rules" in good.stdout
    broken = tmp_path / "rules.json"
    broken.write_text('{"id": "x", "version": "1", "rules": [{"id": "A", "kind": "nope"}]}', encoding="utf-8")
    out = medpay("review", "check-rules", str(broken), env=SAMPLE)
    assert out.returncode == 1 and "kind 'nope' is not in the rule library" in out.stderr
    assert "severity" in out.stderr and "cannot be activated" in out.stderr
