"""The hospitals' door end to end: real servers, real PostgreSQL, synthetic lists over HTTP."""

from __future__ import annotations

import asyncio
import copy
import json
from typing import Any

import asyncpg
import httpx
import pytest

from libs.common.runtime import Runtime
from services.grouping.bootstrap import build_registry

from ..support import case_of
from .doors import with_gateway
from .lists import FAULT_RULES, fresh, post_all, scheme_id

App = tuple[Any, str, Any]


async def stored_count(database_url: str) -> tuple[int, int]:
    conn = await asyncpg.connect(database_url)
    try:
        lists = await conn.fetchval("SELECT count(*) FROM collection.settlement_list")
        revisions = await conn.fetchval("SELECT count(*) FROM collection.list_revision")
    finally:
        await conn.close()
    return int(lists), int(revisions)


async def test_a_synthetic_month_is_stored_and_grouped_as_the_engine_groups_it(
        collection_app: App, runtime: Runtime, database_url: str) -> None:
    _, base, app = collection_app
    rows = fresh(seed=21, cases=600)
    replies = await post_all(base, [r for r, _ in rows])
    registry = build_registry(runtime)
    accepted = 0
    for (request, truth), reply in zip(rows, replies, strict=True):
        if truth["faults"]:
            assert reply["infcode"] == -1, truth
            codes = {f["code"] for f in reply["output"]["findings"]}
            assert {FAULT_RULES[f] for f in truth["faults"]} <= codes, (truth["faults"], reply["err_msg"])
            continue
        assert reply["infcode"] == 0, reply["err_msg"]
        accepted += 1
        stored = await app.lists.get(reply["output"]["setl_list_id"])
        expected = registry.group(scheme_id(), [case_of(request["input"])])[0]
        assert stored.group is not None
        assert (stored.group.drg, stored.group.adrg, stored.group.mdc) == (expected.drg, expected.adrg, expected.mdc)
        assert stored.group.drg == truth["intended_drg"]
        assert stored.setl_id == truth["setl_id"] and stored.revision == 1
    assert accepted > 400


async def test_the_same_msgid_three_times_at_once_stores_one_revision(collection_app: App,
                                                                       database_url: str) -> None:
    _, base, _ = collection_app
    request = next(r for r, t in fresh(seed=22, cases=40) if not t["faults"])
    before = await stored_count(database_url)
    replies = await post_all(base, [request, request, request], concurrency=3)
    assert replies[0] == replies[1] == replies[2] and replies[0]["infcode"] == 0
    after = await stored_count(database_url)
    assert after == (before[0] + 1, before[1] + 1)


async def test_a_reused_msgid_with_other_content_is_refused(collection_app: App, database_url: str) -> None:
    _, base, _ = collection_app
    request = next(r for r, t in fresh(seed=23, cases=40) if not t["faults"])
    first = (await post_all(base, [request]))[0]
    other = copy.deepcopy(request)
    other["input"]["setlinfo"]["medins_fill_psn"] = "someone else"
    before = await stored_count(database_url)
    second = (await post_all(base, [other]))[0]
    assert first["infcode"] == 0 and second["infcode"] == -1
    assert second["err_msg"] == "msgid already used for other content; resend with a new msgid (REQUEST_ID_REUSED)"
    assert await stored_count(database_url) == before


async def test_a_new_msgid_for_the_same_list_makes_a_revision_and_keeps_the_old(collection_app: App) -> None:
    _, base, app = collection_app
    request = next(r for r, t in fresh(seed=24, cases=40) if not t["faults"])
    first = (await post_all(base, [request]))[0]
    again = copy.deepcopy(request)
    again["msgid"] = again["msgid"][:-4] + "9999"
    again["input"]["setlinfo"]["medins_fill_psn"] = "corrected by coder"
    second = (await post_all(base, [again]))[0]
    assert first["output"]["setl_list_id"] == second["output"]["setl_list_id"]
    assert (first["output"]["revision"], second["output"]["revision"]) == (1, 2)
    current = await app.lists.get(second["output"]["setl_list_id"])
    old = await app.lists.get(second["output"]["setl_list_id"], revision=1)
    assert current.revision_count == 2 and current.body["setlinfo"]["medins_fill_psn"] == "corrected by coder"
    assert old.body["setlinfo"]["medins_fill_psn"] == request["input"]["setlinfo"]["medins_fill_psn"]
    assert [h[2] for h in current.history] == ["upload", "revision 2"]


