"""Envelope checks, content digests, scheme schedules, gateway signatures, dialects, facts."""

from __future__ import annotations

import json
from datetime import date

import pytest

from libs.common.reference import BUNDLED_SAMPLE
from services.collection.domain.case_facts import case_facts, length_of_stay
from services.collection.domain.dialects import normalise
from services.collection.domain.envelope import content_digest, read_envelope
from services.collection.domain.schemes import ScheduleError, SchemeSchedule

SAMPLE = json.loads((BUNDLED_SAMPLE / "settlement_list_4101A.json").read_text(encoding="utf-8"))


def test_a_good_envelope_reads() -> None:
    env, problems = read_envelope(SAMPLE, "4101A")
    assert problems == [] and env is not None and env.msgid == SAMPLE["msgid"]


@pytest.mark.parametrize(("change", "code"), [
    ({"infno": "9999"}, "ENV-001"), ({"fixmedins_code": "X1"}, "ENV-002"), ({"msgid": "short"}, "ENV-003"),
    ({"msgid": "H99999999999202602100915000001"}, "ENV-003"), ({"inf_time": "2026-02-10"}, "ENV-004"),
    ({"input": []}, "ENV-005"),
])
def test_envelope_faults_are_named(change: dict[str, object], code: str) -> None:
    env, problems = read_envelope({**SAMPLE, **change}, None)
    assert env is None and code in {p.code for p in problems}


def test_path_and_body_infno_must_agree() -> None:
    assert read_envelope(SAMPLE, "4103")[0] is None


def test_content_digest_ignores_key_order_but_not_values() -> None:
    body = SAMPLE["input"]
    reordered = dict(reversed(list(body.items())))
    assert content_digest("4101A", "H1", body) == content_digest("4101A", "H1", reordered)
    assert content_digest("4101A", "H1", body) != content_digest("4101A", "H2", body)


def test_schedule_prefers_the_region_and_the_latest_date_in_force() -> None:
    s = SchemeSchedule.parse("330700:2026-07-01:chs-drg-zhejiang-2022, 530100:chs-drg-yunnan-2023", "chs-drg-1.1")
    assert s.scheme_for("330700", date(2026, 6, 30)) == "chs-drg-1.1"
    assert s.scheme_for("330700", date(2026, 7, 1)) == "chs-drg-zhejiang-2022"
    assert s.scheme_for("530100", date(2020, 1, 1)) == "chs-drg-yunnan-2023"
    assert s.scheme_for("110100", date(2026, 7, 1)) == "chs-drg-1.1"


def test_a_region_switches_from_drg_to_dip_by_an_entry() -> None:
    s = SchemeSchedule.parse("330700:2026-07-01:dip-330700-2026", "chs-drg-1.1")
    assert s.scheme_for("330700", date(2026, 6, 30)) == "chs-drg-1.1"
    assert s.scheme_for("330700", date(2026, 7, 1)) == "dip-330700-2026"
    assert s.scheme_for("330800", date(2026, 7, 1)) == "chs-drg-1.1"


@pytest.mark.parametrize("text", ["330700", "33070:chs", "330700:2026-13-01:x", "a:b:c:d",
                                  "330700:dip-330800-2026", "*:dip-330700-2026", "330700:dip-330700",
                                  "330700:2026-07-01:dip-jinhua-2026"])
def test_bad_schedules_are_refused(text: str) -> None:
    with pytest.raises(ScheduleError):
        SchemeSchedule.parse(text, "chs-drg-1.1")


def test_both_spellings_normalise_and_the_canonical_wins() -> None:
    body = normalise({"setlinfo": {"nwbbirwt": 1800, "nwb_admtype": "1"}})
    assert body["setlinfo"] == {"nwb_bir_wt": 1800, "nwb_adm_type": "1"}
    both = normalise({"setlinfo": {"nwb_bir_wt": 2000, "nwbbirwt": 1800}})
    assert both["setlinfo"]["nwb_bir_wt"] == 2000


def test_facts_put_the_principal_first_whatever_the_order() -> None:
    body = {"setlinfo": {"gend": "2", "age": "40", "adm_time": "2026-01-01 08:00:00",
                         "dscg_time": "2026-01-01 18:00:00", "dscg_way": "1"},
            "diseinfo": [{"diag_code": "B", "maindiag_flag": "0"}, {"diag_code": "A", "maindiag_flag": "1"}],
            "oprninfo": [{"oprn_oprt_code": "2", "oprn_oprt_type": "2"},
                         {"oprn_oprt_code": "1", "oprn_oprt_type": "1"}]}
    facts = case_facts(body)
    assert (facts.diagnoses, facts.procedures, facts.sex, facts.age_years, facts.los_days) == (
        ("A", "B"), ("1", "2"), 2, 40, 1)
    assert length_of_stay("2026-01-01 08:00:00", "2026-01-05 07:00:00") == 4
    assert length_of_stay("2026-01-05 08:00:00", "2026-01-01 07:00:00") is None
