"""The national transactions the hospitals' door serves: one table, one entry per transaction.

A handler gets the checked envelope (the caller is authenticated and acts for the envelope's institution) and
answers a complete national envelope (``Call.ok`` / ``Call.fail`` build it). It raises ``MedpayError`` for a
refusal the door words itself. Another function adds its transaction as one entry of ``national_transactions``
(e.g. ``"3203": Transaction("清算申请", clearing(settlement))``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from libs.common.errors import MedpayError, NotFound
from libs.national.fees import FeeLine

from ..adapters.door_store import Serials
from ..adapters.review_client import ReviewClient
from ..adapters.settlement_client import SettlementClient
from ..domain.dialects import normalise_entry
from ..domain.envelope import Envelope, content_digest, error_message, stamp
from ..domain.fields import Field, Kind
from ..domain.limits import object_limits
from ..domain.model import Finding, ListStatus, error
from ..service_layer.fee_details import FeeDetails
from ..service_layer.queries import Lists
from ..service_layer.uploads import Accepted, Outcome, UploadCommand, Uploads, accepted_output
from .views import stored_list_view


@dataclass(frozen=True)
class Call:
    envelope: Envelope
    received: datetime
    reply: Callable[[int, str, Any], dict[str, Any]]
    """Builds the national envelope (inf_refmsgid, times) around (infcode, err_msg, output)."""

    def ok(self, output: Any) -> dict[str, Any]:
        return self.reply(0, "", output)

    def fail(self, findings: list[Finding]) -> dict[str, Any]:
        return self.reply(-1, error_message(findings), {"findings": [f.as_dict() for f in findings]})


Handler = Callable[[Call], Awaitable[dict[str, Any]]]


@dataclass(frozen=True)
class Transaction:
    name: str
    handle: Handler


def national_transactions(uploads: Uploads, lists: Lists, region: str, serials: Serials, *,
                          fee_details: FeeDetails | None = None,
                          review: ReviewClient | None = None,
                          settlement: SettlementClient | None = None) -> dict[str, Transaction]:
    """infno -> transaction, the door's dispatch table."""
    from .clearing_transactions import clearing
    from .fee_transactions import revoke_fee_details, upload_fee_details
    from .review_transactions import check_stay

    table = {
        "9001": Transaction("签到", sign_in(region, serials)),
        "4101A": Transaction("医疗保障基金结算清单信息上传", upload(uploads)),
        "4102": Transaction("医疗保障基金结算清单状态修改", change_status(lists)),
        "4103": Transaction("医疗保障基金结算清单信息查询", query(lists, fee_details)),
    }
    if fee_details is not None:
        table["2301"] = Transaction("住院费用明细上传", upload_fee_details(fee_details))
        table["2302"] = Transaction("住院费用明细撤销", revoke_fee_details(fee_details))
    if review is not None:
        table["3101"] = Transaction("明细审核事前事中分析服务", check_stay(review, settlement=False))
        table["3102"] = Transaction("明细审核事中分析服务", check_stay(review, settlement=True))
    if settlement is not None:
        table["3203"] = Transaction("清算申请", clearing(settlement))
    return table


def sign_in(region: str, serials: Serials) -> Handler:
    async def handle(call: Call) -> dict[str, Any]:
        sign_no = f"{region}{stamp(call.received)[:14]}{serials.next() % 10**6:06d}"
        return call.ok({"signinoutb": {"sign_time": call.received.strftime("%Y-%m-%d %H:%M:%S"),
                                       "sign_no": sign_no}})
    return handle


def upload(uploads: Uploads) -> Handler:
    async def handle(call: Call) -> dict[str, Any]:
        env = call.envelope
        cmd = UploadCommand(key=f"msgid:{env.fixmedins_code}:{env.msgid}",
                            digest=content_digest(env.infno, env.fixmedins_code, env.body),
                            fixmedins_code=env.fixmedins_code, fixmedins_name=env.fixmedins_name, body=env.body)

        def render(outcome: Outcome) -> dict[str, Any]:
            if isinstance(outcome, Accepted):
                return call.ok(accepted_output(outcome))
            return call.fail(list(outcome.findings))

        result: dict[str, Any] = (await uploads.upload(cmd, render)).response
        return result
    return handle


# -- 4102 / 4103: who a list is -----------------------------------------------------------------------------------

_WHO: Mapping[str, Field] = {"psn_no": Field(Kind.ID, 30), "setl_id": Field(Kind.ID, 30),
                             "setl_list_id": Field(Kind.ID, 40)}
STATUS_FIELDS: Mapping[str, Field] = {**_WHO, "stas_type": Field(Kind.ID, 3), "reason": Field(Kind.TEXT, 200)}
MAX_STATUS_CHANGES = 100
"""Most lists whose status one 4102 call changes."""


def _data(body: Mapping[str, Any]) -> Mapping[str, Any]:
    """The national form carries the input under ``input.data``; the flat form directly under ``input``."""
    data = body.get("data")
    return data if isinstance(data, Mapping) else body


def _identity(entry: Mapping[str, Any], path: str) -> list[Finding]:
    if entry.get("setl_list_id") or entry.get("setl_id"):
        return []
    return [error("QC-REQ-001", f"{path}setl_id", "须给出 setl_id（或 setl_list_id）",
                  "setl_id (or the platform's setl_list_id) is required")]


