"""The national door's pure parts: HIS-form normalisation, input limits, plausibility, envelope, gateway keys."""

from __future__ import annotations

import copy
import hashlib
import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from libs.common.reference import BUNDLED_SAMPLE
from services.collection.api.gateway import Gateway, GatewayConfigError, GatewayError, signature
from services.collection.domain.dialects import normalise, read_time
from services.collection.domain.envelope import (
    _CONTROL,
    _LONGEST,
    _plain_fields,
    error_message,
    nesting,
    read_envelope,
    read_json,
)
from services.collection.domain.fields import ENVELOPE, MAX_DEPTH
from services.collection.domain.limits import bounded, input_limits, plausibility_at
from services.collection.domain.model import Severity, error, warning
from services.collection.domain.parsing import parse_list

SAMPLE = json.loads((BUNDLED_SAMPLE / "settlement_list_4101A.json").read_text(encoding="utf-8"))
CODE = SAMPLE["fixmedins_code"]
NOW = datetime(2026, 3, 1, 12, 0, 0)


def body() -> dict[str, Any]:
    return copy.deepcopy(SAMPLE["input"])


# -- HIS form -> internal form ------------------------------------------------------------------------------------

def test_absent_values_are_left_out_everywhere() -> None:
    his = body()
    his["setlinfo"] |= {"hi_no": "", "ntly": None, "curr_addr": "   ", "poscode": "\u3000"}
    his["icuinfo"] = [{"scs_cutd_ward_type": "", "scs_cutd_inpool_time": None, "scs_cutd_exit_time": "",
                       "scs_cutd_sum_dura": ""}]
    his["bldinfo"] = None
    his["opspdiseinfo"] = ""
    out = normalise(his)
    assert not {"hi_no", "ntly", "curr_addr", "poscode"} & set(out["setlinfo"])
    assert out["icuinfo"] == [] and "bldinfo" not in out and "opspdiseinfo" not in out
    assert out["setlinfo"]["setl_id"] == SAMPLE["input"]["setlinfo"]["setl_id"]


@pytest.mark.parametrize(("field", "sent", "internal"), [
    ("age", "64", 64), ("age", "64.0", 64), ("age", 64.5, 64), ("age", " 7 ", 7),
    ("nwb_age", "12", 12), ("nwb_bir_wt", "3200.00", 3200), ("nwb_bir_wt", "3205.5", 3206), ("nwb_adm_wt", "0", None),
    ("act_ipt_days", "9.0", 9), ("act_ipt_days", "9.5", "9.5"), ("gend", 1, "1"), ("dscg_way", 1.0, "1"),
    ("medfee_sumamt", "27490.85", "27490.85"), ("medfee_sumamt", 450, "450.00"), ("medfee_sumamt", 19874.68,
                                                                                   "19874.68"),
    ("medfee_sumamt", "450.5", "450.50"), ("medfee_sumamt", "4.505", "4.505"), ("medfee_sumamt", "abc", "abc"),
    ("setl_begn_date", "2026-02-01 00:00:00", "2026-02-01"), ("setl_end_date", "2026-02-09T00:00:00.000+08:00",
                                                            "2026-02-09"),
    ("setl_end_date", "2026-02-08T16:30:00Z", "2026-02-09"), ("setl_end_date", "20260209", "2026-02-09"),
    ("adm_time", "2026/2/1 8:40", "2026-02-01 08:40:00"), ("adm_time", "2026-02-01", "2026-02-01 00:00:00"),
    ("adm_time", "20260201084000", "2026-02-01 08:40:00"), ("adm_time", 1769906400000, "2026-02-01 08:40:00"),
    ("adm_time", "2026-02-30 08:00:00", "2026-02-30 08:00:00"), ("psn_name", "  张三 ", "张三"),
])
def test_numbers_dates_and_codes_take_one_internal_form(field: str, sent: Any, internal: Any) -> None:
    his = body()
    his["setlinfo"][field] = sent
    out = normalise(his)["setlinfo"]
    assert out.get(field) == internal


