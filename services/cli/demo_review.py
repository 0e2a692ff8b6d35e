"""The demo's smart-review part: the month's fee details into collection, the knowledge library and the packaged
rule set into the review service, an after-the-fact review run over the month, and the bureau's workflow on the
flags (reviewers decide from the synthetic truth, as a reviewer would from the medical record; some hospitals
appeal); what the report's review section shows comes back as ``ReviewResults``."""

from __future__ import annotations

import asyncio
import re
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import grpc
import orjson
from google.longrunning import operations_pb2, operations_pb2_grpc
from google.protobuf.duration_pb2 import Duration
from google.type import date_pb2
from medpay.collection.v1 import fee_detail_service_pb2 as fee_pb
from medpay.collection.v1 import fee_detail_service_pb2_grpc as fee_grpc
from medpay.review.v1 import review_service_pb2 as pb
from medpay.review.v1 import review_service_pb2_grpc as pb_grpc

from libs.common.grpc.client import open_channel
from libs.common.paging import every_page

from ..evaluation.adapters.review.files import DEFAULT_RULESET
from ..synth.items import catalogue, items_csv
from .report_review import ExampleFlag, ReviewResults, RuleFigures

OPERATOR = (("x-medpay-actor", "demo-operator"), ("x-medpay-role", "operator"))
REVIEWERS = ((("x-medpay-actor", "reviewer-wang"), ("x-medpay-role", "reviewer")),
             (("x-medpay-actor", "reviewer-li"), ("x-medpay-role", "reviewer")))
# truth.jsonl's behaviour names -> CONTRACT categories (item behaviours are the categories in capitals)
_BEHAVIOURS = {"UPCODED": "upcoding", "SPLIT_ADMISSION": "split_admission",
               "LOW_STANDARD_ADMISSION": "low_standard_admission"}
DECIDED_FLAGS = 240  # flags the simulated bureau takes through the workflow (the rest stay open)


def hospital_metadata(code: str) -> tuple[tuple[str, str], ...]:
    return (("x-medpay-actor", f"his-{code}"), ("x-medpay-role", "hospital"), ("x-medpay-institution", code))


def planted(truths: list[dict[str, Any]]) -> dict[tuple[str, str], set[str]]:
    """(institution, setl_id) -> the CONTRACT categories the truth says the list carries (faults count as
    data_quality; a split admission's partner stay counts too: CONTRACT lets both be flagged)."""
    out: dict[tuple[str, str], set[str]] = {}
    for t in truths:
        key = (t["fixmedins_code"], t["setl_id"])
        found = {_BEHAVIOURS.get(b, b.lower()) for b in t["behaviours"]}
        if t["faults"]:
            found.add("data_quality")
        out.setdefault(key, set()).update(found)
        if "split_admission" in found and t.get("related_setl_id"):
            out.setdefault((t["fixmedins_code"], t["related_setl_id"]), set()).add("split_admission")
    return out


OpenAs = Callable[[str, str, str], grpc.aio.Channel]
"""(address, kind, subject) -> a channel of the caller: kind "operator", "reviewer" (subject: who) or "hospital"
(subject: its institution code). The demo's opens mutual-TLS channels with tokens; without auth, plain ones."""


def plain_channels(address: str, kind: str, subject: str) -> grpc.aio.Channel:
    return open_channel(address)


