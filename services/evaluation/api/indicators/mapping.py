"""``medpay.evaluation.v1`` messages from and to the domain and the stored results."""

from __future__ import annotations

from decimal import Decimal

from google.protobuf.timestamp_pb2 import Timestamp
from medpay.common.v1 import common_pb2
from medpay.evaluation.v1 import evaluation_service_pb2 as pb

from libs.common.dates import Period
from libs.common.errors import InvalidArgument
from libs.common.runs import Run
from libs.common.runs.operations import run_to_proto

from ...adapters.indicators.repository import WHOLE_PERIOD, StoredRun, StoredUnit
from ...domain.indicators.compute import Level, UnitIndicators
from ...domain.indicators.groups import GroupProfile, Quadrant, RiskBand
from ...domain.indicators.periods import EvaluationPeriod, PeriodKind
from ...service_layer.indicators.queries import PeriodPoint, Scorecard, run_name

_KIND = {PeriodKind.MONTH: pb.PERIOD_KIND_MONTH, PeriodKind.HALF_YEAR: pb.PERIOD_KIND_HALF_YEAR,
         PeriodKind.YEAR: pb.PERIOD_KIND_YEAR}
_LEVEL = {Level.REGION: pb.UNIT_LEVEL_REGION, Level.HOSPITAL: pb.UNIT_LEVEL_HOSPITAL,
          Level.DEPT: pb.UNIT_LEVEL_DEPARTMENT, Level.DOCTOR: pb.UNIT_LEVEL_DOCTOR}
_QUADRANT = {q: pb.Quadrant.Value(f"QUADRANT_{q.name}") for q in Quadrant}
_BAND = {b: pb.RiskBand.Value(f"RISK_BAND_{b.name}") for b in RiskBand}


def period_from_proto(message: pb.EvaluationPeriod, field: str) -> EvaluationPeriod:
    kinds = {value: kind for kind, value in _KIND.items()}
    if message.kind not in kinds:
        raise InvalidArgument.field(f"{field}.kind", "must be a month, a half year or a year")
    try:
        return EvaluationPeriod(message.year, kinds[message.kind], message.number)
    except ValueError as bad:
        raise InvalidArgument.field(field, str(bad)) from None


def period_to_proto(period: EvaluationPeriod) -> pb.EvaluationPeriod:
    return pb.EvaluationPeriod(year=period.year, kind=_KIND[period.kind], number=period.number)


def level_from_proto(value: int) -> Level | None:
    if value == pb.UNIT_LEVEL_UNSPECIFIED:
        return None
    levels: dict[int, Level] = {int(number): level for level, number in _LEVEL.items()}
    if value not in levels:
        raise InvalidArgument.field("level", f"unknown level {value}")
    return levels[value]


def month_from_proto(message: object, field: str = "month") -> str:
    from google.type import date_pb2

    assert isinstance(message, date_pb2.Date)
    if message.year == message.month == message.day == 0:
        return WHOLE_PERIOD
    return str(Period.from_proto(message, field, allow_year=False))


def indicator_to_proto(unit: StoredUnit) -> pb.Indicator:
    f = unit.figures
    message = pb.Indicator(
        level=_LEVEL[f.level], unit=f.unit, hospital=unit.hospital or "", name=unit.name,
        hospital_level=unit.hospital_level or 0,
        quadrant=_QUADRANT[unit.quadrant] if unit.quadrant else pb.QUADRANT_UNSPECIFIED)
    _fill(message, f)
    if unit.month != WHOLE_PERIOD:
        message.month.CopyFrom(Period.parse(unit.month).to_proto())
    if unit.quality is not None:
        q = unit.quality
        message.quality.CopyFrom(pb.DataQuality(
            lists_accepted=q.lists_accepted, uploaded_in_time=q.uploaded_in_time, timeliness=_text(q.timeliness),
            lists_received=q.lists_received or 0, qc_pass_rate=_text(q.qc_pass_rate)))
    if unit.payment is not None:
        p = unit.payment
        message.payment.CopyFrom(pb.PaymentFigures(
            high_outlier_share=_text(p.high_outlier_share), low_outlier_share=_text(p.low_outlier_share),
            special_cases=p.special_cases,
            surplus=None if p.surplus_fen is None else common_pb2.Money(fen=p.surplus_fen)))
    if unit.review is not None:
        r = unit.review
        message.review.CopyFrom(pb.ReviewFigures(flags_per_thousand=_text(r.flags_per_thousand),
                                                 confirmed_amount=common_pb2.Money(fen=r.confirmed_fen)))
    return message


