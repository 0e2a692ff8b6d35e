"""`medpay dip build` and `medpay dip group` as processes: outputs, and bad input as a file:line message."""

from __future__ import annotations

import json
from pathlib import Path

from libs.common.reference import BUNDLED_SAMPLE

from .test_cli import medpay

HISTORY = [
    {"case_id": f"B{i}", "dx": ["K35.300x001"], "px": ["47.0100" if i % 2 else "47.0900", "88.7600"],
     "total_cost": f"{1000 + i}.50"} for i in range(6)
] + [{"case_id": "B9", "dx": [""], "px": [], "total_cost": "1.00"}]


def write_jsonl(path: Path, rows: list[dict[str, object]]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def test_build_then_group_with_the_bundled_sample(tmp_path: Path) -> None:
    env = {"MEDPAY_REFERENCE_DIR": str(BUNDLED_SAMPLE)}
    history = write_jsonl(tmp_path / "history.jsonl", HISTORY)
    out = tmp_path / "catalogue.tsv"
    built = medpay("dip", "build", "--history", str(history), "--threshold", "3", "--out", str(out), env=env)
    assert built.returncode == 0, built.stderr
    assert "2 core" in built.stdout and "1 without a principal diagnosis" in built.stdout
    rows = out.read_text().splitlines()
    assert rows[0] == "group_id\tkind\tdx\tprocedures\ttype\tcases\tmean_cost"
    assert [r.split("\t")[0] for r in rows[1:]] == ["K35.3|47.0100", "K35.3|47.0900"]
    assert rows[1].split("\t")[5:] == ["3", "1003.50"]  # cases 1, 3, 5: 1001.50, 1003.50, 1005.50
    cases = write_jsonl(tmp_path / "cases.jsonl", [
        {"case_id": "S1", "dx": ["K35.3"], "px": ["47.0100", "99.1800"]},
        {"case_id": "S2", "dx": [], "px": ["47.0100"]},
        {"case_id": "S3", "dx": ["K35.3"], "px": ["88.7600"]}])
    grouped = medpay("dip", "group", "--catalogue", str(out), "--cases", str(cases), env=env)
    assert grouped.returncode == 0, grouped.stderr
    assert [json.loads(line) for line in grouped.stdout.splitlines()] == [
        {"case_id": "S1", "group": "K35.3|47.0100", "kind": "core_partial"},
        {"case_id": "S2", "group": "0000", "kind": "ungroupable"},
        {"case_id": "S3", "group": "K35/D", "kind": "comprehensive"}]
    from_stdin = medpay("dip", "group", "--catalogue", str(out), "--cases", "-", env=env,
                        stdin=cases.read_bytes())
    assert from_stdin.stdout == grouped.stdout


def test_bad_input_is_a_message_with_file_and_line(tmp_path: Path) -> None:
    env = {"MEDPAY_REFERENCE_DIR": str(BUNDLED_SAMPLE)}
    history = write_jsonl(tmp_path / "history.jsonl", [*HISTORY[:2], {"case_id": "B3", "dx": ["I10"],
                                                                       "total_cost": "12,00"}])
    out = tmp_path / "catalogue.tsv"
    bad = medpay("dip", "build", "--history", str(history), "--threshold", "3", "--out", str(out), env=env)
    assert bad.returncode == 2
    assert f"{history}:3: total_cost '12,00' is not a non-negative decimal amount" in bad.stderr
    assert "Traceback" not in bad.stderr and not out.exists()
    zero = medpay("dip", "build", "--history", str(write_jsonl(tmp_path / "h.jsonl", HISTORY)), "--threshold", "0",
                  "--out", str(out), env=env)
    assert zero.returncode == 2 and "at least 1" in zero.stderr
    catalogue = tmp_path / "broken.tsv"
    catalogue.write_text("group_id\tkind\tdx\tprocedures\ttype\tcases\tmean_cost\nK35/S\tcore\tK35\t\tS\t1\t1.00\n")
    broken = medpay("dip", "group", "--catalogue", str(catalogue), "--cases", str(history), env=env)
    assert broken.returncode == 2 and f"{catalogue}:2: group K35/S" in broken.stderr
    missing = medpay("dip", "group", "--catalogue", str(tmp_path / "none.tsv"), "--cases", str(history), env=env)
    assert missing.returncode == 2 and "none.tsv" in missing.stderr and "Traceback" not in missing.stderr


async def test_import_publishes_versions_and_versions_lists_them(tmp_path: Path, database_url: str) -> None:
    env = {"MEDPAY_REFERENCE_DIR": str(BUNDLED_SAMPLE), "MEDPAY_DATABASE_URL": database_url}
    history = write_jsonl(tmp_path / "history.jsonl", HISTORY)
    out = tmp_path / "catalogue.tsv"
    assert medpay("dip", "build", "--history", str(history), "--threshold", "3", "--out", str(out),
                  env=env).returncode == 0
    first = medpay("dip", "import", "--scheme", "dip-330799-2026", "--catalogue", str(out), env=env)
    assert first.returncode == 0, first.stderr
    assert "dip-330799-2026 version 1 published 1+" in first.stdout and "2 groups (2 core)" in first.stdout
    again = medpay("dip", "import", "--scheme", "dip-330799-2026", "--catalogue", str(out), env=env)
    assert "version 1 unchanged" in again.stdout
    listed = medpay("dip", "versions", "--scheme", "dip-330799-2026", env=env)
    rows = [line.split("\t") for line in listed.stdout.splitlines()]
    assert rows[0][:3] == ["scheme", "version", "source"]
    assert [r[:8] for r in rows[1:]] == [["dip-330799-2026", "1", "import", "-", "2", "2", "6", "6"]]
    bad = medpay("dip", "import", "--scheme", "dip-jinhua", "--catalogue", str(out), env=env)
    assert bad.returncode == 2 and "not a DIP scheme id" in bad.stderr
