"""`medpay synth` as an operator runs it: files, determinism by seed, gzip."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

from ..support import ROOT, reference_dir


def synth(out: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "MEDPAY_REFERENCE_DIR": str(reference_dir())}
    return subprocess.run([sys.executable, "-m", "services.cli", "synth", "--out", str(out), *args], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=300, check=False)


def test_same_arguments_and_seed_give_byte_identical_output(tmp_path: Path) -> None:
    args = ("--cases", "3000", "--hospitals", "8", "--months", "3", "--seed", "5")
    for name in ("a", "b"):
        assert synth(tmp_path / name, *args).returncode == 0
    for file in ("institutions.jsonl", "doctors.jsonl", "settlement_lists.jsonl", "truth.jsonl",
                 "settlement_records.jsonl", "params.json"):
        assert (tmp_path / "a" / file).read_bytes() == (tmp_path / "b" / file).read_bytes(), file
    assert synth(tmp_path / "c", "--cases", "3000", "--hospitals", "8", "--months", "3", "--seed", "6").returncode == 0
    assert (tmp_path / "a/settlement_lists.jsonl").read_bytes() != (tmp_path / "c/settlement_lists.jsonl").read_bytes()


def test_gzip_output_is_deterministic_and_readable(tmp_path: Path) -> None:
    for name in ("a", "b"):
        out = synth(tmp_path / name, "--cases", "1500", "--hospitals", "5", "--gzip")
        assert out.returncode == 0, out.stderr
    assert (tmp_path / "a/settlement_lists.jsonl.gz").read_bytes() == \
        (tmp_path / "b/settlement_lists.jsonl.gz").read_bytes()
    assert (tmp_path / "a/settlement_records.jsonl.gz").read_bytes() == \
        (tmp_path / "b/settlement_records.jsonl.gz").read_bytes()
    with gzip.open(tmp_path / "a/settlement_lists.jsonl.gz", "rt", encoding="utf-8") as f:
        rows = [json.loads(line) for line in f]
    assert len(rows) == 1500 and all(r["infno"] == "4101A" for r in rows)
    with gzip.open(tmp_path / "a/settlement_records.jsonl.gz", "rt", encoding="utf-8") as f:
        records = [json.loads(line) for line in f]
    settled = {r["setlinfo"]["setl_id"] for r in records if r["infno"] == "2304"}
    assert {r["input"]["setlinfo"]["setl_id"] for r in rows} <= settled


def test_institutions_and_doctors_belong_to_the_region(tmp_path: Path) -> None:
    assert synth(tmp_path, "--cases", "200", "--hospitals", "12").returncode == 0
    hospitals = [json.loads(line) for line in (tmp_path / "institutions.jsonl").read_text().splitlines()]
    doctors = [json.loads(line) for line in (tmp_path / "doctors.jsonl").read_text().splitlines()]
    assert len(hospitals) == 12 and len({h["fixmedins_code"] for h in hospitals}) == 12
    assert all(h["fixmedins_code"].startswith("H3307") and h["admdvs"].startswith("3307") for h in hospitals)
    levels = [h["hosp_lv"] for h in hospitals]
    assert 1 <= levels.count(3) < levels.count(2)
    codes = {h["fixmedins_code"] for h in hospitals}
    assert doctors and all(d["fixmedins_code"] in codes and d["dr_code"].startswith("D3307") for d in doctors)
    lists = [json.loads(line) for line in (tmp_path / "settlement_lists.jsonl").read_text().splitlines()]
    assert {r["fixmedins_code"] for r in lists} <= codes


def test_unknown_region_is_a_message(tmp_path: Path) -> None:
    out = synth(tmp_path, "--region", "999900", "--cases", "10")
    assert out.returncode == 2 and "999900" in out.stderr and "Traceback" not in out.stderr


def test_lists_come_as_hospital_systems_send_them_unless_rich_lists_are_asked_for(tmp_path: Path) -> None:
    assert synth(tmp_path / "his", "--cases", "300", "--hospitals", "5", "--months", "2").returncode == 0
    out = synth(tmp_path / "rich", "--cases", "300", "--hospitals", "5", "--months", "2", "--rich-lists")
    assert out.returncode == 0, out.stderr
    his = json.loads((tmp_path / "his/settlement_lists.jsonl").read_text().splitlines()[0])
    rich = json.loads((tmp_path / "rich/settlement_lists.jsonl").read_text().splitlines()[0])
    assert "iteminfo" not in his["input"] and "psn_name" not in his["input"]["setlinfo"]
    assert rich["input"]["iteminfo"] and rich["input"]["payinfo"] and rich["input"]["setlinfo"]["psn_name"]
    params = json.loads((tmp_path / "rich/params.json").read_text())
    assert params["rich_lists"] is True and params["period"] == ["2025-01-01", "2025-02-28"]


def test_several_past_years_make_a_base_period_and_the_future_is_refused(tmp_path: Path) -> None:
    out = synth(tmp_path / "base", "--cases", "600", "--hospitals", "4", "--year", "2022", "--months", "36")
    assert out.returncode == 0, out.stderr
    months = {json.loads(line)["month"] for line in (tmp_path / "base/truth.jsonl").read_text().splitlines()}
    assert min(months) == "2022-01" and max(months) == "2024-12" and len(months) == 36
    future = synth(tmp_path / "future", "--cases", "10", "--year", str(date.today().year), "--months", "12")
    assert future.returncode == 2 and "future" in future.stderr and "Traceback" not in future.stderr
    assert synth(tmp_path / "bad", "--cases", "10", "--months", "0").returncode == 2


def test_dip_data_comes_with_its_dip_cases_and_builds_a_catalogue(tmp_path: Path) -> None:
    out = synth(tmp_path / "base", "--dip", "--cases", "4000", "--hospitals", "5", "--year", "2023",
                "--months", "24")
    assert out.returncode == 0, out.stderr
    lists = (tmp_path / "base/settlement_lists.jsonl").read_text().splitlines()
    cases = [json.loads(line) for line in (tmp_path / "base/dip_cases.jsonl").read_text().splitlines()]
    assert len(cases) == len(lists) == 4000
    assert [c["case_id"] for c in cases] == [json.loads(line)["input"]["setlinfo"]["setl_id"] for line in lists]
    assert json.loads((tmp_path / "base/params.json").read_text())["dip"] is True
    env = {**os.environ, "MEDPAY_REFERENCE_DIR": str(reference_dir())}
    built = subprocess.run([sys.executable, "-m", "services.cli", "dip", "build", "--history",
                            str(tmp_path / "base/dip_cases.jsonl"), "--threshold", "15", "--out",
                            str(tmp_path / "catalogue.tsv")], cwd=ROOT, env=env, capture_output=True, text=True,
                           timeout=300, check=False)
    assert built.returncode == 0, built.stderr
    rows = [line.split("\t") for line in (tmp_path / "catalogue.tsv").read_text().splitlines()[1:]]
    kinds = {kind for _, kind, *_ in rows}
    assert kinds == {"core", "comprehensive"}
    assert sum(int(r[5]) for r in rows) == 4000
    # Without --dip no DIP cases are written; a DIP scheme id is not a case mix.
    assert synth(tmp_path / "plain", "--cases", "50", "--hospitals", "3").returncode == 0
    assert not (tmp_path / "plain/dip_cases.jsonl").exists()
    refused = synth(tmp_path / "bad", "--scheme", "dip-330700-2026", "--cases", "10")
    assert refused.returncode == 2 and "--dip" in refused.stderr and "Traceback" not in refused.stderr
