"""Domain values <-> ``medpay.settlement.v1`` messages."""

from __future__ import annotations

from datetime import datetime
from fractions import Fraction

from google.protobuf import timestamp_pb2
from google.rpc import code_pb2, status_pb2
from medpay.common.v1 import common_pb2
from medpay.settlement.v1 import settlement_pb2 as pb

from libs.common.dates import Period, date_to_proto
from libs.common.money import Money
from libs.common.runs import Run

from ..adapters.run_repository import StoredRun, StoredStatement
from ..domain.exact import SCALE6, fixed, round_units
from ..domain.policies import GroupScheme, PolicyState, PolicyVersion
from ..domain.policy import policy_to_json
from ..domain.results import Kind
from ..domain.runs import CaseOutcome
from ..domain.weight_tables import TableSource, WeightTableVersion
from ..domain.weights import GroupWeight
from ..service_layer.review import CARRIED as REVIEW_CARRIED
from ..service_layer.review import PARAMETER as REVIEW_DEDUCTIONS
from ..service_layer.review import review_fen

_STATES = {PolicyState.DRAFT: pb.POLICY_STATE_DRAFT, PolicyState.ACTIVE: pb.POLICY_STATE_ACTIVE,
           PolicyState.SUPERSEDED: pb.POLICY_STATE_SUPERSEDED}
_SCHEMES = {GroupScheme.DRG: pb.GROUP_SCHEME_DRG, GroupScheme.DIP: pb.GROUP_SCHEME_DIP}


def timestamp(moment: datetime | None) -> timestamp_pb2.Timestamp | None:
    if moment is None:
        return None
    stamp = timestamp_pb2.Timestamp()
    stamp.FromDatetime(moment)
    return stamp


def group_scheme_from_proto(value: int) -> GroupScheme:
    """Unset is CHS-DRG; an unknown number is refused."""
    if value in (pb.GROUP_SCHEME_UNSPECIFIED, pb.GROUP_SCHEME_DRG):
        return GroupScheme.DRG
    if value == pb.GROUP_SCHEME_DIP:
        return GroupScheme.DIP
    from libs.common.errors import InvalidArgument

    raise InvalidArgument.field("policy.group_scheme", f"unknown group scheme {value}")


def policy_to_proto(version: PolicyVersion) -> pb.Policy:
    import json

    canonical = policy_to_json(version.policy())
    return pb.Policy(
        name=version.name, year=version.year, version=version.version,
        parameters_json=json.dumps(canonical, ensure_ascii=False, indent=1),
        parameters_digest=version.parameters_digest, group_scheme=_SCHEMES[version.group_scheme],
        effective_dates=common_pb2.DateRange(start_date=date_to_proto(version.effective_start),
                                             end_date=date_to_proto(version.effective_end)),
        description=version.description, state=_STATES[version.state], approved_by=version.approved_by,
        create_time=timestamp(version.created_at), activate_time=timestamp(version.activated_at),
        hospital_levels=version.hospital_levels)


def _money(fen: int | None) -> common_pb2.Money | None:
    return None if fen is None else common_pb2.Money(fen=fen)


def _units(value: int | None, places: int) -> str:
    return "" if value is None else fixed(value, places)


def weight_table_operation(run: Run) -> pb.WeightTable:
    """A weights run as its operation's metadata and response: what it says so far, the table once stored."""
    message = weight_table_to_proto(None, run)
    r = run.result if run.done and isinstance(run.result, dict) else None
    if r is not None:
        message.MergeFrom(pb.WeightTable(
            name=f"regions/{r['region']}/weightTables/{r['year']}-w{r['version']}", version=int(r["version"]),
            source=pb.WEIGHT_TABLE_SOURCE_COMPUTED, input_digest=str(r["input_digest"]),
            base_cases=int(r["base_cases"]), groups=int(r["groups"]),
            avg_all=fixed(round_units(Fraction(int(r["avg_all"][0]), int(r["avg_all"][1])), SCALE6), 6),
            create_time=timestamp(datetime.fromisoformat(r["created_at"]) if r.get("created_at") else None)))
    return message


