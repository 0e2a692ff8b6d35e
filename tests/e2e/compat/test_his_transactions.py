"""Compatibility: the national transactions exactly as hospital systems serialise them, against the live door.

Every request here is built by ``his.py`` the way deployed HIS build theirs (every property, nulls or empty
strings, numbers as strings, date-times for dates, CRLF-indented JSON, a byte-order mark, the base URL with infno
only in the body, an apikey header) and posted over real HTTP to the door with gateway authentication on.
"""

from __future__ import annotations

import csv
import json
import random
from typing import Any

import grpc
import httpx
import pytest
from medpay.collection.v1 import collection_service_pb2 as pb
from medpay.collection.v1 import collection_service_pb2_grpc as pb_grpc

from services.collection.api.gateway import Gateway
from services.collection.api.http import DoorPolicy
from services.collection.api.http_server import HttpDoor, HttpDoorConfig
from services.collection.domain.dialects import SETLINFO_ALIASES, normalise
from services.collection.domain.fields import NODES, SETLINFO

from ...support import free_port, shared_or_skip
from ..doors import with_gateway
from ..his import settlement_record
from ..lists import details_of
from . import his
from .conftest import HisDoor

DIALECT_IDS = [d.name for d in his.DIALECTS]


async def post(base: str, request: dict[str, Any], dialect: his.Dialect, apikey: str) -> httpx.Response:
    async with httpx.AsyncClient(timeout=60) as client:
        return await client.post(base, content=his.serialise(request, dialect), headers=his.headers(apikey))


def clean(door: HisDoor, first: int, count: int) -> list[dict[str, Any]]:
    return [r for r, t in door.rows if not t["faults"]][first:first + count]


def test_the_field_table_knows_every_national_field() -> None:
    spec = shared_or_skip() / "spec"
    known = set(SETLINFO) | set(SETLINFO_ALIASES)
    with (spec / "input_4101A_setlinfo_fields.csv").open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            assert row["field_openhis"] in known, row
    with (spec / "input_4101_fields.csv").open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            fields = SETLINFO if row["node"] == "setlinfo" else NODES[row["node"]]
            assert row["field"] in fields or row["field"] in SETLINFO_ALIASES, row
    with (spec / "input_4101A_subnodes_fields.csv").open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            assert row["field"] in NODES[row["node"]], row


@pytest.mark.parametrize("dialect", his.DIALECTS, ids=DIALECT_IDS)
async def test_sign_in(his_door: HisDoor, dialect: his.Dialect) -> None:
    request = clean(his_door, 0, 1)[0]
    reply = await post(his_door.base, his.sign_in_9001(request, dialect, random.Random(1)), dialect,
                       his_door.key(request["fixmedins_code"]))
    body = reply.json()
    assert reply.status_code == 200 and body["infcode"] == 0, body
    assert len(body["output"]["signinoutb"]["sign_no"]) == 26 and len(body["inf_refmsgid"]) == 30


@pytest.mark.parametrize("index", range(len(his.DIALECTS)), ids=DIALECT_IDS)
async def test_4101a_with_the_provinces_patient_fields_is_accepted_and_grouped_as_sent_plainly(
        his_door: HisDoor, index: int) -> None:
    dialect = his.DIALECTS[index]
    rng = random.Random(100 + index)
    truth = {t["setl_id"]: t for r, t in his_door.rows}
    for plain in clean(his_door, 20 * index, 20):
        request = his.upload_4101a(plain, dialect, rng, patient=True)
        assert request["input"]["setlinfo"]["hi_type"] and "insutype" not in request["input"]["setlinfo"]
        reply = await post(his_door.base, request, dialect, his_door.key(plain["fixmedins_code"]))
        body = reply.json()
        assert reply.status_code == 200 and body["infcode"] == 0, body["err_msg"]
        stored = await his_door.app.lists.get(body["output"]["setl_list_id"])
        expected = normalise(plain["input"])
        assert stored.body["setlinfo"] == expected["setlinfo"]
        assert stored.body["diseinfo"] == expected["diseinfo"]
        assert stored.group.drg == truth[plain["input"]["setlinfo"]["setl_id"]]["intended_drg"]


