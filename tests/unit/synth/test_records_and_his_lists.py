"""Settlement records as the core system sends them, and lists as hospital systems send them (TEAM.md's pinned
formats, field lists of ../shared/spec), checked line by line and recomputed independently."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from datetime import datetime
from decimal import ROUND_FLOOR, Decimal
from typing import Any

import pytest

from services.synth.lists import ALIASES
from services.synth.params import Policy

from .prefecture import Run, his_run, spec_fields

MONEY = re.compile(r"\d+\.\d\d")
SETLINFO_MONEY = ("medfee_sumamt", "fulamt_ownpay_amt", "overlmt_selfpay", "preselfpay_amt", "inscp_scp_amt",
                  "act_pay_dedc", "hifp_pay", "cvlserv_pay", "hifes_pay", "hifmi_pay", "hifob_pay", "maf_pay",
                  "hosp_part_amt", "oth_pay", "fund_pay_sumamt", "psn_part_amt", "acct_pay", "psn_cash_pay", "balc",
                  "acct_mulaid_pay")
FUNDS = ("hifp_pay", "cvlserv_pay", "hifes_pay", "hifmi_pay", "hifob_pay", "maf_pay", "oth_pay")


def money(record: dict[str, Any], field: str) -> Decimal:
    return Decimal(record["setlinfo"][field])


def test_records_have_exactly_the_2304_fields_in_the_pinned_envelope() -> None:
    run = his_run()
    setlinfo, setldetail = spec_fields("output_2304_setlinfo_fields.csv"), spec_fields(
        "output_2304_setldetail_fields.csv")
    if not setlinfo:
        pytest.skip("../shared/spec is not present: the 2304 field lists cannot be read")
    for record in run.records:
        if record["infno"] == "2305":
            assert list(record) == ["infno", "fixmedins_code", "setlinfo"]
            assert list(record["setlinfo"]) == ["setl_id", "psn_no", "mdtrt_id"]
            continue
        assert list(record) == ["infno", "fixmedins_code", "fixmedins_name", "setlinfo", "setldetail"]
        s = record["setlinfo"]
        assert list(s) == setlinfo
        assert all(isinstance(v, str) for v in s.values())
        assert all(MONEY.fullmatch(s[f]) for f in SETLINFO_MONEY), s
        assert s["age"].isdigit() and re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", s["setl_time"])
        assert re.fullmatch(r"\d\.\d{4}", s["pool_prop_selfpay"])
        assert record["setldetail"] and all(list(d) == setldetail for d in record["setldetail"])
        assert all(MONEY.fullmatch(d[k]) for d in record["setldetail"]
                   for k in ("inscp_scp_amt", "crt_payb_lmt_amt", "fund_payamt"))


def test_record_amounts_add_up_to_the_fen() -> None:
    for record in his_run().records:
        if record["infno"] != "2304":
            continue
        fund = money(record, "fund_pay_sumamt")
        assert fund == sum(money(record, f) for f in FUNDS)
        assert fund == sum(Decimal(d["fund_payamt"]) for d in record["setldetail"])
        assert money(record, "medfee_sumamt") == fund + money(record, "psn_part_amt")
        assert money(record, "psn_part_amt") == money(record, "acct_pay") + money(record, "psn_cash_pay")
        assert money(record, "inscp_scp_amt") == money(record, "medfee_sumamt") - money(
            record, "fulamt_ownpay_amt") - money(record, "overlmt_selfpay")


def test_the_pooled_fund_pays_by_the_policy() -> None:
    """hifp_pay recomputed from the record's own amounts and the documented policy (floor to the fen)."""
    policy = Policy()
    levels = {h.code: h.level for h in his_run().ref.hospitals}
    mistyped = {id(r) for r in _first_versions_of_demographic_revisions()}  # settled on the true age
    shares = []
    for record in his_run().records:
        if record["infno"] != "2304" or id(record) in mistyped:
            continue
        s = record["setlinfo"]
        insutype, level = s["insutype"], levels[record["fixmedins_code"]]
        base = money(record, "inscp_scp_amt") - money(record, "preselfpay_amt")
        deductible = min(Decimal(policy.deductible[(insutype, level)]) / 100, base)
        assert money(record, "act_pay_dedc") == deductible
        ratio = Decimal(s["pool_prop_selfpay"])
        bonus = Decimal(policy.retiree_bonus) / 1000 if insutype == "310" and int(s["age"]) >= 60 else 0
        assert ratio == Decimal(policy.pooled_ratio[(insutype, level)]) / 1000 + bonus
        expected = ((base - deductible) * ratio).quantize(Decimal("0.01"), rounding=ROUND_FLOOR)
        cap = Decimal(policy.pooled_cap[insutype]) / 100
        assert money(record, "hifp_pay") == min(expected, cap), s["setl_id"]
        assert (money(record, "acct_pay") > 0) <= (insutype == "310")  # residents have no personal account
        shares.append(money(record, "fund_pay_sumamt") / money(record, "medfee_sumamt"))
    mean = sum(shares) / len(shares)
    assert Decimal("0.55") < mean < Decimal("0.85"), mean  # Chinese inpatient fund shares are around 70%


