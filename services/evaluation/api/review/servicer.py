"""gRPC servicer of medpay.review.v1: proto <-> the review service layer. Thin: conversions and the caller."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

import grpc
import orjson
from google.longrunning import operations_pb2
from google.protobuf.timestamp_pb2 import Timestamp
from medpay.common.v1 import common_pb2
from medpay.review.v1 import review_service_pb2 as pb
from medpay.review.v1 import review_service_pb2_grpc as pb_grpc

from libs.common.auth.context import current_principal, scope_institution, scope_region
from libs.common.auth.roles import Role as AuthRole
from libs.common.dates import Period, date_from_proto, date_to_proto
from libs.common.errors import InvalidArgument, PermissionDenied
from libs.common.money import Money
from libs.common.paging import decode_token, encode_token, page_of, page_size
from libs.common.runs import Run, Runs
from libs.national.fees import FEE_CATEGORIES, FeeLine, fee_local, scaled

from ...adapters.review.repository import StoredFlag, StoredKnowledge, StoredRuleSet, StoredRun
from ...domain.review.model import Category, Flag, Severity, Stage, Stay
from ...domain.review.monitoring import activity, precision
from ...domain.review.ruleset import RuleConfig, RuleSet
from ...domain.review.workflow import Event, Principal, Role, Step, Verdict
from ...service_layer.review.checking import Checker
from ...service_layer.review.flags import Flags, parse_flag_name, parse_region
from ...service_layer.review.knowledge import Knowledge
from ...service_layer.review.queries import ReviewQueries
from ...service_layer.review.rulesets import RuleSets, definition
from ...service_layer.review.runs import ReviewRuns, run_of_json

SERVICE_NAME = pb.DESCRIPTOR.services_by_name["ReviewService"].full_name
MAX_LINES = 10_000
CATEGORY = {c: pb.Category.Value(f"CATEGORY_{c.name}") for c in Category}
SEVERITY = {s: pb.Severity.Value(f"SEVERITY_{s.name}") for s in Severity}
STAGE = {s: pb.Stage.Value(f"STAGE_{s.name}") for s in Stage}
STAGE_OF = {v: k for k, v in STAGE.items()}
STEP_OF = {pb.ReviewStep.Value(f"REVIEW_STEP_{s.name}"): s for s in Step}
STEP = {v: k for k, v in STEP_OF.items()}
VERDICT_OF = {pb.VERDICT_UPHOLD: Verdict.UPHOLD, pb.VERDICT_DISMISS: Verdict.DISMISS}
VERDICT = {v: k for k, v in VERDICT_OF.items()}
FLAG_STATE = {name.removeprefix("FLAG_STATE_"): value for name, value in pb.FlagState.items()}
FORMAT = {pb.RULE_SET_FORMAT_TOML: "TOML", pb.RULE_SET_FORMAT_JSON: "JSON"}
FORMAT_OF = {v: k for k, v in FORMAT.items()}
_SEX = {pb.SEX_MALE: 1, pb.SEX_FEMALE: 2}
ROLE = {1: pb.LINE_ROLE_VIOLATING, 2: pb.LINE_ROLE_INVOLVED}


def principal(context: Any) -> Principal:
    """The caller. With auth on, the verified token decides who acts and for which institution: a hospital token
    is that hospital; a bureau's may pick its review function (x-medpay-role reviewer or operator, by default
    reviewer for a prefecture, operator otherwise). In dev mode the request metadata says it (x-medpay-actor,
    x-medpay-role, x-medpay-institution)."""
    metadata = {k.lower(): v for k, v in (context.invocation_metadata() or ()) if isinstance(v, str)}
    verified = current_principal()
    if verified is not None:
        if verified.role is AuthRole.HOSPITAL:
            return Principal(str(verified), Role.HOSPITAL, verified.subject)
        default = "reviewer" if verified.role is AuthRole.PREFECTURE else "operator"
        chosen = metadata.get("x-medpay-role", default)
        if chosen not in (Role.REVIEWER.value, Role.OPERATOR.value):
            raise PermissionDenied(f"a {verified.role.value} acts as reviewer or operator, not {chosen!r}",
                                   reason="PERMISSION_DENIED")
        return Principal(str(verified), Role(chosen))
    role_text = metadata.get("x-medpay-role", "operator")
    try:
        role = Role(role_text)
    except ValueError:
        raise PermissionDenied(f"unknown role {role_text!r} (reviewer, hospital or operator)",
                               reason="PERMISSION_DENIED") from None
    institution = metadata.get("x-medpay-institution", "")
    if role is Role.HOSPITAL and not institution:
        raise PermissionDenied("a hospital names its institution (x-medpay-institution)", reason="PERMISSION_DENIED")
    return Principal(metadata.get("x-medpay-actor", "anonymous"), role, institution)


def _operator(who: Principal) -> None:
    if who.role is Role.HOSPITAL:
        raise PermissionDenied("hospitals do not manage rule sets, knowledge or runs", reason="PERMISSION_DENIED")


class ReviewServicer(pb_grpc.ReviewServiceServicer):
    def __init__(self, *, knowledge: Knowledge, rulesets: RuleSets, checker: Checker, reviews: ReviewRuns,
                 runs: Runs, flags: Flags, queries: ReviewQueries) -> None:
        self._knowledge = knowledge
        self._rulesets = rulesets
        self._checker = checker
        self._reviews = reviews
        self._runs = runs
        self._flags = flags
        self._queries = queries

    # knowledge --------------------------------------------------------------------------------------------------
    async def ImportKnowledge(self, request: pb.ImportKnowledgeRequest, context: Any) -> pb.KnowledgeVersion:
        who = principal(context)
        _operator(who)
        if not request.HasField("effective_date"):
            raise InvalidArgument.field("effective_date", "is required")
        try:
            text = request.items_csv.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise InvalidArgument.field("items_csv", "is not UTF-8") from None
        effective = date_from_proto(request.effective_date, "effective_date")
        if effective is None:
            raise InvalidArgument.field("effective_date", "must be a full date")
        stored = await self._knowledge.import_version(request.knowledge_version_id, effective, text, who.actor)
        return knowledge_proto(stored)

    async def ListKnowledgeVersions(self, request: pb.ListKnowledgeVersionsRequest,
                                    context: Any) -> pb.ListKnowledgeVersionsResponse:
        size = page_size(request.page_size, 50, 500)
        after = decode_token(request.page_token)
        async with self._knowledge._new_uow() as uow:
            found = await uow.review.knowledge_versions(after, size + 1)
        page, more = found[:size], len(found) > size
        token = encode_token(f"{page[-1].effective_date}|{page[-1].version_id}") if more else ""
        return pb.ListKnowledgeVersionsResponse(knowledge_versions=[knowledge_proto(k) for k in page],
                                                next_page_token=token)

    async def ListKnowledgeItems(self, request: pb.ListKnowledgeItemsRequest,
                                 context: Any) -> pb.ListKnowledgeItemsResponse:
        parts = request.parent.split("/")
        if len(parts) != 2 or parts[0] != "knowledgeVersions":
            raise InvalidArgument.field("parent", "must be knowledgeVersions/{version}")
        size = page_size(request.page_size, 200, 2000)
        after = decode_token(request.page_token)  # the request's own errors before the version's existence
        await self._knowledge.get(parts[1])
        async with self._knowledge._new_uow() as uow:
            rows = await uow.review.knowledge_items(parts[1], after, size + 1)
        page, more = rows[:size], len(rows) > size
        return pb.ListKnowledgeItemsResponse(
            items=[pb.KnowledgeItem(code=r.code, name=r.name, kind=r.kind, med_chrgitm_type=r.med_chrgitm_type,
                                    price=r.price, sex_limit=r.sex_limit, min_age=r.min_age, max_age=r.max_age,
                                    max_daily_cnt=r.max_daily_cnt, exclusive_with=r.exclusive_with) for r in page],
            next_page_token=encode_token(page[-1].code) if more else "")

    # rule sets --------------------------------------------------------------------------------------------------
    async def CreateRuleSet(self, request: pb.CreateRuleSetRequest, context: Any) -> pb.RuleSet:
        who = principal(context)
        _operator(who)
        source_format = FORMAT.get(request.rule_set.source_format)
        if source_format is None:
            raise InvalidArgument.field("rule_set.source_format", "must be TOML or JSON")
        ruleset, stored = await self._rulesets.create(request.rule_set.source, source_format, who.actor,
                                                      validate_only=request.validate_only)
        if stored is not None:
            return rule_set_proto(stored, ruleset)
        return pb.RuleSet(name=f"ruleSets/{ruleset.id}/versions/{ruleset.version}", source=request.rule_set.source,
                          source_format=request.rule_set.source_format, rules=[rule_proto(r) for r in ruleset.rules],
                          digest=ruleset.digest, description=ruleset.description,
                          state=pb.RULE_SET_STATE_UNSPECIFIED)

    async def ActivateRuleSet(self, request: pb.ActivateRuleSetRequest, context: Any) -> pb.RuleSet:
        who = principal(context)
        _operator(who)
        stored = await self._rulesets.activate(request.name, request.reason, who.actor)
        return rule_set_proto(stored, self._rulesets.parsed(stored))

    async def GetRuleSet(self, request: pb.GetRuleSetRequest, context: Any) -> pb.RuleSet:
        stored = await self._rulesets.get(request.name)
        return rule_set_proto(stored, self._rulesets.parsed(stored))

    async def ListRuleSets(self, request: pb.ListRuleSetsRequest, context: Any) -> pb.ListRuleSetsResponse:
        size = page_size(request.page_size, 50, 500)
        async with self._knowledge._new_uow() as uow:
            found = await uow.review.rule_sets(decode_token(request.page_token), size + 1)
        page, more = found[:size], len(found) > size
        last = page[-1] if page else None
        token = encode_token(f"{last.create_time.astimezone(UTC):%Y-%m-%dT%H:%M:%S.%f}|{last.ruleset_id}|"
                             f"{last.version}") if more and last else ""
        return pb.ListRuleSetsResponse(rule_sets=[rule_set_proto(s, self._rulesets.parsed(s)) for s in page],
                                       next_page_token=token)

    # checking ---------------------------------------------------------------------------------------------------
    async def CheckStay(self, request: pb.CheckStayRequest, context: Any) -> pb.CheckStayResponse:
        stage = STAGE_OF.get(request.stage)
        if stage is None:
            raise InvalidArgument.field("stage", "must be before, during or after")
        scope_institution(request.stay.fixmedins_code)  # a hospital checks its own stays
        result = await self._checker.check(stay_of_request(request.stay), stage)
        return pb.CheckStayResponse(violations=[violation_proto(f) for f in result.flags],
                                    rule_set=result.rule_set, knowledge_version=result.knowledge_version)

    # runs -------------------------------------------------------------------------------------------------------
    async def StartReviewRun(self, request: pb.StartReviewRunRequest, context: Any) -> operations_pb2.Operation:
        _operator(principal(context))
        region = scope_region(parse_region(request.parent))
        if not request.HasField("settlement_period"):
            raise InvalidArgument.field("settlement_period", "is required")
        period = Period.from_proto(request.settlement_period, "settlement_period")
        run = await self._reviews.start(self._runs, region, period, request.rule_set)
        return self._runs.operation(run)

    async def GetReviewRun(self, request: pb.GetReviewRunRequest, context: Any) -> pb.ReviewRun:
        return run_proto(await self._queries.run(request.name))

    async def ListReviewRuns(self, request: pb.ListReviewRunsRequest, context: Any) -> pb.ListReviewRunsResponse:
        region = scope_region(parse_region(request.parent))
        size = page_size(request.page_size, 50, 500)
        async with self._knowledge._new_uow() as uow:
            found = await uow.review.runs(region, decode_token(request.page_token), size + 1)
        page, more = found[:size], len(found) > size
        return pb.ListReviewRunsResponse(review_runs=[run_proto(r) for r in page],
                                         next_page_token=encode_token(page[-1].name) if more else "")

    # flags ------------------------------------------------------------------------------------------------------
    async def ListFlags(self, request: pb.ListFlagsRequest, context: Any) -> pb.ListFlagsResponse:
        who = principal(context)
        region = scope_region(parse_region(request.parent))
        size = page_size(request.page_size, 100, 1000)
        months = months_of(request.settlement_period, "settlement_period") if request.HasField(
            "settlement_period") else []
        cursor = decode_token(request.page_token)
        after = None
        if cursor:
            period, hospital, flag_id = [*cursor.split("|"), "", "", ""][:3]
            if not flag_id.isdigit():
                raise InvalidArgument.field("page_token", "not a token returned by this service", "INVALID_PAGE_TOKEN")
            after = (period, hospital, int(flag_id))
        category = next((c.value for c, v in CATEGORY.items() if v == request.category), "")
        state = pb.FlagState.Name(request.state).removeprefix("FLAG_STATE_") if request.state else ""
        found = await self._flags.find(who, region, periods=months, hospital=request.fixmedins_code,
                                       category=category, rule_id=request.rule_id, state=state, after=after,
                                       limit=size + 1)
        page, more = found[:size], len(found) > size
        token = encode_token(f"{page[-1].period}|{page[-1].fixmedins_code}|{page[-1].flag_id}") if more else ""
        return pb.ListFlagsResponse(flags=[flag_proto(f, []) for f in page], next_page_token=token)

    async def GetFlag(self, request: pb.GetFlagRequest, context: Any) -> pb.Flag:
        scope_region(parse_flag_name(request.name)[0])
        found, events = await self._flags.get(principal(context), request.name)
        return flag_proto(found, events)

    async def ReviewFlag(self, request: pb.ReviewFlagRequest, context: Any) -> pb.Flag:
        step = STEP_OF.get(request.step)
        if step is None:
            raise InvalidArgument.field("step", "must be first review, re-review, appeal or decide")
        amount = request.amount.fen if request.HasField("amount") else None
        scope_region(parse_flag_name(request.name)[0])
        found, events = await self._flags.review(principal(context), request.name, step,
                                                 verdict=VERDICT_OF.get(request.verdict), reason=request.reason,
                                                 amount=amount, request_id=request.request_id)
        return flag_proto(found, events)

    async def ListDeductions(self, request: pb.ListDeductionsRequest, context: Any) -> pb.ListDeductionsResponse:
        region = scope_region(parse_region(request.parent))
        if not request.HasField("settlement_period"):
            raise InvalidArgument.field("settlement_period", "is required")
        size = page_size(request.page_size, 100, 1000)
        rows = await self._flags.deductions(region, months_of(request.settlement_period, "settlement_period"))
        own = current_principal()
        if own is not None and own.role is AuthRole.HOSPITAL:  # a hospital sees its own deductions
            rows = [row for row in rows if row[0] == own.subject]
        page, token = page_of(rows, lambda row: row[0], request.page_token, size)
        return pb.ListDeductionsResponse(deductions=[
            pb.Deduction(fixmedins_code=h, amount=Money(fen).to_proto(), flag_count=n) for h, fen, n in page],
            next_page_token=token)

    async def ListRuleStatistics(self, request: pb.ListRuleStatisticsRequest,
                                 context: Any) -> pb.ListRuleStatisticsResponse:
        region = scope_region(parse_region(request.parent))
        period = str(Period.from_proto(request.settlement_period, "settlement_period")) if request.HasField(
            "settlement_period") else None
        size = page_size(request.page_size, 100, 1000)
        rows, token = page_of(await self._flags.statistics(region, period),
                              lambda r: f"{r.rule_id}\x1f{r.rule_version}", request.page_token, size)
        return pb.ListRuleStatisticsResponse(next_page_token=token, statistics=[pb.RuleStatistics(
            rule_id=r.rule_id, rule_version=r.rule_version, category=CATEGORY[Category(r.category)],
            lists_reviewed=r.lists_reviewed, flag_count=r.flags, activity=activity(r.flags, r.lists_reviewed),
            decided_count=r.decided, confirmed_count=r.confirmed, precision=precision(r.confirmed, r.decided),
            amount=Money(r.amount_fen).to_proto(), confirmed_amount=Money(r.confirmed_fen).to_proto())
            for r in rows])


def add_to_server(servicer: ReviewServicer, server: grpc.aio.Server) -> None:
    pb_grpc.add_ReviewServiceServicer_to_server(servicer, server)


# conversions ----------------------------------------------------------------------------------------------------
def months_of(period: Any, field: str) -> list[str]:
    return [str(m) for m in Period.from_proto(period, field).months()]


def stay_of_request(s: pb.Stay) -> Stay:
    """The stay of a CheckStay request, its fields checked (INVALID_FIELD naming the first bad one)."""
    if not s.fixmedins_code:
        raise InvalidArgument.field("stay.fixmedins_code", "is required")
    if not s.HasField("admission_time"):
        raise InvalidArgument.field("stay.admission_time", "is required")
    if len(s.fee_lines) > MAX_LINES:
        raise InvalidArgument.field("stay.fee_lines", f"at most {MAX_LINES:,} lines")
    admitted = _local(s.admission_time)
    discharged = _local(s.discharge_time) if s.HasField("discharge_time") else None
    birth = date_from_proto(s.birth_date, "stay.birth_date") if s.HasField("birth_date") else None
    age = None
    if birth is not None:
        day = admitted.date()
        age = day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))
    stated = s.age_years if s.HasField("age_years") else None
    lines = tuple(_line(line, i) for i, line in enumerate(s.fee_lines))
    return Stay(fixmedins_code=s.fixmedins_code, setl_id=s.setl_id, mdtrt_id=s.mdtrt_id, psn_no=s.psn_no,
                sex=_SEX.get(s.sex), age_years=age, stated_age=stated, admitted=admitted, discharged=discharged,
                discharge_way=s.discharge_way, dept=s.department, doctor=s.attending_doctor,
                diagnoses=tuple(s.diagnosis_codes), procedures=tuple(s.procedure_codes),
                total_fen=s.total_cost.fen if s.HasField("total_cost") else None, category_fen=None, details=lines,
                has_details=bool(lines), birth=birth)


def _line(line: pb.FeeLine, i: int) -> FeeLine:
    """One fee line (the hot path of CheckStay: each field of the message read once, the error text made only
    when there is an error)."""
    sn, code, category = line.feedetl_sn, line.med_list_codg, line.med_chrgitm_type
    if not sn or not code:
        raise InvalidArgument.field(f"stay.fee_lines[{i}]", "feedetl_sn and med_list_codg are required")
    ts = line.fee_time
    seconds = ts.seconds
    if seconds >= _FIXED_OFFSET_FROM:  # a fee time since 1992 (so set), as fee_local writes it, by arithmetic
        day, second = divmod(seconds + 8 * 3600, 86_400)
        time = _day_text(day) + _clock_text(second)
    elif line.HasField("fee_time"):
        time = fee_local(ts.ToDatetime(tzinfo=UTC))
    else:
        raise InvalidArgument.field(f"stay.fee_lines[{i}].fee_time", "is required")
    cnt, pric = _scaled(line.cnt), _scaled(line.pric)
    if cnt is None or pric is None:
        raise InvalidArgument.field(f"stay.fee_lines[{i}].{'cnt' if cnt is None else 'pric'}",
                                    "must be a plain decimal with at most 6 places")
    if category and category not in FEE_CATEGORIES:
        raise InvalidArgument.field(f"stay.fee_lines[{i}].med_chrgitm_type", "must be one of 01-14")
    return _new_line(FeeLine, (sn, code, category, time, cnt, pric, line.amount.fen, "", line.init_feedetl_sn))


_new_line = tuple.__new__  # FeeLine(...) without its Python-level __new__: 200 lines a call
_scaled = functools.lru_cache(maxsize=16_384)(scaled)  # quantities and prices repeat: "1", "12.36", ...
_FIXED_OFFSET_FROM = 694_195_200  # 1992-01-01 UTC: since then China Standard Time is UTC+8, without summer time


@functools.lru_cache(maxsize=4096)
def _day_text(day: int) -> str:
    return (date(1970, 1, 1) + timedelta(days=day)).isoformat()


@functools.lru_cache(maxsize=86_400)
def _clock_text(second: int) -> str:
    """" HH:mm:ss" of a second of the day (at most 86,400 strings, a few megabytes)."""
    return f" {second // 3600:02d}:{second // 60 % 60:02d}:{second % 60:02d}"


def _local(ts: Timestamp) -> datetime:
    return datetime.fromisoformat(fee_local(ts.ToDatetime(tzinfo=UTC)))


def _timestamp(value: datetime | None) -> Timestamp | None:
    if value is None:
        return None
    ts = Timestamp()
    ts.FromDatetime(value)
    return ts


def violation_proto(f: Flag) -> pb.Violation:
    return pb.Violation(rule_id=f.rule_id, rule_version=f.rule_version, rule_name=f.rule_name,
                        category=CATEGORY[f.category], severity=SEVERITY[f.severity],
                        amount=Money(f.amount).to_proto(), evidence=f.evidence,
                        lines=[pb.ViolationLine(feedetl_sn=x.sn, role=ROLE[x.role], amount=_fen(x.amount))
                               for x in f.lines], related_setl_id=f.related_setl_id)


def _fen(amount: int) -> common_pb2.Money:
    """A line's amount (fen, from an int64 on the wire) as ``Money.to_proto`` writes it, without the value object:
    a violation may name hundreds of lines."""
    return common_pb2.Money(fen=amount)


def knowledge_proto(k: StoredKnowledge) -> pb.KnowledgeVersion:
    return pb.KnowledgeVersion(name=f"knowledgeVersions/{k.version_id}",
                               effective_date=date_to_proto(k.effective_date), item_count=k.item_count,
                               digest=k.digest, create_time=_timestamp(k.create_time), creator=k.creator)


def rule_proto(r: RuleConfig) -> pb.Rule:
    effective = {}
    if r.effective_from:
        effective["start_date"] = date_to_proto(r.effective_from)
    if r.effective_to:  # exclusive in the document; the wire's range is inclusive
        from datetime import timedelta

        effective["end_date"] = date_to_proto(r.effective_to - timedelta(days=1))
    return pb.Rule(rule_id=r.id, version=r.version, kind=r.kind.name, display_name=r.name,
                   category=CATEGORY[r.category], severity=SEVERITY[r.severity],
                   stages=sorted(STAGE[s] for s in r.stages), enabled=r.enabled,
                   effective=common_pb2.DateRange(**effective),
                   parameters_json=orjson.dumps(definition(r)["params"]).decode())


def rule_set_proto(stored: StoredRuleSet, ruleset: RuleSet) -> pb.RuleSet:
    return pb.RuleSet(name=stored.name, source=stored.source, source_format=FORMAT_OF[stored.source_format],
                      rules=[rule_proto(r) for r in ruleset.rules], digest=stored.digest,
                      state=pb.RULE_SET_STATE_ACTIVE if stored.active else pb.RULE_SET_STATE_INACTIVE,
                      create_time=_timestamp(stored.create_time), creator=stored.creator,
                      activate_time=_timestamp(stored.activate_time), activation=stored.activation,
                      description=stored.description)


def review_run_response(run: Run) -> pb.ReviewRun:
    """The response of a finished review run's operation (the run framework's result is the stored run)."""
    return run_proto(run_of_json(run.result)) if run.result else pb.ReviewRun()


def run_proto(r: StoredRun) -> pb.ReviewRun:
    return pb.ReviewRun(name=r.name, settlement_period=Period.parse(r.period).to_proto(), rule_set=r.rule_set,
                        as_of_sequence=r.as_of_sequence, list_count=r.list_count,
                        lists_with_details=r.lists_with_details, flag_count=r.flag_count,
                        amount=Money(r.amount_fen).to_proto(), end_time=_timestamp(r.end_time),
                        knowledge_versions=r.knowledge_versions)


def flag_proto(f: StoredFlag, events: Sequence[Event]) -> pb.Flag:
    violation = pb.Violation(
        rule_id=f.rule_id, rule_version=f.rule_version, rule_name=f.rule_name,
        category=CATEGORY[Category(f.category)], severity=SEVERITY[Severity(f.severity)],
        amount=Money(f.found_fen).to_proto(), evidence=f.evidence, related_setl_id=f.related_setl_id,
        lines=[pb.ViolationLine(feedetl_sn=x["sn"], role=ROLE[x["role"]], amount=Money(x["amount"]).to_proto())
               for x in f.lines])
    return pb.Flag(
        name=f.name, fixmedins_code=f.fixmedins_code, setl_id=f.setl_id, mdtrt_id=f.mdtrt_id,
        settlement_month=Period.parse(f.period).to_proto() if f.period else None, violation=violation,
        state=FLAG_STATE[f.state.value], amount=Money(f.amount_fen).to_proto(), review_run=f.run_name,
        rule_set=f.rule_set, create_time=_timestamp(f.create_time),
        history=[pb.FlagEvent(step=STEP[e.step], verdict=VERDICT[e.verdict] if e.verdict else pb.VERDICT_UNSPECIFIED,
                              actor=e.actor, role=e.role.value, event_time=_timestamp(e.time), reason=e.reason,
                              amount=Money(e.amount).to_proto() if e.amount is not None else None,
                              state=FLAG_STATE[e.state.value]) for e in events])
