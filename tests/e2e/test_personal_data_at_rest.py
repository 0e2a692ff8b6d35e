"""Where names and resident ID numbers live at rest: only in the stored list bodies (collection.list_revision,
and collection.record_revision for the core system's records), never copied into another table or schema (not
into findings, feed events, stored responses), and never kept from a rejected list or a refused record line;
through the national HTTP door and through gRPC. Checked by searching every row of every table of the database
for them."""

from __future__ import annotations

import copy
import json
import uuid
from typing import Any

import asyncpg
import grpc
import httpx
import pytest
from medpay.collection.v1 import collection_service_pb2 as pb
from medpay.collection.v1 import collection_service_pb2_grpc as pb_grpc

from .his import settlement_record
from .lists import fresh, own_ids

App = tuple[Any, str, Any]

CLEAR_TEXT_HOMES = {"collection.list_revision", "collection.record_revision"}
"""The one place (README "Personal data") names and certificate numbers are stored in clear text."""


async def tables_holding(database_url: str, value: str) -> set[str]:
    conn = await asyncpg.connect(database_url)
    try:
        tables = await conn.fetch(
            "SELECT table_schema, table_name FROM information_schema.tables WHERE table_type = 'BASE TABLE' "
            "AND table_schema NOT IN ('pg_catalog', 'information_schema')")
        found = set()
        for row in tables:
            name = f'"{row["table_schema"]}"."{row["table_name"]}"'
            if await conn.fetchval(f"SELECT EXISTS (SELECT FROM {name} AS t WHERE t::text LIKE $1)", f"%{value}%"):
                found.add(f"{row['table_schema']}.{row['table_name']}")
        return found
    finally:
        await conn.close()


def with_person(request: dict[str, Any], name: str, certno: str) -> dict[str, Any]:
    request = copy.deepcopy(request)
    request["input"]["setlinfo"].update(psn_name=name, certno=certno)
    return request


async def test_names_and_certificate_numbers_are_stored_only_in_the_list_bodies(collection_app: App,
                                                                                 database_url: str) -> None:
    _, base, _ = collection_app
    rows = fresh(seed=131, cases=40)
    valid = next(r for r, truth in rows if not truth["faults"])
    faulty = next(r for r, truth in rows if truth["faults"])
    tag = uuid.uuid4().int % 10**8
    kept = (f"甲{tag}乙", f"3307021980{tag:08d}"[:17] + "X")
    refused = (f"丙{tag}丁", f"3307021990{tag:08d}"[:17] + "X")
    async with httpx.AsyncClient(timeout=60) as client:
        ok = (await client.post(f"{base}/{valid['infno']}", json=with_person(valid, *kept))).json()
        bad = (await client.post(f"{base}/{faulty['infno']}", json=with_person(faulty, *refused))).json()
    assert ok["infcode"] == 0, ok["err_msg"]
    assert bad["infcode"] == -1
    for value in kept:
        found = await tables_holding(database_url, value)
        assert "collection.list_revision" in found and found <= CLEAR_TEXT_HOMES, (value, found)
    for value in refused:
        assert await tables_holding(database_url, value) == set(), value


async def test_lists_and_records_uploaded_over_grpc_keep_them_only_in_their_bodies(collection_app: App,
                                                                                    database_url: str) -> None:
    """A list and its settlement record (whose name differs from the list's: the join warns, and keeps the
    record's) over gRPC with request ids, a refused record line and a rejected list carrying names of their own."""
    running, _, _ = collection_app
    tag = uuid.uuid4().int % 10**8
    rows = fresh(seed=133, cases=40)
    [valid] = own_ids([copy.deepcopy(r) for r, truth in rows if not truth["faults"]][:1], f"P{tag % 10**6:06d}")
    faulty = next(r for r, truth in rows if truth["faults"])
    in_list = (f"戊{tag}己", f"3307021970{tag:08d}"[:17] + "X")
    in_record = (f"庚{tag}辛", f"3307021960{tag:08d}"[:17] + "X")
    refused_record = (f"壬{tag}癸", f"3307021950{tag:08d}"[:17] + "X")
    rejected_list = (f"子{tag}丑", f"3307021940{tag:08d}"[:17] + "X")
    request = with_person(valid, *in_list)
    record = settlement_record(request, psn_name=in_record[0], certno=in_record[1])
    not_a_record = settlement_record(request, psn_name=refused_record[0], certno=refused_record[1],
                                     medfee_sumamt="1.234")
    async with grpc.aio.insecure_channel(f"127.0.0.1:{running.port}") as channel:
        stub = pb_grpc.CollectionServiceStub(channel)
        stored = await stub.UploadSettlementList(pb.UploadSettlementListRequest(upload=upload(
            request, f"pd-list-{tag}")))
        with pytest.raises(grpc.aio.AioRpcError) as rejected:
            await stub.UploadSettlementList(pb.UploadSettlementListRequest(upload=upload(
                with_person(faulty, *rejected_list), f"pd-rejected-{tag}")))
        answer = await stub.UploadSettlementRecords(pb.UploadSettlementRecordsRequest(
            request_id=f"pd-records-{tag}", records=[json.dumps(r, ensure_ascii=False).encode()
                                                     for r in (record, not_a_record)]))
        joined = await stub.GetSettlementList(pb.GetSettlementListRequest(
            fixmedins_code=request["fixmedins_code"], setl_id=request["input"]["setlinfo"]["setl_id"]))
    assert stored.setl_list_id and rejected.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert [r.outcome for r in answer.results] == [pb.RECORD_OUTCOME_CREATED, pb.RECORD_OUTCOME_REFUSED]
    assert "QC-REC-003" in {f.code for f in joined.findings}  # joined: the names differ, the record's is used
    for value in in_list:
        found = await tables_holding(database_url, value)
        assert "collection.list_revision" in found and found <= CLEAR_TEXT_HOMES, (value, found)
    for value in in_record:
        found = await tables_holding(database_url, value)
        assert "collection.record_revision" in found and found <= CLEAR_TEXT_HOMES, (value, found)
    for value in (*refused_record, *rejected_list):
        assert await tables_holding(database_url, value) == set(), value


def upload(request: dict[str, Any], request_id: str) -> pb.SettlementListUpload:
    return pb.SettlementListUpload(request_id=request_id, fixmedins_code=request["fixmedins_code"],
                                   fixmedins_name=request["fixmedins_name"],
                                   input_json=json.dumps(request["input"], ensure_ascii=False).encode())