def _fill(message: pb.Indicator, f: UnitIndicators) -> None:
    message.cases, message.grouped, message.drg_count = f.cases, f.grouped, f.drg_count
    message.low_risk_cases, message.low_risk_deaths = f.low_risk_cases, f.low_risk_deaths
    message.grouping_rate, message.total_weight = _text(f.grouping_rate), _text(f.total_weight)
    message.cmi, message.time_index, message.cost_index = _text(f.cmi), _text(f.time_index), _text(f.cost_index)
    message.low_risk_mortality, message.readmit15_rate = _text(f.low_risk_mortality), _text(f.readmit15_rate)


def group_to_proto(g: GroupProfile) -> pb.GroupProfile:
    return pb.GroupProfile(group=g.group, cases=g.cases, deaths=g.deaths, rw=_text(g.rw), mean_los=_text(g.mean_los),
                           mean_cost=common_pb2.Money(fen=g.mean_cost_fen), cost_cv=_text(g.cost_cv),
                           mortality=_text(g.mortality), z_score=_text(g.z_score),
                           band=_BAND[g.band] if g.band else pb.RISK_BAND_UNSPECIFIED, low_risk=g.low_risk)


def scorecard_to_proto(card: Scorecard, name: str) -> pb.HospitalScorecard:
    return pb.HospitalScorecard(
        name=name, hospital=indicator_to_proto(card.hospital), region=indicator_to_proto(card.region),
        departments=[indicator_to_proto(d) for d in card.departments],
        months=[pb.MonthFigures(month=Period.parse(month).to_proto(),
                                hospital=indicator_to_proto(own) if own else None,
                                region=indicator_to_proto(region)) for month, own, region in card.months],
        periods=[_period_point(point) for point in card.periods],
        cmi_rank=card.cmi_rank, hospitals_ranked=card.hospitals_ranked)


def _period_point(point: PeriodPoint) -> pb.PeriodFigures:
    return pb.PeriodFigures(evaluation_run=run_name(point.run.region, point.run.run_id),
                            period=period_to_proto(point.run.period),
                            hospital=indicator_to_proto(point.hospital) if point.hospital else None,
                            region=indicator_to_proto(point.region))


def evaluation_run_to_proto(run: Run | None, stored: StoredRun | None) -> pb.EvaluationRun:
    """The run resource from the framework's record (state, progress, versions) and, once finished, what it
    stored (counts)."""
    if run is None and stored is None:
        raise ValueError("a run needs its record or its results")
    message = pb.EvaluationRun()
    if run is not None:
        p = run.parameters
        generic = run_to_proto(run)
        message.name = run_name(str(p["region"]), run.id)
        message.period.CopyFrom(period_to_proto(EvaluationPeriod.parse(str(p["period"]))))
        message.case_feed_sequence = int(p["feed_sequence"])
        message.settlement_run = str(p.get("settlement_run", ""))
        message.weights.extend(pb.GroupWeight(group=g, rw=_text(Decimal(rw).scaleb(-4)))
                               for g, rw in dict(p.get("weights") or {}).items())
        message.upload_deadline_days = int(p["upload_deadline_days"])
        message.state = generic.state
        message.progress.CopyFrom(generic.progress)
        message.versions.update(run.versions)
        message.input_digest = run.input_digest
        if generic.HasField("error"):
            message.error.CopyFrom(generic.error)
        message.create_time.CopyFrom(generic.create_time)
        if generic.HasField("end_time"):
            message.end_time.CopyFrom(generic.end_time)
        message.operation = run.name
        result = run.result if isinstance(run.result, dict) else {}
        message.versions.update({str(k): str(v) for k, v in dict(result.get("versions") or {}).items()})
        message.input_digest = str(result.get("input_digest") or run.input_digest)
        message.cases = int(result.get("cases") or 0)
        message.hospitals = int(result.get("hospitals") or 0)
    if stored is not None:
        message.name = run_name(stored.region, stored.run_id)
        message.period.CopyFrom(period_to_proto(stored.period))
        message.case_feed_sequence = stored.feed_sequence
        message.settlement_run = stored.settlement_run
        message.versions.update({str(k): str(v) for k, v in stored.inputs.items()})
        message.cases = stored.cases
        message.hospitals = stored.hospitals
        if run is None:
            message.state = common_pb2.RUN_STATE_SUCCEEDED
            if stored.created_at is not None:
                message.end_time.CopyFrom(_timestamp(stored.created_at))
    return message


def _timestamp(moment: object) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(moment)  # type: ignore[arg-type]
    return stamp


def _text(value: Decimal | None) -> str:
    return "" if value is None else f"{value:f}"