async def test_4102_changes_several_lists_in_one_call_and_answers_each(his_door: HisDoor) -> None:
    dialect, rng = his.DIALECTS[0], random.Random(7)
    code = clean(his_door, 60, 1)[0]["fixmedins_code"]
    mine = [r for r in clean(his_door, 60, 80) if r["fixmedins_code"] == code][:3]
    key = his_door.key(code)
    for plain in mine:
        assert (await post(his_door.base, his.upload_4101a(plain, dialect, rng, patient=True), dialect,
                           key)).json()["infcode"] == 0
    who = [(r["input"]["setlinfo"]["psn_no"], r["input"]["setlinfo"]["setl_id"]) for r in mine]
    changes = [(p, s, "0") for p, s in who] + [(who[0][0], "330700S_NO_SUCH_LIST", "0"),
                                               ("33070099999999999999", who[1][1], "1")]
    reply = await post(his_door.base, his.status_4102(mine[0], changes, dialect, rng), dialect, key)
    body = reply.json()
    results = body["output"]["stastinfo"]
    assert body["infcode"] == -1 and [r["infcode"] for r in results] == [0, 0, 0, -1, -1]
    assert [r["status"] for r in results[:3]] == ["REVOKED"] * 3
    assert "stastinfo[3]" in body["err_msg"] and "stastinfo[4]" in body["err_msg"]
    assert all("SETTLEMENT_LIST_NOT_FOUND" in r["err_msg"] for r in results[3:])
    for psn_no, setl_id in who:
        stored = await his_door.app.lists.get(fixmedins_code=code, setl_id=setl_id)
        assert stored.status == "REVOKED" and stored.psn_no == psn_no
    back = await post(his_door.base, his.status_4102(mine[0], [(who[0][0], who[0][1], "1")], dialect, rng),
                      dialect, key)
    assert back.json()["infcode"] == 0 and back.json()["output"]["stastinfo"][0]["status"] == "ACTIVE"


@pytest.mark.parametrize("dialect", his.DIALECTS, ids=DIALECT_IDS)
async def test_4103_answers_with_the_national_output_nodes_at_the_top(his_door: HisDoor,
                                                                        dialect: his.Dialect) -> None:
    rng = random.Random(11)
    plain = clean(his_door, 90 + his.DIALECTS.index(dialect), 1)[0]
    key = his_door.key(plain["fixmedins_code"])
    assert (await post(his_door.base, his.upload_4101a(plain, dialect, rng, patient=True), dialect,
                       key)).json()["infcode"] == 0
    s = plain["input"]["setlinfo"]
    body = (await post(his_door.base, his.query_4103(plain, s["psn_no"], s["setl_id"], dialect, rng), dialect,
                       key)).json()
    out = body["output"]
    expected = normalise(plain["input"])
    assert body["infcode"] == 0, body["err_msg"]
    assert {"setlinfo", "diseinfo", "oprninfo", "icuinfo", "bldinfo", "payinfo", "iteminfo"} <= set(out)
    assert out["setlinfo"]["setl_id"] == s["setl_id"] and out["setlinfo"]["stas_type"] == "1"
    assert out["diseinfo"] == expected["diseinfo"] and out["iteminfo"] == expected["iteminfo"]
    assert out["payinfo"] == expected["payinfo"] and "input" not in out
    other = (await post(his_door.base, his.query_4103(plain, "33070099999999999999", s["setl_id"], dialect, rng),
                        dialect, key)).json()
    assert other["infcode"] == -1 and "SETTLEMENT_LIST_NOT_FOUND" in other["err_msg"]