def test_spellings_and_case_are_canonical() -> None:
    his = body()
    del his["setlinfo"]["insutype"]
    his["setlinfo"] |= {"hi_type": "390", "NWBBIRWT": "1800", "nwb_adm_type": "", "nwb_admtype": "1"}
    out = normalise(his)["setlinfo"]
    assert out["insutype"] == "390" and "hi_type" not in out
    assert out["nwb_bir_wt"] == 1800 and out["nwb_adm_type"] == "1"
    both = normalise({"setlinfo": {"insutype": "310", "hi_type": "390"}})["setlinfo"]
    assert both == {"insutype": "310"}


def test_a_list_in_his_form_parses_like_the_plain_one() -> None:
    plain, _ = parse_list(CODE, "", body())
    his = body()
    s = his["setlinfo"]
    s |= {"age": str(s["age"]), "setl_begn_date": s["setl_begn_date"] + " 00:00:00", "hi_no": "", "ntly": None}
    his["setlinfo"] = {k.upper() if k == "mdtrt_id" else k: v for k, v in s.items()}
    for item in his["iteminfo"]:
        item["amt"] = float(item["amt"])
    parsed, findings = parse_list(CODE, "", his)
    assert plain is not None and parsed is not None, findings
    assert parsed.facts == plain.facts and parsed.total_fen == plain.total_fen
    assert parsed.body["setlinfo"]["mdtrt_id"] == SAMPLE["input"]["setlinfo"]["mdtrt_id"]


def test_read_time_refuses_what_is_not_a_time() -> None:
    for bad in ("yesterday", "2026-13-01", "2026-02-01 25:00:00", "1" * 100, "", True, 12, None, 3.5):
        assert read_time(bad) is None, bad


# -- input limits -------------------------------------------------------------------------------------------------

def limit_codes(his: dict[str, Any], code: str = CODE) -> set[str]:
    return {f.code for f in input_limits(normalise(his), code)}


@pytest.mark.parametrize(("path", "value", "rule"), [
    ("setlinfo.setl_id", "S" * 31, "QC-LIM-001"), ("setlinfo.psn_name", "张" * 51, "QC-LIM-001"),
    ("setlinfo.setl_id", "S\x00", "QC-LIM-002"), ("setlinfo.psn_name", "a\x1bb", "QC-LIM-002"),
    ("setlinfo.medins_fill_psn", "a\u0085b", "QC-LIM-002"), ("diseinfo.0.diag_code", "I2\n1", "QC-LIM-002"),
    ("setlinfo.age", 2147483647, "QC-LIM-004"), ("setlinfo.age", -1, "QC-LIM-004"), ("setlinfo.age", "x", "QC-LIM-003"),
    ("setlinfo.nwb_bir_wt", 2**40, "QC-LIM-004"), ("setlinfo.nwb_bir_wt", 3.0, "QC-LIM-004"),
    ("setlinfo.nwb_age", 400, "QC-LIM-004"), ("setlinfo.act_ipt_days", 10**6, "QC-LIM-004"),
    ("setlinfo.gend", {"a": 1}, "QC-LIM-003"), ("setlinfo.gend", True, "QC-LIM-003"),
    ("setlinfo.medfee_sumamt", "9" * 30, "QC-LIM-001"), ("setlinfo.province_extra", "x" * 501, "QC-LIM-001"),
    ("setlinfo.province_extra", "a\x00", "QC-LIM-002"), ("diseinfo", [{"diag_code": "I10"}] * 101, "QC-LIM-005"),
    ("setlinfo.extra", {"a": {"b": {"c": {"d": {"e": {"f": {"g": {"h": {"i": {"j": {"k": {"l": {"m": {"n": {
        "o": {"p": 1}}}}}}}}}}}}}}}}, "QC-LIM-005"),
    ("extra_node", list(range(1001)), "QC-LIM-005"),
])
def test_each_limit_fires_on_its_fault(path: str, value: Any, rule: str) -> None:
    his = body()
    *parents, last = path.split(".")
    node: Any = his
    for part in parents:
        node = node[int(part)] if part.isdigit() else node[part]
    node[last] = value
    assert rule in limit_codes(his)


