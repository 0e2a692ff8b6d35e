"""The settlement service as the hospitals' door reaches it: a hospital's statement of a settled period, for the
national 3203 (清算申请)."""

from __future__ import annotations

from dataclasses import dataclass

import grpc
from medpay.common.v1 import common_pb2
from medpay.settlement.v1 import settlement_pb2 as pb
from medpay.settlement.v1 import settlement_pb2_grpc as pb_grpc

from libs.common.dates import Period
from libs.common.grpc.client import CallerAuth, open_channel
from libs.common.grpc.upstream import upstream_error
from libs.common.paging import every_page

SETTLEMENT = "medpay.settlement.v1.SettlementService"
PAGE = 1000


@dataclass(frozen=True)
class SettledPeriod:
    """The latest finished run of a period and the hospital's statement in it (``None``: no cases of it)."""

    run: pb.SettlementRun
    statement: pb.HospitalStatement | None


class SettlementClient:
    def __init__(self, address: str, auth: CallerAuth | None = None) -> None:
        self._channel = open_channel(address, auth=auth, idempotent_methods=[
            (SETTLEMENT, "ListSettlementRuns"), (SETTLEMENT, "ListHospitalStatements")])
        self._stub = pb_grpc.SettlementServiceStub(self._channel)

    async def settled(self, region: str, period: Period, fixmedins_code: str) -> SettledPeriod | None:
        """The region's latest finished run of ``period`` (a month: its advance; a year: its clearing) with the
        hospital's statement; ``None`` when the period has no finished run."""
        try:
            run = await self._latest_run(region, period)
            if run is None:
                return None
            return SettledPeriod(run, await self._statement(run.name, fixmedins_code))
        except grpc.aio.AioRpcError as failed:
            raise upstream_error("settlement", failed) from None

    async def _latest_run(self, region: str, period: Period) -> pb.SettlementRun | None:
        latest, wanted = None, period.to_proto()
        async for run in every_page(self._stub.ListSettlementRuns, pb.ListSettlementRunsRequest(
                parent=f"regions/{region}", year=period.year, page_size=PAGE), "settlement_runs", timeout=10):
            if run.settlement_period == wanted and run.state == common_pb2.RUN_STATE_SUCCEEDED:
                latest = run  # oldest first: the last match is the latest
        return latest

    async def _statement(self, run: str, fixmedins_code: str) -> pb.HospitalStatement | None:
        async for statement in every_page(self._stub.ListHospitalStatements, pb.ListHospitalStatementsRequest(
                parent=run, page_size=PAGE), "hospital_statements", timeout=10):
            if statement.fixmedins_code == fixmedins_code:
                return statement  # type: ignore[no-any-return]
        return None

    async def close(self) -> None:
        await self._channel.close(None)