async def review_month(evaluation: str, collection: str, region: str, month: date, *, fees: list[dict[str, Any]],
                       truths: list[dict[str, Any]], progress: Callable[[str], None],
                       open_as: OpenAs = plain_channels) -> ReviewResults:
    """Everything the review section needs, over gRPC to the collection and evaluation processes."""
    results = ReviewResults()
    started = time.perf_counter()
    async with open_as(collection, "operator", "") as channel:
        results.fee_uploads, results.fee_lines, results.fee_warnings = await _upload_fees(
            fee_grpc.FeeDetailServiceStub(channel), fees)
    progress(f"fee details: {results.fee_uploads:,} stays, {results.fee_lines:,} lines "
             f"({time.perf_counter() - started:.1f}s)")
    async with open_as(evaluation, "operator", "") as channel, \
            open_as(evaluation, "reviewer", "reviewer-wang") as first, \
            open_as(evaluation, "reviewer", "reviewer-li") as second:
        review, operations = pb_grpc.ReviewServiceStub(channel), operations_pb2_grpc.OperationsStub(channel)
        reviewers = (pb_grpc.ReviewServiceStub(first), pb_grpc.ReviewServiceStub(second))
        await _install(review, month)
        started = time.perf_counter()
        run = await _run(review, operations, region, month)
        results.run_seconds = time.perf_counter() - started
        results.run_name, results.rule_set = run.name, run.rule_set
        results.lists_reviewed, results.lists_with_details = run.list_count, run.lists_with_details
        results.amount_fen = run.amount.fen
        progress(f"review run {run.name}: {run.list_count:,} lists, {run.flag_count:,} flags "
                 f"({results.run_seconds:.1f}s)")
        flags = [f async for f in _flags(reviewers[0], region, month)]
        truth = planted(truths)
        _tally(results, flags, truth)
        await _workflow(reviewers, lambda code: open_as(evaluation, "hospital", code), flags, truth, results)
        results.rules = [RuleFigures(s.rule_id, s.rule_version, _category(s.category), s.flag_count, s.activity,
                                     s.decided_count, s.confirmed_count, s.precision, s.amount.fen,
                                     s.confirmed_amount.fen)
                         async for s in every_page(review.ListRuleStatistics, pb.ListRuleStatisticsRequest(
                             parent=f"regions/{region}", settlement_period=_month(month), page_size=1000),
                             "statistics", metadata=OPERATOR)]
        results.deductions = [(d.fixmedins_code, d.amount.fen, d.flag_count)
                              async for d in every_page(review.ListDeductions, pb.ListDeductionsRequest(
                                  parent=f"regions/{region}", settlement_period=_month(month), page_size=1000),
                                  "deductions", metadata=OPERATOR)]
        one = next((f for f in flags if f.fixmedins_code), None)
        if one is not None:  # what one hospital sees: its own flags only
            async with open_as(evaluation, "hospital", one.fixmedins_code) as mine:
                own = [f async for f in _flags(pb_grpc.ReviewServiceStub(mine), region, month,
                                               hospital_metadata(one.fixmedins_code))]
            results.tenant_check = (one.fixmedins_code, len(own),
                                    all(f.fixmedins_code == one.fixmedins_code for f in own))
    return results


async def _upload_fees(stub: Any, fees: list[dict[str, Any]]) -> tuple[int, int, int]:
    limit = asyncio.Semaphore(16)
    lines = warnings = 0

    async def upload(request: dict[str, Any]) -> None:
        nonlocal lines, warnings
        async with limit:
            reply = await stub.UploadFeeDetails(fee_pb.UploadFeeDetailsRequest(
                request_id=request["msgid"], fixmedins_code=request["fixmedins_code"],
                input_json=orjson.dumps(request["input"])))
        lines += len(reply.fee_details)
        warnings += bool(reply.findings)

    await asyncio.gather(*(upload(r) for r in fees))
    return len(fees), lines, warnings


async def _install(review: Any, month: date) -> None:
    """The knowledge library synth charges from and the packaged rule set, made active."""
    await review.ImportKnowledge(pb.ImportKnowledgeRequest(
        knowledge_version_id=f"synth-{month:%Y%m}",  # in force a year back: stays admitted before the month
        effective_date=date_pb2.Date(year=month.year - 1, month=month.month, day=1),
        items_csv=items_csv(catalogue())), metadata=OPERATOR)
    created = await review.CreateRuleSet(pb.CreateRuleSetRequest(rule_set=pb.RuleSet(
        source=DEFAULT_RULESET.read_bytes(), source_format=pb.RULE_SET_FORMAT_TOML)), metadata=OPERATOR)
    await review.ActivateRuleSet(pb.ActivateRuleSetRequest(name=created.name, reason="demo: the packaged rules"),
                                 metadata=OPERATOR)