async def test_status_change_and_query_round_trip(collection_app: App) -> None:
    _, base, _ = collection_app
    request = next(r for r, t in fresh(seed=25, cases=40) if not t["faults"])
    (await post_all(base, [request]))[0]
    setl_id = request["input"]["setlinfo"]["setl_id"]
    change = {**request, "infno": "4102", "input": {"setl_id": setl_id, "stas_type": "0", "reason": "duplicate"}}
    query = {**request, "infno": "4103", "input": {"setl_id": setl_id}}
    changed, queried = await post_all(base, [change]), await post_all(base, [query])
    assert changed[0]["infcode"] == 0 and changed[0]["output"]["status"] == "REVOKED"
    out = queried[0]["output"]
    assert out["status"] == "REVOKED" and out["setlinfo"]["setl_id"] == setl_id and out["setlinfo"]["stas_type"] == "0"
    assert [h["reason"] for h in out["history"]] == ["upload", "duplicate"]


async def test_sign_in_returns_a_sign_number(collection_app: App) -> None:
    _, base, _ = collection_app
    request = next(r for r, _ in fresh(seed=25, cases=40))
    reply = (await post_all(base, [{**request, "infno": "9001", "input": {"signIn": {"opter_no": "1"}}}]))[0]
    assert reply["infcode"] == 0 and reply["output"]["signinoutb"]["sign_no"]
    assert len(reply["inf_refmsgid"]) == 30 and len(reply["respond_time"]) == 17


def malformed_requests(template: dict[str, Any]) -> list[tuple[str, bytes | dict[str, Any], str]]:
    """(path suffix, body, what err_msg must mention) for at least a thousand broken requests."""
    cases: list[tuple[str, bytes | dict[str, Any], str]] = []
    text = json.dumps(template, ensure_ascii=False)
    for cut in range(20, len(text), max(1, len(text) // 150)):
        cases.append(("4101A", text[:cut].encode(), "not valid JSON"))
    for key in ("msgid", "fixmedins_code", "inf_time", "input"):
        for bad in (None, 12, "", "x" * 31, ["a"], {"a": 1}):
            expect = "setlinfo" if key == "input" and isinstance(bad, dict) else key
            cases.append(("4101A", {**template, key: bad}, expect))
    for name in ("psn_no", "mdtrt_id", "setl_id", "adm_time", "dscg_time", "dscg_way", "dscg_caty", "setl_end_date",
                 "gend", "brdy", "age"):
        # The patient fields are optional (hospital systems send none: the settlement record has them), but
        # must be readable where a list carries them.
        for bad in ((None, "", {"x": 1}, [1]) if name not in ("gend", "brdy", "age") else ({"x": 1}, [1])):
            body = copy.deepcopy(template)
            body["input"]["setlinfo"][name] = bad
            cases.append(("4101A", body, f"setlinfo.{name}"))
    for node in ("diseinfo", "iteminfo", "payinfo"):
        for bad in ((None, [], "x", [1, 2], {"a": 1}) if node == "diseinfo" else ("x", [1, 2], {"a": 1})):
            body = copy.deepcopy(template)
            body["input"][node] = bad
            cases.append(("4101A", body, node))
    for i in range(60):
        body = copy.deepcopy(template)
        body["input"]["iteminfo"][0]["amt"] = ["abc", "1.234", "NaN", True, None, "1e99999", "--1"][i % 7]
        cases.append(("4101A", body, "iteminfo[0].amt"))
    for infno in ("4101", "9999", "ABCDE", "0000", "4104", "1101"):
        for _ in range(10):
            cases.append((infno, {**template, "infno": infno}, "unknown transaction"))
    cases.append(("4101A", b"{" + b" " * (3 * 1024 * 1024) + b"}", "exceeds"))
    cases.append(("4101A", b"[1, 2, 3]", "JSON object"))
    for i, (path, body, expect) in enumerate(cases):  # each its own msgid: no case is a "replay" of another
        if isinstance(body, dict) and expect != "msgid" and isinstance(body.get("msgid"), str):
            msgid = f"{template['fixmedins_code']}{20260101000000 + i:014d}{i % 10000:04d}"
            cases[i] = (path, {**body, "msgid": msgid}, expect)
    while len(cases) < 1000:
        body = copy.deepcopy(template)
        body["msgid"] = f"{template['fixmedins_code']}2026X{len(cases):013d}"[:30]
        cases.append(("4101A", body, "msgid"))
    return cases


async def test_a_thousand_malformed_requests_are_refused_precisely_and_nothing_is_stored(
        collection_app: App, database_url: str) -> None:
    _, base, _ = collection_app
    template = next(r for r, t in fresh(seed=26, cases=40) if not t["faults"])
    cases = malformed_requests(template)
    assert len(cases) >= 1000
    before = await stored_count(database_url)
    limit = asyncio.Semaphore(16)
    async with httpx.AsyncClient(timeout=60) as client:
        async def send(path: str, body: bytes | dict[str, Any], expect: str) -> tuple[str, dict[str, Any]]:
            async with limit:
                content = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode()
                reply = await client.post(f"{base}/{path}", content=content,
                                          headers={"content-type": "application/json"})
                return expect, reply.json()

        results = await asyncio.gather(*(send(*c) for c in cases))
    for expect, reply in results:
        assert reply["infcode"] == -1, reply
        assert expect in reply["err_msg"], (expect, reply["err_msg"])
    assert await stored_count(database_url) == before
    await bad_signatures(template, collection_app[2])
    assert await stored_count(database_url) == before
    async with httpx.AsyncClient() as client:
        health = await client.get(base.rsplit("/api", 1)[0] + "/healthz")
    assert health.status_code == 200
    ok = (await post_all(base, [template]))[0]
    assert ok["infcode"] == 0


async def bad_signatures(template: dict[str, Any], app: Any) -> None:
    """A hundred uploads with broken gateway headers, against the interface with authentication on."""
    import time

    from services.collection.api.gateway import Gateway, signature

    code = template["fixmedins_code"]
    interface = with_gateway(app.interface, Gateway.parse(f"pa:sa:{code}"))
    now = str(int(time.time()))
    broken = [
        {},  # no headers at all
        {"x-tif-paasid": "nobody", "x-tif-timestamp": now, "x-tif-nonce": "n", "x-tif-signature": "00"},
        {"x-tif-paasid": "pa", "x-tif-timestamp": "yesterday", "x-tif-nonce": "n", "x-tif-signature": "00"},
        {"x-tif-paasid": "pa", "x-tif-timestamp": str(int(now) - 3600), "x-tif-nonce": "n",
         "x-tif-signature": signature(str(int(now) - 3600), "sa", "n")},
        {"x-tif-paasid": "pa", "x-tif-timestamp": now, "x-tif-nonce": "", "x-tif-signature": signature(now, "sa", "")},
    ]
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=interface.app()), base_url="http://gw") as client:
        for i in range(100):
            headers = broken[i % len(broken)] if i % 6 else {
                "x-tif-paasid": "pa", "x-tif-timestamp": now, "x-tif-nonce": f"n{i}",
                "x-tif-signature": signature(now, "wrong-secret", f"n{i}")}
            reply = await client.post("/api/v1/hsa/4101A", json=template, headers=headers)
            body = reply.json()
            assert reply.status_code == 401 and body["infcode"] == -1 and body["err_msg"], body