async def test_a_reused_msgid_is_refused_in_plain_words(his_door: HisDoor) -> None:
    """Such a client draws a random 4-digit suffix per second: now and then two uploads share a msgid."""
    dialect = his.DIALECTS[1]
    plain = clean(his_door, 100, 1)[0]
    first = his.upload_4101a(plain, dialect, random.Random(5), patient=True)
    second = his.upload_4101a(plain, dialect, random.Random(5), patient=True)
    second["input"]["setlinfo"]["medins_fill_psn"] = "另一位编码员"
    assert first["msgid"] == second["msgid"]
    key = his_door.key(plain["fixmedins_code"])
    assert (await post(his_door.base, first, dialect, key)).json()["infcode"] == 0
    reply = (await post(his_door.base, second, dialect, key)).json()
    assert reply["infcode"] == -1
    assert reply["err_msg"] == "msgid already used for other content; resend with a new msgid (REQUEST_ID_REUSED)"


async def test_authentication_failures_are_answered_in_the_envelope_401_or_200(his_door: HisDoor) -> None:
    dialect, rng = his.DIALECTS[1], random.Random(3)
    plain = clean(his_door, 110, 1)[0]
    request = his.upload_4101a(plain, dialect, rng, patient=True)
    wrong = await post(his_door.base, request, dialect, "not-a-key-of-anyone")
    assert wrong.status_code == 401 and wrong.json()["infcode"] == -1
    assert "apikey" in wrong.json()["err_msg"] and "ENV-401" in wrong.json()["err_msg"]
    other = next(c for c in his_door.apikeys if c != plain["fixmedins_code"])
    foreign = await post(his_door.base, request, dialect, his_door.key(other))
    assert foreign.status_code == 403 and f"acts for {other}" in foreign.json()["err_msg"]
    async with httpx.AsyncClient() as client:  # no credentials and no valid body: 401, not a validation error
        bare = await client.post(his_door.base, content=b"{not json", headers={"content-type": "application/json"})
    assert bare.status_code == 401 and "no credentials" in bare.json()["err_msg"]
    lenient = with_gateway(
        his_door.app.interface,
        Gateway.parse(apikeys=f"{plain['fixmedins_code']}:{his_door.key(plain['fixmedins_code'])}"),
        DoorPolicy(failure_status=200))
    door = HttpDoor(lenient.app(), HttpDoorConfig(f"127.0.0.1:{free_port()}"), lenient.busy)
    await door.start()
    try:
        base = f"http://127.0.0.1:{door.port}/api/v1/hsa"
        answered = await post(base, request, dialect, "not-a-key-of-anyone")
        assert answered.status_code == 200 and answered.json()["infcode"] == -1
        assert "ENV-401" in answered.json()["err_msg"]
        accepted = await post(base, request, dialect, his_door.key(plain["fixmedins_code"]))
        assert accepted.status_code == 200 and accepted.json()["infcode"] == 0
    finally:
        await door.stop()


async def send_records(door: HisDoor, plains: list[dict[str, Any]]) -> None:
    """The core system's settlement records (2304) of these stays, over the prefecture platform's gRPC door."""
    async with grpc.aio.insecure_channel(door.grpc_address) as channel:
        answer = await pb_grpc.CollectionServiceStub(channel).UploadSettlementRecords(
            pb.UploadSettlementRecordsRequest(records=[json.dumps(settlement_record(p), ensure_ascii=False).encode()
                                                       for p in plains]))
    assert answer.stored_count == len(plains), [r.error for r in answer.results]


