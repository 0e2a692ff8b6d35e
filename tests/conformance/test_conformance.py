"""Every case of the four conformance sets, checks off, gives exactly the expected DRG, ADRG and MDC.

The expected results come from an independent implementation (OpenDRG). 100%, not "nearly": a failure lists
the first disagreements.
"""

from __future__ import annotations

import json

import pytest

from services.grouping.adapters.case_json import case_from_json
from services.grouping.adapters.scheme_files import load_scheme
from services.grouping.domain.engine import group_case

from ..support import shared_or_skip

SCHEMES = ["chs-drg-1.1", "chs-drg-1.0", "chs-drg-yunnan-2023", "chs-drg-zhejiang-2022"]


@pytest.mark.parametrize("scheme_id", SCHEMES)
def test_conformance_set_agrees_on_every_case(scheme_id: str) -> None:
    ref = shared_or_skip()
    scheme = load_scheme(ref, scheme_id)
    folder = ref / "conformance" / scheme_id
    cases = [json.loads(line) for line in (folder / "cases.jsonl").read_text().splitlines() if line.strip()]
    expected = [json.loads(line) for line in (folder / "expected.jsonl").read_text().splitlines() if line.strip()]
    assert len(cases) == len(expected) > 1000
    wrong = []
    for raw, want in zip(cases, expected, strict=True):
        assert raw["id"] == want["id"]
        got = group_case(scheme, case_from_json(raw))
        if (got.drg, got.adrg, got.mdc) != (want["drg"], want["adrg"], want["mdc"]):
            wrong.append(f"{raw['id']}: got {got.drg}/{got.adrg}/{got.mdc}, expected "
                         f"{want['drg']}/{want['adrg']}/{want['mdc']}")
    assert not wrong, f"{len(wrong)} of {len(cases)} disagree:\n" + "\n".join(wrong[:20])


def test_cli_batch_reproduces_the_expected_results_in_input_order() -> None:
    """The operator command (`medpay grouping batch --no-checks`) over the 1.1 set, via a real process."""
    import subprocess
    import sys

    ref = shared_or_skip()
    folder = ref / "conformance" / "chs-drg-1.1"
    out = subprocess.run(
        [sys.executable, "-m", "services.cli", "grouping", "batch", "--scheme", "chs-drg-1.1",
         "--cases", str(folder / "cases.jsonl"), "--reference-dir", str(ref), "--no-checks"],
        capture_output=True, check=True, timeout=120).stdout.decode().splitlines()
    expected = [json.loads(line) for line in (folder / "expected.jsonl").read_text().splitlines()]
    got = [json.loads(line) for line in out]
    assert [g["id"] for g in got] == [e["id"] for e in expected]
    assert [(g["drg"], g["adrg"], g["mdc"]) for g in got] == [(e["drg"], e["adrg"], e["mdc"]) for e in expected]
