"""`medpay review ...`: the batch review over files, and rule-set checks (no server needed)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from rich.console import Console

from libs.common.runtime import Runtime
from services.grouping.adapters.scheme_files import available_schemes, load_code_tables, load_scheme

from .adapters.review.files import DEFAULT_RULESET, read_knowledge, read_levels, read_ruleset
from .domain.review.engine import Reviewer
from .domain.review.knowledge import KnowledgeError
from .domain.review.rules import Context
from .domain.review.ruleset import RuleSet, RuleSetError
from .service_layer.review.batch import BatchReport, BatchReview

console = Console(stderr=True, soft_wrap=True)
NATIONAL_SCHEME = "chs-drg-1.1"


def add_commands(sub: Any) -> None:
    review = sub.add_parser("review", help="smart review (智能审核): batch review over files, rule sets")
    cmds = review.add_subparsers(dest="review_command", required=True)
    batch = cmds.add_parser("batch", help="review settlement lists and fee details in-process; one flag per line")
    batch.add_argument("--lists", required=True, type=Path, help="4101A requests, JSON lines (.gz accepted)")
    batch.add_argument("--fee-details", required=True, type=Path, help="2301 requests, JSON lines (.gz accepted)")
    batch.add_argument("--knowledge", required=True, type=Path, help="knowledge library items.csv")
    batch.add_argument("--out", required=True, type=Path, help="flags file to write (JSON lines)")
    batch.add_argument("--records", type=Path, help="settlement records (2304/2305 lines) for HIS-form lists")
    batch.add_argument("--institutions", type=Path, help="institutions, JSON lines with fixmedins_code and hosp_lv "
                       "(as `medpay synth` writes them): upcoding compares hospitals with those of their level")
    batch.add_argument("--scheme", help=f"CHS-DRG scheme for the statistical rules (default {NATIONAL_SCHEME}, or "
                       "the bundled sample pack where the reference material has none)")
    batch.add_argument("--rules", type=Path, help=f"rule set file, TOML or JSON (default {DEFAULT_RULESET.name})")
    batch.add_argument("--reference-dir", type=Path, help="reference directory (default MEDPAY_REFERENCE_DIR)")
    batch.set_defaults(handler=run_batch)
    check = cmds.add_parser("check-rules", help="validate a rule set file and list its rules")
    check.add_argument("file", type=Path, nargs="?", default=DEFAULT_RULESET)
    check.set_defaults(handler=run_check_rules)
    load = cmds.add_parser("load-rules", help="store a rule set file in the review service (validated there), "
                           "and activate it with --activate REASON")
    load.add_argument("file", type=Path, nargs="?", default=DEFAULT_RULESET)
    load.add_argument("--activate", metavar="REASON", help="make it the active rule set, for this reason")
    load.add_argument("--address", help="review (evaluation) service address (default MEDPAY_EVALUATION_ADDRESS)")
    load.set_defaults(handler=run_load_rules)
    knowledge = cmds.add_parser("import-knowledge", help="import an items.csv into the review service as a "
                                "knowledge version")
    knowledge.add_argument("file", type=Path)
    knowledge.add_argument("--version", required=True, help="version id, e.g. 2026.1")
    knowledge.add_argument("--effective", required=True, help="first day in force, yyyy-MM-dd")
    knowledge.add_argument("--address", help="review (evaluation) service address (default MEDPAY_EVALUATION_ADDRESS)")
    knowledge.set_defaults(handler=run_import_knowledge)
    run = cmds.add_parser("run", help="start an after-the-fact review run of a region and period and wait for it")
    run.add_argument("--region", required=True, help="6-digit prefecture code")
    run.add_argument("--period", required=True, help="settlement month yyyy-MM or year yyyy")
    run.add_argument("--rule-set", default="", help="ruleSets/{id}/versions/{version} (default: the active one)")
    run.add_argument("--address", help="review (evaluation) service address (default MEDPAY_EVALUATION_ADDRESS)")
    run.set_defaults(handler=run_review_run)
    deductions = cmds.add_parser("deductions", help="the confirmed flags' amounts per hospital for a settlement "
                                 "period: the deductions a settlement clearing applies (the settlement service "
                                 "reads them itself with MEDPAY_SETTLEMENT_REVIEW_DEDUCTIONS=true)")
    deductions.add_argument("--region", required=True, help="6-digit prefecture code")
    deductions.add_argument("--period", required=True, help="settlement month yyyy-MM or year yyyy")
    deductions.add_argument("--out", type=Path, help='also write {"hospitals": {code: {"deductions": yuan}}} here, '
                            "FORMAT.md's hospitals for `medpay settlement simulate` (not for a policy of a settlement "
                            "service that reads review: it would deduct them twice)")
    deductions.add_argument("--address", help="review (evaluation) service address (default "
                            "MEDPAY_EVALUATION_ADDRESS)")
    deductions.set_defaults(handler=run_deductions)


def run_batch(args: argparse.Namespace, runtime: Runtime) -> int:
    for name in ("lists", "fee_details", "knowledge", "records", "rules", "institutions"):
        path = getattr(args, name)
        if path is not None and not path.is_file():
            console.print(f"medpay review batch: --{name.replace('_', '-')} {path} does not exist")
            return 2
    try:
        ruleset = read_ruleset(args.rules or DEFAULT_RULESET)
        knowledge = read_knowledge(args.knowledge)
        levels = read_levels(args.institutions) if args.institutions else {}
    except (RuleSetError, KnowledgeError, ValueError) as bad:
        console.print(f"medpay review batch: {bad}")
        return 2
    reference = runtime.reference_dir
    try:
        codes = load_code_tables(reference)
        context = Context(knowledge, codes.diagnoses, codes.procedures)
    except FileNotFoundError:  # no code tables: the code-validity check is left out
        context = Context(knowledge)
    reviewer = Reviewer(ruleset, context)
    scheme = None
    if reviewer.needs_groups:
        wanted = args.scheme or (NATIONAL_SCHEME if NATIONAL_SCHEME in available_schemes(reference)
                                 else "medpay-sample")
        scheme = load_scheme(reference, wanted)
    report = BatchReview(reviewer, scheme, levels=levels).run(args.lists, args.fee_details, args.out, args.records)
    _summary(report, ruleset, args.out, scheme.scheme_id if scheme else "")
    return 0


def _summary(report: BatchReport, ruleset: RuleSet, out: Path, scheme: str) -> None:
    rate = report.lists / report.seconds if report.seconds else 0.0
    grouped = f", {report.grouped:,} grouped with {scheme}" if scheme else ""
    console.print(f"reviewed {report.stays:,} settlement lists ({report.stays_with_details:,} with fee details, "
                  f"{report.detail_lines:,} detail lines{grouped}) with rule set {ruleset.id} {ruleset.version} in "
                  f"{report.seconds:.1f}s ({rate:,.0f} lists/s)")
    total = sum(report.flags.values())
    by_category = ", ".join(f"{c} {n:,}" for c, n in report.flags.most_common())
    console.print(f"wrote {total:,} flags on {report.flagged_stays:,} lists to {out}" +
                  (f": {by_category}" if total else ""))
    if report.lists_without_record:
        console.print(f"{report.lists_without_record:,} HIS-form lists have no settlement record: their sex and age "
                      "are unknown, so the sex and age rules could not judge them")
    if report.problem_count:
        console.print(f"{report.problem_count:,} input problems (lines skipped or unmatched), the first ones:")
        for problem in report.problems[:10]:
            console.print(f"  {problem}")


def run_check_rules(args: argparse.Namespace, runtime: Runtime) -> int:
    try:
        ruleset = read_ruleset(args.file)
    except RuleSetError as bad:
        console.print(f"{args.file}: {len(bad.problems)} problem(s); the rule set cannot be activated:")
        for problem in bad.problems:
            console.print(f"  {problem}")
        return 1
    print(f"{ruleset.id} {ruleset.version}: {len(ruleset.rules)} rules, digest {ruleset.digest[:12]}")
    for rule in ruleset.rules:
        state = "on " if rule.enabled else "off"
        stages = ",".join(sorted(s.value for s in rule.stages))
        print(f"  {state} {rule.id:<12} v{rule.version:<4} {rule.category.value:<22} {rule.severity.value:<7} "
              f"{stages:<20} {rule.name}")
    return 0


def _stub(args: argparse.Namespace, runtime: Runtime) -> Any:
    from medpay.review.v1 import review_service_pb2_grpc as pb_grpc

    from libs.common.grpc.client import caller_auth, open_channel

    # With MEDPAY_AUTH_DIR: the tools' certificate and MEDPAY_AUTH_TOKEN (e.g. `medpay auth token --role province`).
    channel = open_channel(args.address or runtime.settings.evaluation_address, auth=caller_auth(runtime.settings))
    return channel, pb_grpc.ReviewServiceStub(channel)


OPERATOR = (("x-medpay-actor", "medpay-cli"), ("x-medpay-role", "operator"))


def run_load_rules(args: argparse.Namespace, runtime: Runtime) -> int:
    from medpay.review.v1 import review_service_pb2 as pb

    fmt = pb.RULE_SET_FORMAT_JSON if args.file.suffix.lower() == ".json" else pb.RULE_SET_FORMAT_TOML

    async def go() -> int:
        channel, stub = _stub(args, runtime)
        async with channel:
            stored = await stub.CreateRuleSet(pb.CreateRuleSetRequest(rule_set=pb.RuleSet(
                source=args.file.read_bytes(), source_format=fmt)), metadata=OPERATOR)
            print(f"stored {stored.name} ({len(stored.rules)} rules, digest {stored.digest[:12]})")
            if args.activate:
                active = await stub.ActivateRuleSet(pb.ActivateRuleSetRequest(name=stored.name,
                                                                              reason=args.activate), metadata=OPERATOR)
                print(f"active: {active.name}")
        return 0
    return _rpc(go)


def run_import_knowledge(args: argparse.Namespace, runtime: Runtime) -> int:
    from datetime import date

    from google.type import date_pb2
    from medpay.review.v1 import review_service_pb2 as pb

    try:
        day = date.fromisoformat(args.effective)
    except ValueError:
        console.print(f"medpay review import-knowledge: --effective {args.effective!r} is not yyyy-MM-dd")
        return 2

    async def go() -> int:
        channel, stub = _stub(args, runtime)
        async with channel:
            version = await stub.ImportKnowledge(pb.ImportKnowledgeRequest(
                knowledge_version_id=args.version, items_csv=args.file.read_bytes(),
                effective_date=date_pb2.Date(year=day.year, month=day.month, day=day.day)), metadata=OPERATOR)
        print(f"{version.name}: {version.item_count} items, in force from {args.effective}")
        return 0
    return _rpc(go)


def run_review_run(args: argparse.Namespace, runtime: Runtime) -> int:
    from google.longrunning import operations_pb2, operations_pb2_grpc
    from google.protobuf.duration_pb2 import Duration
    from medpay.review.v1 import review_service_pb2 as pb

    from libs.common.dates import Period

    period = Period.parse(args.period, "--period")

    async def go() -> int:
        channel, stub = _stub(args, runtime)
        async with channel:
            operation = await stub.StartReviewRun(pb.StartReviewRunRequest(
                parent=f"regions/{args.region}", settlement_period=period.to_proto(), rule_set=args.rule_set),
                metadata=OPERATOR)
            operations = operations_pb2_grpc.OperationsStub(channel)
            while not operation.done:
                operation = await operations.WaitOperation(operations_pb2.WaitOperationRequest(
                    name=operation.name, timeout=Duration(seconds=30)))
            if operation.HasField("error"):
                console.print(f"medpay review run: {operation.error.message}")
                return 1
            run = pb.ReviewRun()
            operation.response.Unpack(run)
        print(f"{run.name}: {run.list_count:,} lists ({run.lists_with_details:,} with fee details), "
              f"{run.flag_count:,} flags, {run.amount.fen / 100:,.2f} yuan at stake")
        return 0
    return _rpc(go)


def run_deductions(args: argparse.Namespace, runtime: Runtime) -> int:
    import json

    from medpay.review.v1 import review_service_pb2 as pb

    from libs.common.dates import Period
    from libs.common.money import fen_text
    from libs.common.paging import every_page

    period = Period.parse(args.period, "--period")

    async def go() -> int:
        channel, stub = _stub(args, runtime)
        async with channel:
            deductions = [d async for d in every_page(stub.ListDeductions, pb.ListDeductionsRequest(
                parent=f"regions/{args.region}", settlement_period=period.to_proto(), page_size=1000), "deductions",
                metadata=OPERATOR)]
        for d in deductions:
            print(f"{d.fixmedins_code}\t{fen_text(d.amount.fen)}\t{d.flag_count} confirmed flag(s)")
        total = sum(d.amount.fen for d in deductions)
        console.print(f"{len(deductions)} hospital(s), {fen_text(total)} yuan confirmed in {args.region} "
                      f"{args.period}")
        if args.out is not None:
            hospitals = {d.fixmedins_code: {"deductions": fen_text(d.amount.fen)} for d in deductions}
            args.out.write_text(json.dumps({"hospitals": hospitals}, ensure_ascii=False, indent=1) + "\n",
                                encoding="utf-8")
        return 0
    return _rpc(go)


def _rpc(go: Any) -> int:
    import asyncio

    import grpc

    try:
        result: int = asyncio.run(go())
    except grpc.aio.AioRpcError as failed:
        console.print(f"medpay review: {failed.code().name}: {failed.details()}")
        return 1
    return result