def settlement_run_operation(run: Run) -> pb.SettlementRun:
    """A settlement run as its operation's metadata and response: state and progress, the results once stored."""
    stored = StoredRun.from_json(run.result) if run.done and isinstance(run.result, dict) else None
    return settlement_run_to_proto(run, stored)


def weight_table_to_proto(version: WeightTableVersion | None, run: Run | None = None) -> pb.WeightTable:
    """A stored table, or (as an operation's metadata while it runs) what its run says so far."""
    message = pb.WeightTable()
    if run is not None:
        message.state = common_pb2.RunState.Value(f"RUN_STATE_{run.state}")
        message.progress.CopyFrom(common_pb2.RunProgress(done=run.progress.done, total=run.progress.total,
                                                         unit=run.progress.unit, message=run.progress.message))
        message.operation = run.name
        message.year = int(run.parameters.get("year", 0))
        message.policy = str(run.parameters.get("policy", ""))
        message.case_feed_sequence = int(run.parameters.get("feed_sequence", 0))
    if version is None:
        return message
    message.MergeFrom(pb.WeightTable(
        name=version.name, year=version.year, version=version.version,
        source=pb.WEIGHT_TABLE_SOURCE_COMPUTED if version.source is TableSource.COMPUTED
        else pb.WEIGHT_TABLE_SOURCE_IMPORTED, policy=version.policy, case_feed_sequence=version.feed_sequence,
        input_digest=version.input_digest, base_cases=version.base_cases,
        avg_all=fixed(round_units(version.table.avg_all, SCALE6), 6), groups=len(version.table.groups),
        create_time=timestamp(version.created_at), operation=f"operations/{version.run_id}" if version.run_id else ""))
    if run is None:
        message.state = common_pb2.RUN_STATE_SUCCEEDED
    return message


def group_weight_to_proto(group: GroupWeight) -> pb.GroupWeight:
    return pb.GroupWeight(group=group.group, kept_cases=group.kept_cases, rw=fixed(group.rw, 4),
                          standard_cost=common_pb2.Money(fen=group.standard),
                          source=pb.WEIGHT_SOURCE_FIXED if group.source == "fixed" else pb.WEIGHT_SOURCE_DATA)


def settlement_run_to_proto(run: Run | None, stored: StoredRun | None) -> pb.SettlementRun:
    """A run from the framework's record (state, progress, error) and, once finished, its stored results."""
    message = pb.SettlementRun()
    if run is not None:
        p = run.parameters
        region = str(p.get("region", ""))
        message.MergeFrom(pb.SettlementRun(
            name=f"regions/{region}/settlementRuns/{run.id}",
            settlement_period=Period.parse(str(p["period"])).to_proto() if p.get("period") else None,
            policy=str(p.get("policy", "")), weight_table=str(p.get("weight_table", "")),
            case_feed_sequence=int(p.get("feed_sequence", 0)),
            run_type=_RUN_TYPES.get(str(p.get("run_type", "")), pb.SETTLEMENT_RUN_TYPE_UNSPECIFIED),
            state=common_pb2.RunState.Value(f"RUN_STATE_{run.state}"),
            progress=common_pb2.RunProgress(done=run.progress.done, total=run.progress.total,
                                            unit=run.progress.unit, message=run.progress.message),
            operation=run.name, create_time=timestamp(run.created_at), end_time=timestamp(run.finished_at)))
        if run.error is not None:
            message.error.CopyFrom(status_pb2.Status(code=code_pb2.Code.Value(run.error.code)
                                                     if run.error.code in code_pb2.Code.keys() else code_pb2.UNKNOWN,  # noqa: SIM118
                                                     message=run.error.message))
    if stored is None:
        return message
    t = stored.totals
    message.MergeFrom(pb.SettlementRun(
        name=stored.name, settlement_period=Period.parse(stored.period).to_proto(), policy=stored.policy,
        weight_table=stored.weight_table, case_feed_sequence=stored.feed_sequence,
        run_type=_RUN_TYPES[stored.run_type.value],
        method=pb.PAYMENT_METHOD_POINTS if stored.method == "points" else pb.PAYMENT_METHOD_RATE,
        cases=stored.cases, hospitals=stored.hospitals, total_points=_units(stored.total_points, 4),
        fund_ratio=_units(stored.fund_ratio, 6), point_value=_units(stored.point_value, 6),
        provisional_point_value=str(t.get("provisional_point_value", "")),
        total_gross=Money.parse(t["gross"]).to_proto(), total_assessed=Money.parse(t["assessed"]).to_proto(),
        total_advances=Money.parse(t["advances"]).to_proto(),
        total_adjustments=Money.parse(t["adjustments"]).to_proto(),
        total_deductions=Money.parse(t["deductions"]).to_proto(), total_balance=Money.parse(t["balance"]).to_proto(),
        statements_digest=stored.statements_digest, builds_on=stored.builds_on,
        case_kinds={k.removeprefix("cases_"): int(v) for k, v in t.items() if k.startswith("cases_") and int(v)},
        level_rates={k.removeprefix("rate_"): Money.parse(v).to_proto() for k, v in t.items()
                     if k.startswith("rate_")}))
    if REVIEW_DEDUCTIONS in t or REVIEW_CARRIED in t:  # the run read smart review's confirmed deductions
        message.total_review_deductions.CopyFrom(common_pb2.Money(fen=sum(review_fen(t).values())))
    if run is None:
        message.state = common_pb2.RUN_STATE_SUCCEEDED
        created = timestamp(stored.created_at)
        if created is not None:
            message.create_time.CopyFrom(created)
    return message