def test_the_sample_is_within_every_limit_and_a_bad_institution_is_not() -> None:
    assert limit_codes(body()) == set()
    assert limit_codes(body(), "H1" * 3000) == {"QC-LIM-006"}
    assert input_limits(normalise(body()), CODE, NOW) == []


def test_many_properties_and_long_keys_are_refused_without_echoing_them() -> None:
    his = body()
    his["setlinfo"] |= {f"x{i}": "1" for i in range(400)}
    his["setlinfo"]["\x00" + "k" * 10_000] = 1
    findings = input_limits(normalise(his), CODE)
    assert {f.code for f in findings} == {"QC-LIM-005"}
    assert all(len(f.message_en) < 200 for f in findings)


def test_a_list_beyond_its_limits_is_refused_before_anything_reads_it() -> None:
    his = body()
    his["diseinfo"] = [{"diag_code": f"X{i:05d}", "maindiag_flag": "0"} for i in range(42_000)]
    parsed, findings = parse_list(CODE, "", his)
    assert parsed is None and [f.code for f in findings] == ["QC-LIM-005"]
    assert "42000 entries, at most 100" in findings[0].message_en


# -- plausibility -------------------------------------------------------------------------------------------------

def implausible(his: dict[str, Any]) -> set[str]:
    body = normalise(his)
    return {f.code for f in input_limits(body, CODE, NOW) + plausibility_at(body, NOW)}


@pytest.mark.parametrize(("changes", "rule"), [
    ({"adm_time": "1989-12-31 08:00:00", "setl_begn_date": "1989-12-31"}, "QC-LIM-007"),
    ({"dscg_time": "2099-01-01 08:00:00"}, "QC-LIM-007"), ({"dscg_time": "2099-01-01T08:00:00Z"}, "QC-LIM-007"),
    ({"setl_end_date": "2026-03-03"}, "QC-LIM-007"), ({"setl_end_date": "0001-01-01"}, "QC-LIM-007"),
    ({"brdy": "2026-02-02"}, "QC-LIM-008"), ({"brdy": "1860-01-01"}, "QC-LIM-008"),
    ({"adm_time": "2010-01-01 08:00:00"}, "QC-LIM-009"),
    ({"medfee_sumamt": "-1.00"}, "QC-LIM-010"), ({"acct_pay": "20000000.01"}, "QC-LIM-011"),
    ({"acct_pay": 9999999999.99}, "QC-LIM-011"),
])
def test_implausible_lists_are_named(changes: dict[str, Any], rule: str) -> None:
    his = body()
    his["setlinfo"] |= changes
    assert rule in implausible(his)


def test_a_plausible_list_passes_and_the_window_ends_a_day_after_the_clock() -> None:
    assert implausible(body()) == set()
    his = body()
    his["setlinfo"]["dscg_time"] = "2026-03-02 11:59:00"
    his["setlinfo"]["acct_pay"] = "20000000.00"
    his["iteminfo"][0]["amt"] = "-3.00"
    found = input_limits(normalise(his), CODE, NOW)
    assert [(f.code, f.field) for f in found] == [("QC-LIM-010", "iteminfo[0].amt")]


def test_findings_are_bounded_with_a_count() -> None:
    many = [error("QC-DX-002", f"diseinfo[{i}].diag_code", "x", "x") for i in range(250)]
    kept = bounded(many)
    assert len(kept) == 101 and kept[-1].code == "QC-LIM-099" and "150 more" in kept[-1].message_en
    assert kept[-1].severity is Severity.ERROR
    assert bounded([warning("W", "", "w", "w")] * 3) == (warning("W", "", "w", "w"),) * 3
    assert error_message(list(kept)).count(";") == 100


# -- envelope -----------------------------------------------------------------------------------------------------