async def _run(review: Any, operations: Any, region: str, month: date) -> pb.ReviewRun:
    operation = await review.StartReviewRun(pb.StartReviewRunRequest(
        parent=f"regions/{region}", settlement_period=_month(month)), metadata=OPERATOR)
    while not operation.done:
        operation = await operations.WaitOperation(operations_pb2.WaitOperationRequest(
            name=operation.name, timeout=Duration(seconds=30)), metadata=OPERATOR)
    if operation.HasField("error"):
        raise RuntimeError(f"the review run failed: {operation.error.message}")
    run = pb.ReviewRun()
    operation.response.Unpack(run)
    return run


async def _flags(review: Any, region: str, month: date,
                 metadata: tuple[tuple[str, str], ...] = REVIEWERS[0],
                 period: date_pb2.Date | None = None) -> AsyncIterator[pb.Flag]:
    async for flag in every_page(review.ListFlags, pb.ListFlagsRequest(
            parent=f"regions/{region}", settlement_period=period or _month(month), page_size=1000), "flags",
            metadata=metadata):
        yield flag


def _tally(results: ReviewResults, flags: list[pb.Flag], truth: dict[tuple[str, str], set[str]]) -> None:
    for f in flags:
        category = _category(f.violation.category)
        results.by_category[category] += 1
        results.amount_by_category[category] += f.violation.amount.fen
        results.by_hospital[f.fixmedins_code] += 1
        results.flagged_lists.add((f.fixmedins_code, f.setl_id))
    found = {((f.fixmedins_code, f.setl_id), _category(f.violation.category)) for f in flags}
    for key, categories in truth.items():
        for category in categories - {"data_quality"}:  # lists with faults are mostly refused at intake
            results.planted[category] += 1
            results.found[category] += (key, category) in found
    seen: set[str] = set()
    for f in flags:  # one example of each of the first categories met, with its evidence
        category = _category(f.violation.category)
        if category in seen or len(results.examples) >= 3 or not f.violation.evidence:
            continue
        seen.add(category)
        results.examples.append(ExampleFlag(category, f.violation.rule_id, f.violation.rule_version,
                                            f.fixmedins_code, f.setl_id, f.violation.amount.fen,
                                            f.violation.evidence))


async def _workflow(reviewers: tuple[Any, Any], hospital: Callable[[str], grpc.aio.Channel], flags: list[pb.Flag],
                    truth: dict[tuple[str, str], set[str]], results: ReviewResults, *,
                    limit: int = DECIDED_FLAGS) -> None:
    """First review and re-review by two reviewers, an appeal by every third hospital whose flag stands, the
    decision: reviewers uphold what the truth confirms and dismiss the rest (a reviewer reading the record)."""
    chosen = sorted(flags, key=lambda f: (_category(f.violation.category), f.name))
    by_category: Counter[str] = Counter()
    picked = []
    for f in chosen:  # a spread over the categories, not only the most frequent one
        category = _category(f.violation.category)
        if by_category[category] < limit // 8:
            by_category[category] += 1
            picked.append(f)
    for n, f in enumerate(picked[:limit]):
        right = _category(f.violation.category) in truth.get((f.fixmedins_code, f.setl_id), set())

        async def step(who: int, step: pb.ReviewStep.ValueType, verdict: pb.Verdict.ValueType, reason: str, *,
                       flag: pb.Flag = f) -> None:
            await reviewers[who].ReviewFlag(pb.ReviewFlagRequest(
                name=flag.name, step=step, verdict=verdict, reason=reason, request_id=f"demo-{flag.name}-{step}"),
                metadata=REVIEWERS[who])

        if not right:
            await step(0, pb.REVIEW_STEP_FIRST_REVIEW, pb.VERDICT_DISMISS, "the record explains it")
            results.dismissed += 1
            continue
        await step(0, pb.REVIEW_STEP_FIRST_REVIEW, pb.VERDICT_UPHOLD, "the lines show it")
        await step(1, pb.REVIEW_STEP_RE_REVIEW, pb.VERDICT_UPHOLD, "agreed on re-review")
        if n % 3 == 0:
            async with hospital(f.fixmedins_code) as channel:
                await pb_grpc.ReviewServiceStub(channel).ReviewFlag(pb.ReviewFlagRequest(
                    name=f.name, step=pb.REVIEW_STEP_APPEAL, reason="the department says the charge was ordered",
                    request_id=f"demo-{f.name}-appeal"), metadata=hospital_metadata(f.fixmedins_code))
            results.appealed += 1
        await step(1, pb.REVIEW_STEP_DECIDE, pb.VERDICT_UPHOLD, "confirmed")
        results.confirmed += 1