def test_every_list_has_its_record_and_the_story_of_each_is_told_in_order() -> None:
    run: Run = his_run()
    by_setl: dict[str, list[tuple[int, dict[str, Any]]]] = defaultdict(list)
    for i, record in enumerate(run.records):
        by_setl[record["setlinfo"]["setl_id"]].append((i, record))
    times = [datetime.strptime(r["setlinfo"]["setl_time"], "%Y-%m-%d %H:%M:%S") for r in run.records
             if r["infno"] == "2304"]
    assert times == sorted(times)  # in the order the core system sent them
    listed = set()
    stories: Counter[str] = Counter()
    for request, truth in run.lists:
        s = request["input"]["setlinfo"]
        events = by_setl[truth["setl_id"]]
        kinds = [r["infno"] for _, r in events]
        assert kinds == (["2304", "2304"] if truth["record_story"].startswith("REVISED") else ["2304"])
        last = events[-1][1]
        assert last["fixmedins_code"] == request["fixmedins_code"]
        assert (last["setlinfo"]["psn_no"], last["setlinfo"]["mdtrt_id"]) == (s["psn_no"], s["mdtrt_id"])
        assert last["setlinfo"]["medfee_sumamt"] == truth["total"]
        assert last["setlinfo"]["fund_pay_sumamt"] == truth["fund"]
        assert (last["setlinfo"]["gend"], int(last["setlinfo"]["age"])) == (str(truth["sex"]), truth["age_years"])
        for reversed_id in truth["reversed_setl_ids"]:
            assert [r["infno"] for _, r in by_setl[reversed_id]] == ["2304", "2305"]
            assert by_setl[reversed_id][-1][0] < events[0][0]  # reversed before the new settlement
        assert bool(truth["reversed_setl_ids"]) == (truth["record_story"] == "RESETTLED")
        if truth["record_story"] == "REVISED_MONEY":
            first = events[0][1]["setlinfo"]
            assert Decimal(first["medfee_sumamt"]) < Decimal(truth["total"])
        if truth["record_story"] == "REVISED_DEMOGRAPHICS":
            first = events[0][1]["setlinfo"]
            assert (first["gend"], first["brdy"]) != (last["setlinfo"]["gend"], last["setlinfo"]["brdy"])
            assert first["certno"] == last["setlinfo"]["certno"]
        listed.add(truth["setl_id"])
        listed.update(truth["reversed_setl_ids"])
        stories[truth["record_story"]] += 1
    cancelled = [k for k, events in by_setl.items() if k not in listed]
    assert cancelled and all([r["infno"] for _, r in by_setl[k]] == ["2304", "2305"] for k in cancelled)
    n, p = len(run.lists), run.params
    assert abs(stories["REVISED_MONEY"] + stories["REVISED_DEMOGRAPHICS"] - n * p.record_revision_rate) < \
        5 * (n * p.record_revision_rate) ** 0.5 + 5
    assert abs(stories["RESETTLED"] - n * p.resettlement_rate) < 5 * (n * p.resettlement_rate) ** 0.5 + 5
    assert abs(len(cancelled) - n * p.cancelled_settlement_rate) < 5 * (n * p.cancelled_settlement_rate) ** 0.5 + 5


def test_people_keep_their_identity_across_records() -> None:
    seen: dict[str, tuple[str, str, str, str]] = {}
    revised_first = {id(r) for r in _first_versions_of_demographic_revisions()}
    for record in his_run().records:
        if record["infno"] != "2304" or id(record) in revised_first:
            continue
        s = record["setlinfo"]
        identity = (s["psn_name"], s["gend"], s["brdy"], s["certno"])
        assert seen.setdefault(s["psn_no"], identity) == identity
        certno = s["certno"]
        assert certno[6:14] == s["brdy"].replace("-", "") and int(certno[16]) % 2 == (s["gend"] == "1")
        weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
        assert certno[17] == "10X98765432"[sum(int(c) * w for c, w in zip(certno, weights, strict=False)) % 11]
    assert len(seen) < len(his_run().lists) * 0.9  # people come back


def _first_versions_of_demographic_revisions() -> list[dict[str, Any]]:
    run = his_run()
    revised = {t["setl_id"] for _, t in run.lists if t["record_story"] == "REVISED_DEMOGRAPHICS"}
    firsts = {}
    for record in run.records:
        key = record["setlinfo"]["setl_id"]
        if key in revised and key not in firsts:
            firsts[key] = record
    return list(firsts.values())


def test_his_lists_carry_every_4101a_property_as_strings_and_nothing_else() -> None:
    fields = spec_fields("input_4101A_setlinfo_fields.csv", "field_openhis")
    if not fields:
        pytest.skip("../shared/spec is not present: the 4101A field list cannot be read")
    subnodes: dict[str, list[str]] = defaultdict(list)
    for node, field in zip(spec_fields("input_4101A_subnodes_fields.csv", "node"),
                           spec_fields("input_4101A_subnodes_fields.csv"), strict=True):
        subnodes[node].append(field)
    styles: dict[str, set[Any]] = defaultdict(set)
    for request, _ in his_run().lists:
        body = request["input"]
        assert list(body) == ["setlinfo", "diseinfo", "oprninfo", "icuinfo", "bldinfo", "opspdiseinfo"]
        s = body["setlinfo"]
        canonical = [{v: k for k, v in ALIASES.items()}.get(k, k) for k in s]
        assert canonical == fields
        assert all(v is None or isinstance(v, str) for v in s.values())
        styles[request["fixmedins_code"]] |= {v for v in s.values() if v in (None, "")}
        for node in ("diseinfo", "oprninfo", "icuinfo", "bldinfo"):
            assert all(list(row) == subnodes[node] for row in body[node]), node
        assert all(isinstance(v, str) for node in ("diseinfo", "oprninfo", "icuinfo", "bldinfo")
                   for row in body[node] for v in row.values())
        assert not {"psn_name", "gend", "brdy", "age", "insutype", "nwb_age"} & set(s)
    assert all(len(unset) == 1 for unset in styles.values())  # one hospital system, one way to send unset
    assert {frozenset(u) for u in styles.values()} == {frozenset({None}), frozenset({""})}