@pytest.mark.parametrize("action", ["upload", "query", "change"])
async def test_with_gateway_authentication_a_hospital_reaches_only_its_own_lists(
        collection_app: App, action: str) -> None:
    import time
    import uuid

    from services.collection.api.gateway import Gateway, signature

    _, base, app = collection_app
    rows = [r for r, t in fresh(seed=27, cases=200) if not t["faults"]]
    a = rows[0]
    b = next(r for r in rows if r["fixmedins_code"] != a["fixmedins_code"])
    await post_all(base, [b])  # B's list exists
    gateway = Gateway.parse(f"pa:sa:{a['fixmedins_code']},pb:sb:{b['fixmedins_code']}")
    interface = with_gateway(app.interface, gateway)

    def headers(paasid: str, secret: str) -> dict[str, str]:
        stamp, nonce = str(int(time.time())), uuid.uuid4().hex
        return {"x-tif-paasid": paasid, "x-tif-timestamp": stamp, "x-tif-nonce": nonce,
                "x-tif-signature": signature(stamp, secret, nonce)}

    setl_b = b["input"]["setlinfo"]["setl_id"]
    transport = httpx.ASGITransport(app=interface.app())
    async with httpx.AsyncClient(transport=transport, base_url="http://gw") as client:
        if action == "upload":  # A posts B's list under B's institution code
            reply = await client.post("/api/v1/hsa/4101A", json=b, headers=headers("pa", "sa"))
            assert reply.status_code == 403 and reply.json()["infcode"] == -1
        else:  # A asks for B's list with its own envelope: B's list is invisible to A
            own = {**a, "infno": "4103" if action == "query" else "4102",
                   "input": {"setl_id": setl_b, "stas_type": "0"}}
            reply = await client.post(f"/api/v1/hsa/{own['infno']}", json=own, headers=headers("pa", "sa"))
            assert reply.json()["infcode"] == -1 and "SETTLEMENT_LIST_NOT_FOUND" in reply.json()["err_msg"]
        unsigned = await client.post("/api/v1/hsa/4103", json={**b, "infno": "4103", "input": {"setl_id": setl_b}})
        assert unsigned.status_code == 401
        replayed = headers("pb", "sb")
        first = await client.post("/api/v1/hsa/4103", json={**b, "infno": "4103", "input": {"setl_id": setl_b}},
                                  headers=replayed)
        second = await client.post("/api/v1/hsa/4103", json={**b, "infno": "4103", "input": {"setl_id": setl_b}},
                                   headers=replayed)
        assert first.json()["infcode"] == 0 and second.status_code == 401 and "nonce" in second.json()["err_msg"]
    stored = await app.lists.get(fixmedins_code=b["fixmedins_code"], setl_id=setl_b)
    assert stored.status == "ACTIVE" and stored.revision_count == 1
