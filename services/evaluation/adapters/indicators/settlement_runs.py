"""The period's settlement run, from the settlement service: its weight table (the run's CMI weights) and, per
hospital, how it settled the cases (outlier shares, special cases, surplus where the method has one).

A month is evaluated against that month's advance run, a year against its clearing (the latest finished run of the
period is the one read). A half year has no run of its own: it takes the weight table of the year's latest finished
advance run, else the year's latest weight table, and has no payment figures."""

from __future__ import annotations

from decimal import Decimal

import grpc
from medpay.common.v1 import common_pb2
from medpay.settlement.v1 import settlement_pb2 as pb
from medpay.settlement.v1 import settlement_pb2_grpc as pb_grpc

from libs.common.paging import every_page

from ...domain.indicators.context import PaymentFigures
from ...domain.indicators.periods import EvaluationPeriod, PeriodKind
from ...domain.indicators.rounding import figure, round4_ratio
from ...service_layer.indicators.runs import SettlementFigures, WeightTable
from .upstream import upstream_error

REGION = "ALL"


class SettlementRuns:
    """``SettlementSource`` over the settlement service's gRPC API."""

    def __init__(self, channel: grpc.aio.Channel) -> None:
        self._stub = pb_grpc.SettlementServiceStub(channel)

    async def latest_run(self, region: str, period: EvaluationPeriod) -> str | None:
        if period.kind is PeriodKind.HALF_YEAR:
            return None
        month = period.number if period.kind is PeriodKind.MONTH else 0
        found = None
        try:
            async for run in every_page(self._stub.ListSettlementRuns, pb.ListSettlementRunsRequest(
                    parent=f"regions/{region}", year=period.year, page_size=1000), "settlement_runs"):
                if run.state == common_pb2.RUN_STATE_SUCCEEDED and run.settlement_period.year == period.year \
                        and run.settlement_period.month == month:
                    found = run.name  # oldest first: the last match is the latest
        except grpc.aio.AioRpcError as failed:
            raise upstream_error("settlement", failed) from None
        return found

    async def year_weight_table(self, region: str, year: int) -> str | None:
        """The weight table a half year of ``year`` is evaluated against: the latest finished advance (month) run's
        of the year, else the year's latest stored weight table; ``None`` when the year has neither."""
        try:
            advance = None
            async for run in every_page(self._stub.ListSettlementRuns, pb.ListSettlementRunsRequest(
                    parent=f"regions/{region}", year=year, page_size=1000), "settlement_runs"):
                if run.state == common_pb2.RUN_STATE_SUCCEEDED and run.settlement_period.year == year \
                        and run.settlement_period.month and run.weight_table:
                    advance = str(run.weight_table)  # oldest first: the last match is the latest
            if advance:
                return advance
            latest = None
            async for table in every_page(self._stub.ListWeightTables, pb.ListWeightTablesRequest(
                    parent=f"regions/{region}", year=year, page_size=1000), "weight_tables"):
                if table.year == year and table.state in (common_pb2.RUN_STATE_UNSPECIFIED,
                                                          common_pb2.RUN_STATE_SUCCEEDED):
                    latest = str(table.name)  # by version: the last is the latest
            return latest
        except grpc.aio.AioRpcError as failed:
            raise upstream_error("settlement", failed) from None

    async def weight_table(self, table: str) -> WeightTable:
        try:
            return WeightTable(version=table, scheme_id="", rw=await self._weights(table))
        except grpc.aio.AioRpcError as failed:
            raise upstream_error("settlement", failed) from None

    async def figures(self, run: str) -> SettlementFigures:
        try:
            settled = await self._stub.GetSettlementRun(pb.GetSettlementRunRequest(name=run))
            weights = await self._weights(settled.weight_table)
            statements = await self._statements(run)
        except grpc.aio.AioRpcError as failed:
            raise upstream_error("settlement", failed) from None
        return SettlementFigures(run=run, weights=WeightTable(version=settled.weight_table, scheme_id="", rw=weights),
                                 payment=payment_of(statements))

    async def _weights(self, table: str) -> dict[str, int]:
        return {group.group: int(Decimal(group.rw).scaleb(4)) async for group in every_page(
            self._stub.ListGroupWeights, pb.ListGroupWeightsRequest(parent=table, page_size=5000), "group_weights")}

    async def _statements(self, run: str) -> list[pb.HospitalStatement]:
        return [s async for s in every_page(self._stub.ListHospitalStatements, pb.ListHospitalStatementsRequest(
            parent=run, page_size=1000), "hospital_statements")]


def payment_of(statements: list[pb.HospitalStatement]) -> dict[str, PaymentFigures]:
    """Per hospital and for the region: shares of high and low outliers among the cases settled, special cases,
    and the surplus the statements show (the rate method's; ``None`` under the point method, which has none)."""
    totals: dict[str, list[int]] = {}
    surplus: dict[str, int | None] = {}
    for s in statements:
        kinds = dict(s.case_kinds)
        cases = sum(kinds.values())
        for key in (REGION, s.fixmedins_code):
            t = totals.setdefault(key, [0, 0, 0, 0])
            t[0] += cases
            t[1] += kinds.get("high", 0)
            t[2] += kinds.get("low", 0)
            t[3] += kinds.get("special", 0)
            if s.HasField("surplus"):
                surplus[key] = (surplus.get(key) or 0) + s.surplus.fen
            else:
                surplus.setdefault(key, None)
    return {key: PaymentFigures(high_outlier_share=figure(round4_ratio(high, n)),
                                low_outlier_share=figure(round4_ratio(low, n)), special_cases=special,
                                surplus_fen=surplus.get(key))
            for key, (n, high, low, special) in totals.items() if n}