@pytest.mark.parametrize("index", range(len(his.DIALECTS)), ids=DIALECT_IDS)
async def test_4101a_as_the_national_node_set_waits_for_its_record_then_is_grouped(
        his_door: HisDoor, index: int) -> None:
    """No demographics, no iteminfo/payinfo: the person and the money come from the settlement record."""
    dialect = his.DIALECTS[index]
    rng = random.Random(200 + index)
    truth = {t["setl_id"]: t for _, t in his_door.rows}
    plains = clean(his_door, 130 + 12 * index, 12)
    for plain in plains:
        request = his.upload_4101a(plain, dialect, rng, patient=False)
        s = request["input"]["setlinfo"]
        assert "psn_name" not in s and "iteminfo" not in request["input"] and "payinfo" not in request["input"]
        body = (await post(his_door.base, request, dialect, his_door.key(plain["fixmedins_code"]))).json()
        assert body["infcode"] == 0 and body["output"]["status"] == "PENDING" and not body["output"]["drg"], body
    await send_records(his_door, plains)
    for plain in plains:
        s = plain["input"]["setlinfo"]
        stored = await his_door.app.lists.get(fixmedins_code=plain["fixmedins_code"], setl_id=s["setl_id"])
        assert stored.status == "ACTIVE" and stored.group.drg == truth[s["setl_id"]]["intended_drg"]
    plain = plains[0]
    s = plain["input"]["setlinfo"]
    out = (await post(his_door.base, his.query_4103(plain, s["psn_no"], s["setl_id"], dialect, rng), dialect,
                      his_door.key(plain["fixmedins_code"]))).json()["output"]
    record = settlement_record(plain)
    assert {k: out["setlinfo"][k] for k in ("gend", "brdy", "insutype")} == {
        k: record["setlinfo"][k] for k in ("gend", "brdy", "insutype")}
    assert out["payinfo"] == record["setldetail"] and out["setlinfo"]["stas_type"] == "1"
    # No iteminfo in the list nor in the record: once the stay's fee details (2301) are in, 4103 sums them by
    # fee category (the class amounts stay unset: details do not carry them).
    assert out["iteminfo"] == []
    key = his_door.key(plain["fixmedins_code"])
    fees = await post(his_door.base, his.envelope(plain, "2301", {"feedetail": details_of(plain)}, dialect, rng),
                      dialect, key)
    assert fees.json()["infcode"] == 0, fees.json()["err_msg"]
    out = (await post(his_door.base, his.query_4103(plain, s["psn_no"], s["setl_id"], dialect, rng), dialect,
                      key)).json()["output"]
    assert [(i["med_chrgitm"], i["amt"], i["claa_sumfee"]) for i in out["iteminfo"]] == sorted(
        (i["med_chrgitm"], i["amt"], "") for i in plain["input"]["iteminfo"])
    # 2302 in the HIS form revokes them all ("0000"); the answer has no fee categories again.
    revoke = his.envelope(plain, "2302", {"data": {"mdtrt_id": s["mdtrt_id"], "feedetl_sn": "0000",
                                                   "psn_no": s["psn_no"]}}, dialect, rng)
    revoked = (await post(his_door.base, revoke, dialect, key)).json()
    assert revoked["infcode"] == 0 and revoked["output"]["stay_line_count"] == 0, revoked
    out = (await post(his_door.base, his.query_4103(plain, s["psn_no"], s["setl_id"], dialect, rng), dialect,
                      key)).json()["output"]
    assert out["iteminfo"] == []


async def test_4101a_after_its_record_is_grouped_at_once_and_newborns_keep_their_age_in_days(
        his_door: HisDoor) -> None:
    dialect, rng = his.DIALECTS[1], random.Random(17)
    truth = {t["setl_id"]: t for _, t in his_door.rows}
    newborns = [r for r in clean(his_door, 180, 10_000) if int(r["input"]["setlinfo"]["age"]) == 0][:4]
    plains = newborns + clean(his_door, 170, 6)
    assert newborns, "the synthetic month holds newborns"
    await send_records(his_door, plains)
    for plain in plains:
        request = his.upload_4101a(plain, dialect, rng, patient=False)
        assert "nwb_age" not in request["input"]["setlinfo"]  # not a 4101A field: derived from the birth date
        body = (await post(his_door.base, request, dialect, his_door.key(plain["fixmedins_code"]))).json()
        setl_id = plain["input"]["setlinfo"]["setl_id"]
        assert body["infcode"] == 0, body["err_msg"]
        assert body["output"]["status"] == "ACTIVE" and body["output"]["drg"] == truth[setl_id]["intended_drg"]