def test_json_with_a_bom_and_crlf_reads_and_deep_json_does_not() -> None:
    text = json.dumps(SAMPLE, ensure_ascii=False, indent=2).replace("\n", "\r\n").encode()
    value, problems = read_json(b"\xef\xbb\xbf" + text)
    assert problems == [] and value == SAMPLE
    deep = b"[" * 300 + b"]" * 300
    value, problems = read_json(deep)
    assert value is None and "nested deeper" in problems[0].message_en
    assert nesting({"a": [1, {"b": []}]}) == 4 and nesting(5) == 0
    assert read_json(b"[" * (MAX_DEPTH) + b"]" * (MAX_DEPTH))[1] == []


def test_envelope_fields_have_limits() -> None:
    for change in ({"opter_name": "x" * 51}, {"fixmedins_name": "医院\x00"}, {"sign_no": ["a"]}):
        env, problems = read_envelope({**SAMPLE, **change}, None)
        assert env is None and {p.code for p in problems} == {"ENV-006"}, change
    long = "9" * 5000
    env, problems = read_envelope({**SAMPLE, "infno": long}, None)
    assert env is None and all(len(p.message_en) < 200 for p in problems)
    assert read_envelope({**SAMPLE, "msgid": SAMPLE["msgid"][:12] + "٢" * 18}, None)[0] is None


@settings(max_examples=500, deadline=None)
@given(st.dictionaries(st.sampled_from([*ENVELOPE, "input", "province_extra"]), st.one_of(
    st.none(), st.text(alphabet=st.sampled_from("ab 医\x00\t\x85\x1f"), max_size=12), st.integers(),
    st.text(min_size=1990, max_size=2010), st.lists(st.text(max_size=2), max_size=1))))
def test_the_envelope_s_texts_are_plain_when_each_one_is(request: dict[str, Any]) -> None:
    """The control characters of all of an envelope's texts are searched for at once: as each text alone."""
    each = all(value is None or value == "" or (type(value) is str and len(value) <= _LONGEST[name]
                                               and not _CONTROL.search(value))
               for name, value in request.items() if name in _LONGEST)
    assert _plain_fields(request) == each


# -- gateway ------------------------------------------------------------------------------------------------------

def signed(stamp: str, secret: str, nonce: str, paasid: str = "pa") -> dict[str, str]:
    return {"x-tif-paasid": paasid, "x-tif-timestamp": stamp, "x-tif-nonce": nonce,
            "x-tif-signature": signature(stamp, secret, nonce)}


def test_signed_requests_authenticate_within_the_window() -> None:
    gateway = Gateway.parse("pa:se:cr:et:H33070300089")  # a secret holding ":" is read whole
    stamp = "1700000000"
    credential = gateway.authenticate(signed(stamp, "se:cr:et", "n1"), now=1700000010)
    assert (credential.institution, credential.key_id, credential.nonce) == ("H33070300089", "tif:pa", "n1")
    with pytest.raises(GatewayError, match="within"):
        gateway.authenticate(signed(stamp, "se:cr:et", "n2"), now=1700009999)
    with pytest.raises(GatewayError, match="signature"):
        gateway.authenticate(signed(stamp, "wrong", "n3"), now=1700000010)
    with pytest.raises(GatewayError, match="nonce"):
        gateway.authenticate(signed(stamp, "se:cr:et", "n" * 65), now=1700000010)
    with pytest.raises(GatewayError, match="no credentials"):
        gateway.authenticate({}, now=1700000010)