_RUN_TYPES = {"advance": pb.SETTLEMENT_RUN_TYPE_ADVANCE, "clearing": pb.SETTLEMENT_RUN_TYPE_CLEARING}
_LINE_KINDS = {"advance": pb.MONTH_LINE_KIND_ADVANCE, "adjustment": pb.MONTH_LINE_KIND_ADJUSTMENT}
_CASE_KINDS = {Kind.NORMAL: pb.CASE_KIND_NORMAL, Kind.HIGH: pb.CASE_KIND_HIGH, Kind.LOW: pb.CASE_KIND_LOW,
               Kind.BY_ITEM: pb.CASE_KIND_BY_ITEM, Kind.SPECIAL: pb.CASE_KIND_SPECIAL}


def statement_to_proto(run: StoredRun, stored: StoredStatement) -> pb.HospitalStatement:
    s = stored.statement
    return pb.HospitalStatement(
        name=f"{run.name}/hospitalStatements/{s.hospital}", fixmedins_code=s.hospital, cases=s.cases,
        points=_units(s.points, 4), cmi=fixed(s.cmi, 4), gross=_money(s.gross), assessed=_money(s.assessed),
        advances=_money(s.advances), adjustments=_money(s.adjustments), deductions=_money(s.deductions),
        balance=_money(s.balance), surplus=_money(s.surplus),
        months=[pb.MonthLine(settlement_month=Period.parse(m.month).to_proto(), kind=_LINE_KINDS[m.kind],
                             amount=common_pb2.Money(fen=m.amount), cases=m.cases) for m in s.months],
        document_digest=stored.digest, case_kinds=s.case_kinds,
        review_deductions=common_pb2.Money(fen=review_fen(run.totals).get(s.hospital, 0)))


def case_to_proto(run: StoredRun, case: CaseOutcome) -> pb.CaseSettlement:
    return pb.CaseSettlement(
        name=f"{run.name}/caseSettlements/{case.list_id}", setl_list_id=case.list_id, revision=case.revision,
        fixmedins_code=case.hospital, settlement_month=Period.parse(case.month).to_proto(), group=case.group,
        kind=_CASE_KINDS[case.kind], rw=_units(case.rw, 4), base_points=_units(case.base_points, 4),
        points=_units(case.points, 4), standard=_money(case.standard), basis=_money(case.basis),
        fund_due=_money(case.fund_due), halved=case.halved, total_cost=common_pb2.Money(fen=case.total_cost),
        terms=case.terms)
