"""The national 2301 (住院费用明细上传) and 2302 (撤销) in the hospitals' door: entries of its dispatch table.

2301 answers ``output.result[]``, one entry per stored line (feedetl_sn, det_item_fee_sumamt, cnt, pric,
med_chrgitm_type, memo), plus the stay's data-quality ``warnings``; a refused upload answers infcode -1 with every
failing line and field. 2302 takes ``input.data.{mdtrt_id, feedetl_sn, psn_no}`` (feedetl_sn "0000" or empty for
all of the stay's lines). Both are idempotent by msgid like 4101A.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from libs.common.money import fen_text
from libs.national.fees import scaled_text

from ..domain.envelope import content_digest
from ..domain.model import Finding
from ..service_layer.fee_details import FeeCommand, FeeDetails, FeeDetailsRefused
from .transactions import Call, Handler


def upload_fee_details(details: FeeDetails) -> Handler:
    async def handle(call: Call) -> dict[str, Any]:
        env = call.envelope
        cmd = FeeCommand(f"msgid:{env.fixmedins_code}:{env.msgid}",
                         content_digest(env.infno, env.fixmedins_code, env.body), env.fixmedins_code, env.body)
        try:
            outcome, _ = await details.upload(cmd)
        except FeeDetailsRefused as refused:
            return call.fail(list(refused.findings))
        findings = [Finding.from_json(f) for f in outcome["findings"]]
        by_line = {f.field: f.message_zh for f in findings}
        return call.ok({
            "result": [{"feedetl_sn": x["sn"], "det_item_fee_sumamt": fen_text(x["amount"]),
                        "cnt": scaled_text(x["cnt"]), "pric": scaled_text(x["pric"]),
                        "med_chrgitm_type": x["category"], "memo": by_line.get(f"feedetl_sn {x['sn']}", "")}
                       for x in outcome["lines"]],
            "warnings": [f.as_dict() for f in findings], "stay_line_count": outcome["stay_line_count"],
            "stay_total": fen_text(outcome["stay_total_fen"])})
    return handle


def revoke_fee_details(details: FeeDetails) -> Handler:
    async def handle(call: Call) -> dict[str, Any]:
        env = call.envelope
        body = env.body if isinstance(env.body, Mapping) else {}
        cmd = FeeCommand(f"msgid:{env.fixmedins_code}:{env.msgid}",
                         content_digest(env.infno, env.fixmedins_code, body), env.fixmedins_code, dict(body))
        outcome, _ = await details.revoke(cmd)
        return call.ok({"revoked_count": outcome["revoked_count"], "stay_line_count": outcome["stay_line_count"]})
    return handle