def test_api_keys_are_held_hashed_and_authenticate(tmp_path: Path) -> None:
    key = "k3y-with:colon-and-more"
    hashed = hashlib.sha256(b"another-long-api-key").hexdigest()
    file = tmp_path / "apikeys"
    file.write_text(f"# hospital B\nH33070300090:sha256:{hashed}\n\nH33070300091:a,key,with,commas\n")
    gateway = Gateway.parse(apikeys=f"H33070300089:{key}", apikeys_file=file)
    assert key not in repr(gateway) and hashed in gateway.apikeys
    assert gateway.authenticate({"apikey": key}, now=0).institution == "H33070300089"
    assert gateway.authenticate({"apikey": "another-long-api-key"}, now=0).institution == "H33070300090"
    assert gateway.authenticate({"apikey": "a,key,with,commas"}, now=0).institution == "H33070300091"
    with pytest.raises(GatewayError, match="no known API key"):
        gateway.authenticate({"apikey": key + "x", **signed("1", "s", "n")}, now=0)


@pytest.mark.parametrize(("keys", "apikeys", "message"), [
    ("pa:S3CR3T", "", "expected paasid:secret"), ("pa::H33070300089", "", "secret of paasid 'pa' is empty"),
    (":S3CR3T:H33070300089", "", "paasid of 1-64"), ("pa:S3CR3T:H1", "", "institution code"),
    ("pa:S3CR3T:H33070300089,pa:S3CR3T:H33070300090", "", "twice"), ("", "H1:S3CR3TS3CR3TS3CR3T", "H33070300089:<key>"),
    ("", "H33070300089:S3CR3T", "shorter than 16"), ("", "H33070300089", "shorter than 16"),
    ("", "H33070300089:S3CR3TS3CR3TS3CR3T,H33070300090:S3CR3TS3CR3TS3CR3T", "two institutions"),
])
def test_malformed_keys_stop_start_up_without_echoing_secrets(keys: str, apikeys: str, message: str) -> None:
    with pytest.raises(GatewayConfigError, match=message) as refused:
        Gateway.parse(keys, apikeys)
    assert "S3CR3T" not in refused.value.message and refused.value.reason == "GATEWAY_CONFIG_INVALID"


def test_a_missing_key_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(GatewayConfigError, match="MEDPAY_GATEWAY_KEYS_FILE"):
        Gateway.parse(keys_file=tmp_path / "absent")


def test_the_door_reads_api_keys_and_the_failure_status_from_the_environment(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """MEDPAY_GATEWAY_APIKEYS (comma-separated), MEDPAY_GATEWAY_APIKEYS_FILE (one a line) and
    MEDPAY_GATEWAY_FAILURE_STATUS as an operator sets them, read into the door the service starts."""
    from libs.common.config import Settings
    from services.collection.bootstrap import door_policy, gateway_of

    file = tmp_path / "apikeys"
    file.write_text("# mounted secret\nH33070300091:key-of-the-third-hospital\n", encoding="utf-8")
    monkeypatch.setenv("MEDPAY_GATEWAY_APIKEYS", "H33070300089:key-of-the-first-hospital,"
                                                 "H33070300090:key-of-the-second-hospital")
    monkeypatch.setenv("MEDPAY_GATEWAY_APIKEYS_FILE", str(file))
    monkeypatch.delenv("MEDPAY_GATEWAY_KEYS", raising=False)
    monkeypatch.delenv("MEDPAY_GATEWAY_KEYS_FILE", raising=False)
    monkeypatch.delenv("MEDPAY_GATEWAY_FAILURE_STATUS", raising=False)
    settings = Settings()
    gateway = gateway_of(settings)
    assert gateway.enabled and not gateway.keys and "key-of-the-first-hospital" not in repr(gateway)
    for code, key in (("H33070300089", "key-of-the-first-hospital"), ("H33070300090", "key-of-the-second-hospital"),
                      ("H33070300091", "key-of-the-third-hospital")):
        assert gateway.authenticate({"apikey": key}, now=0).institution == code
    assert door_policy(settings).failure_status == 401
    monkeypatch.setenv("MEDPAY_GATEWAY_FAILURE_STATUS", "200")
    assert door_policy(Settings()).failure_status == 200
    monkeypatch.setenv("MEDPAY_GATEWAY_FAILURE_STATUS", "500")
    with pytest.raises(ValueError, match="gateway_failure_status"):
        Settings()