async def _find(lists: Lists, owner: str, entry: Mapping[str, Any]) -> Any:
    """The institution's list named by setl_list_id or setl_id; with psn_no, only if it is that person's."""
    stored = await lists.get(str(entry.get("setl_list_id", "")), owner if not entry.get("setl_list_id") else "",
                             str(entry.get("setl_id", "")), owner=owner)
    psn_no = entry.get("psn_no")
    if psn_no and stored.psn_no != psn_no:
        raise NotFound(f"no settlement list {entry.get('setl_id') or entry.get('setl_list_id')} of person {psn_no}",
                       reason="SETTLEMENT_LIST_NOT_FOUND")
    return stored


def change_status(lists: Lists) -> Handler:
    """4102: ``input.data.stastinfo[{psn_no, setl_id, stas_type}]`` (several lists, each answered in
    ``output.stastinfo``), or the flat ``input.{setl_id | setl_list_id, stas_type, reason}``."""
    async def handle(call: Call) -> dict[str, Any]:
        data = _data(call.envelope.body)
        if "stastinfo" not in data:
            entry = normalise_entry(data, STATUS_FIELDS)
            problems = _status_problems(entry, "input.")
            if problems:
                return call.fail(problems)
            stored = await _change(lists, call.envelope.fixmedins_code, entry)
            return call.ok({"setl_list_id": stored.setl_list_id, "status": stored.status})
        raw = data["stastinfo"]
        entries = [raw] if isinstance(raw, Mapping) else raw
        if not isinstance(entries, list) or not entries or not all(isinstance(e, Mapping) for e in entries):
            return call.fail([error("QC-REQ-002", "stastinfo", "stastinfo 须为对象数组",
                                    "stastinfo must be a non-empty array of objects")])
        if len(entries) > MAX_STATUS_CHANGES:
            return call.fail([error("QC-LIM-005", "stastinfo", f"stastinfo 至多 {MAX_STATUS_CHANGES} 项",
                                    f"stastinfo: {len(entries)} entries, at most {MAX_STATUS_CHANGES}")])
        results, failed = [], []
        for i, raw_entry in enumerate(entries):
            entry = normalise_entry(raw_entry, STATUS_FIELDS)
            result = {k: entry.get(k, "") for k in ("psn_no", "setl_id", "stas_type")}
            problems = _status_problems(entry, f"stastinfo[{i}].")
            try:
                if problems:
                    raise _Refused(error_message(problems))
                stored = await _change(lists, call.envelope.fixmedins_code, entry)
                result |= {"setl_list_id": stored.setl_list_id, "status": stored.status, "infcode": 0, "err_msg": ""}
            except (MedpayError, _Refused) as refused:
                if isinstance(refused, MedpayError) and refused.code == "UNAVAILABLE":
                    raise
                why = refused.message if isinstance(refused, _Refused) else f"{refused.message} ({refused.reason})"
                result |= {"infcode": -1, "err_msg": why}
                failed.append(f"stastinfo[{i}]: {why}")
            results.append(result)
        return call.reply(-1 if failed else 0, "; ".join(failed), {"stastinfo": results})
    return handle


class _Refused(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _status_problems(entry: Mapping[str, Any], path: str) -> list[Finding]:
    problems = object_limits(entry, STATUS_FIELDS, path.rstrip("."))
    if entry.get("stas_type") not in ("0", "1"):
        problems.append(error("QC-REQ-001", f"{path}stas_type", "stas_type 须为 0（撤销）或 1（有效）",
                              "stas_type must be 0 (revoke) or 1 (active)"))
    return problems + _identity(entry, path)


async def _change(lists: Lists, owner: str, entry: Mapping[str, Any]) -> Any:
    stored = await _find(lists, owner, entry)
    status = ListStatus.ACTIVE if entry["stas_type"] == "1" else ListStatus.REVOKED
    return await lists.set_status(status, str(entry.get("reason") or "4102"), setl_list_id=stored.setl_list_id,
                                  owner=owner)


def query(lists: Lists, fee_details: FeeDetails | None = None) -> Handler:
    """4103: ``input.data.{psn_no, setl_id}`` or the flat ``input.{setl_id | setl_list_id}``; the answer carries
    the national output nodes at the top of ``output`` (``iteminfo`` from the stay's fee details where neither
    the list nor its record has one)."""
    async def handle(call: Call) -> dict[str, Any]:
        entry = normalise_entry(_data(call.envelope.body), _WHO)
        problems = object_limits(entry, _WHO, "input") + _identity(entry, "input.")
        if problems:
            return call.fail(problems)
        stored = await _find(lists, call.envelope.fixmedins_code, entry)
        return call.ok(stored_list_view(stored, await _fee_lines(fee_details, stored)))
    return handle


async def _fee_lines(fee_details: FeeDetails | None, stored: Any) -> list[FeeLine]:
    """The stay's current fee details when the answer needs them for ``iteminfo`` (none: no details)."""
    body = stored.body if isinstance(stored.body, Mapping) else {}
    if fee_details is None or body.get("iteminfo") or (isinstance(stored.record, Mapping)
                                                       and stored.record.get("iteminfo")):
        return []
    mdtrt_id = str((body.get("setlinfo") or {}).get("mdtrt_id") or "")
    if not mdtrt_id:
        return []
    try:
        return [row.line for row in (await fee_details.stay(stored.fixmedins_code, mdtrt_id)).rows]
    except NotFound:
        return []
