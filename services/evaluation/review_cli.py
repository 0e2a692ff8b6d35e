"""`medpay review ...`: the batch review over files, and rule-set checks (no server needed)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from rich.console import Console

from libs.common.runtime import Runtime
from services.grouping.adapters.scheme_files import available_schemes, load_code_tables, load_scheme

from .adapters.review.files import DEFAULT_RULESET, read_knowledge, read_ruleset
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
    batch.add_argument("--scheme", help=f"CHS-DRG scheme for the statistical rules (default {NATIONAL_SCHEME}, or "
                       "the bundled sample pack where the reference material has none)")
    batch.add_argument("--rules", type=Path, help=f"rule set file, TOML or JSON (default {DEFAULT_RULESET.name})")
    batch.add_argument("--reference-dir", type=Path, help="reference directory (default MEDPAY_REFERENCE_DIR)")
    batch.set_defaults(handler=run_batch)
    check = cmds.add_parser("check-rules", help="validate a rule set file and list its rules")
    check.add_argument("file", type=Path, nargs="?", default=DEFAULT_RULESET)
    check.set_defaults(handler=run_check_rules)


def run_batch(args: argparse.Namespace, runtime: Runtime) -> int:
    for name in ("lists", "fee_details", "knowledge", "records", "rules"):
        path = getattr(args, name)
        if path is not None and not path.is_file():
            console.print(f"medpay review batch: --{name.replace('_', '-')} {path} does not exist")
            return 2
    try:
        ruleset = read_ruleset(args.rules or DEFAULT_RULESET)
        knowledge = read_knowledge(args.knowledge)
    except (RuleSetError, KnowledgeError) as bad:
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
    report = BatchReview(reviewer, scheme).run(args.lists, args.fee_details, args.out, args.records)
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