def _category(value: pb.Category.ValueType) -> str:
    return pb.Category.Name(value).removeprefix("CATEGORY_").lower()


def _month(day: date) -> date_pb2.Date:
    return date_pb2.Date(year=day.year, month=day.month)


YEAR_DECIDED = 60
"""Flags of the settlement year the bureau confirms or dismisses before the clearing (the rest stay open)."""


@dataclass
class YearReview:
    """The review of the demo's settlement year whose confirmed amounts its clearing deducts."""

    run_name: str = ""
    rule_set: str = ""
    lists: int = 0
    flags: int = 0
    confirmed: int = 0
    dismissed: int = 0
    deductions: list[tuple[str, int, int]] = field(default_factory=list)  # (institution, fen, flags)


async def review_year(evaluation: str, region: str, year: int, *, truths: list[dict[str, Any]],
                      open_as: OpenAs = plain_channels) -> YearReview:
    """An after-the-fact review of a past settlement year (its lists only: case-level rules) before it is
    cleared, with the packaged rules in force from that year (a rule set version of its own: the packaged one
    takes effect later), and the workflow on its flags; the clearing then reads the confirmed amounts itself."""
    out = YearReview()
    source = DEFAULT_RULESET.read_text(encoding="utf-8")
    source = re.sub(r'(?m)^version = "[^"]*"', f'version = "{year}.1"\neffective_from = "{year}-01-01"', source,
                    count=1)  # the packaged rules as a set in force from the year
    async with open_as(evaluation, "operator", "") as channel, \
            open_as(evaluation, "reviewer", "reviewer-wang") as first, \
            open_as(evaluation, "reviewer", "reviewer-li") as second:
        review, operations = pb_grpc.ReviewServiceStub(channel), operations_pb2_grpc.OperationsStub(channel)
        created = await review.CreateRuleSet(pb.CreateRuleSetRequest(rule_set=pb.RuleSet(
            source=source.encode(), source_format=pb.RULE_SET_FORMAT_TOML)), metadata=OPERATOR)
        period = date_pb2.Date(year=year)
        operation = await review.StartReviewRun(pb.StartReviewRunRequest(
            parent=f"regions/{region}", settlement_period=period, rule_set=created.name), metadata=OPERATOR)
        while not operation.done:
            operation = await operations.WaitOperation(operations_pb2.WaitOperationRequest(
                name=operation.name, timeout=Duration(seconds=30)), metadata=OPERATOR)
        if operation.HasField("error"):
            raise RuntimeError(f"the review run of {year} failed: {operation.error.message}")
        run = pb.ReviewRun()
        operation.response.Unpack(run)
        out.run_name, out.rule_set, out.lists, out.flags = run.name, run.rule_set, run.list_count, run.flag_count
        reviewers = (pb_grpc.ReviewServiceStub(first), pb_grpc.ReviewServiceStub(second))
        flags = [f async for f in _flags(reviewers[0], region, date(year, 1, 1), period=period)]
        tally = ReviewResults()
        await _workflow(reviewers, lambda code: open_as(evaluation, "hospital", code), flags, planted(truths),
                        tally, limit=YEAR_DECIDED)
        out.confirmed, out.dismissed = tally.confirmed, tally.dismissed
        out.deductions = [(d.fixmedins_code, d.amount.fen, d.flag_count)
                          async for d in every_page(review.ListDeductions, pb.ListDeductionsRequest(
                              parent=f"regions/{region}", settlement_period=period, page_size=1000), "deductions",
                              metadata=OPERATOR)]
    return out
