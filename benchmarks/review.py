"""Smart-review benchmark: the batch review's speed on one core, and its quality against a truth file.

    .venv/bin/python -m benchmarks.review [--lists 20000] [--synth DIR] [--check-stay 2000]

Without ``--synth`` it runs ``medpay synth`` for ``--lists`` lists into a scratch folder. Where the synthetic
prefecture has no fee details (``fee_details.jsonl``), it falls back to the independent world of the tests
(``tests/unit/review/world.py``) and says so. Speed is lists (with their fee details) reviewed per second of CPU
time of this one process: reading, grouping, every rule, writing. Quality: per category, recall (planted lists
flagged) and precision (flagged lists that were planted; for split admission the planted stay's partner counts, as
CONTRACT allows both stays to be flagged) against ``truth.jsonl``; a list with any of synth's data-quality ``faults``
counts as planted for ``data_quality`` (some faults, like a transfer without its receiver, no review rule sees).
``--check-stay N``: N ``CheckStay`` calls (事中审核, stays in progress with 200 fee lines each, made from the
synthetic stays' lines), one at a time, to the evaluation service as one process on a scratch database: the
latency a hospital system waits, p50 and p99.
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import orjson

from services.evaluation.adapters.review.files import DEFAULT_RULESET, read_knowledge, read_levels, read_ruleset
from services.evaluation.domain.review.engine import Reviewer
from services.evaluation.domain.review.rules import Context
from services.evaluation.service_layer.review.batch import BatchReview, open_lines
from services.grouping.adapters.scheme_files import load_code_tables, load_scheme

from .support import ROOT, reference_dir, report

# truth.jsonl behaviour names (upper case, as synth writes them) -> CONTRACT categories
BEHAVIOURS = {"SPLIT_ADMISSION": "split_admission", "UPCODED": "upcoding", "UPCODING": "upcoding",
              "LOW_STANDARD_ADMISSION": "low_standard_admission", "OVER_LONG_STAY": "over_long_stay"}

STATISTICAL = frozenset({"upcoding", "low_standard_admission", "over_long_stay"})


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lists", type=int, default=20_000, help="lists to generate (without --synth)")
    parser.add_argument("--synth", type=Path, help="an existing `medpay synth` output folder")
    parser.add_argument("--scheme", default="chs-drg-1.1")
    parser.add_argument("--check-stay", type=int, default=2000, help="CheckStay calls to time (0: none)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.synth or _generate(Path(tmp), args.lists)
        files = _files(folder)
        if files is None:
            print("the synthetic prefecture has no fee details yet: using the tests' independent world instead")
            files = _world(Path(tmp) / "world", args.lists)
        _measure(files, args.scheme)
        if args.check_stay and files.get("knowledge"):
            _check_stay_latency(files, args.check_stay)


def _generate(tmp: Path, lists: int) -> Path:
    out = tmp / "synth"
    subprocess.run([sys.executable, "-m", "services.cli", "synth", "--cases", str(lists), "--out", str(out)],
                   check=True, cwd=ROOT)
    return out


def _files(folder: Path) -> dict[str, Path | None] | None:
    def first(*names: str) -> Path | None:
        return next((folder / n for n in names if (folder / n).is_file()), None)

    lists = first("settlement_lists.jsonl", "settlement_lists.jsonl.gz")
    details = first("fee_details.jsonl", "fee_details.jsonl.gz")
    knowledge = first("knowledge/items.csv", "items.csv")
    if lists is None or details is None or knowledge is None:
        return None
    return {"lists": lists, "fee_details": details, "knowledge": knowledge,
            "records": first("settlement_records.jsonl", "settlement_records.jsonl.gz"),
            "truth": first("truth.jsonl", "truth.jsonl.gz"), "institutions": first("institutions.jsonl")}


def _world(folder: Path, lists: int) -> dict[str, Path | None]:
    sys.path.insert(0, str(ROOT))
    from tests.unit.review.world import DETERMINISTIC, World

    w = World(seed=7, stays=lists)
    for category in DETERMINISTIC:
        w.plant(category, max(1, lists // 200))
    paths = w.write(folder)
    truth = folder / "truth.jsonl"
    truth.write_bytes(b"".join(orjson.dumps({"fixmedins_code": s.hospital, "setl_id": s.setl_id,
                                             "behaviours": sorted(c.upper() for c in s.planted),
                                             "related_setl_id": s.related}) + b"\n"
                               for s in w.stays))
    return {**paths, "records": None, "truth": truth, "institutions": None}


def _measure(files: dict[str, Path | None], scheme_id: str) -> None:
    ref = reference_dir()
    codes = load_code_tables(ref)
    assert files["knowledge"] is not None and files["lists"] is not None
    knowledge = read_knowledge(files["knowledge"])
    reviewer = Reviewer(read_ruleset(DEFAULT_RULESET), Context(knowledge, codes.diagnoses, codes.procedures))
    scheme = load_scheme(ref, scheme_id)
    out = files["lists"].parent / "flags.jsonl"
    levels = read_levels(files["institutions"]) if files.get("institutions") else None  # peers by hospital level
    cpu, wall = time.process_time(), time.perf_counter()
    batch = BatchReview(reviewer, scheme, levels=levels).run(files["lists"], files["fee_details"], out,
                                                             files["records"])
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    flags = [orjson.loads(line) for line in out.read_bytes().splitlines()]
    rows = [
        ("lists reviewed", f"{batch.stays:,} ({batch.stays_with_details:,} with fee details, "
                           f"{batch.detail_lines / max(batch.stays_with_details, 1):.0f} detail lines each)"),
        ("knowledge library", f"{len(knowledge):,} items"),
        ("speed, one core", f"{batch.stays / cpu:,.0f} lists/s of CPU time ({cpu:.1f} s; wall {wall:.1f} s)"),
        ("flags", f"{len(flags):,} on {batch.flagged_stays:,} lists ("
                  f"{1000 * batch.flagged_stays / max(batch.stays, 1):.0f} per 1,000)"),
    ]
    if files.get("truth"):
        rows += _quality(flags, files["truth"])  # type: ignore[arg-type]
    report(f"smart review, batch ({scheme_id}, rule set {DEFAULT_RULESET.name})", rows)


def _quality(flags: list[dict[str, Any]], truth_path: Path) -> list[tuple[str, str]]:
    planted: dict[str, set[tuple[str, str]]] = defaultdict(set)
    partners: set[tuple[str, str]] = set()
    everything: set[tuple[str, str]] = set()
    with open_lines(truth_path) as handle:
        for raw in handle:
            fact = orjson.loads(raw)
            key = (fact.get("fixmedins_code", ""), fact.get("setl_id", ""))
            everything.add(key)
            for behaviour in fact.get("behaviours") or ():
                category = BEHAVIOURS.get(behaviour, behaviour.lower())
                planted[category].add(key)
                if category == "split_admission" and fact.get("related_setl_id"):
                    partners.add((key[0], fact["related_setl_id"]))
            if fact.get("faults"):  # synth's data-quality faults (codes, dates, fees): data_quality's truth
                planted["data_quality"].add(key)
    flagged: dict[str, set[tuple[str, str]]] = defaultdict(set)
    by_rule: dict[tuple[str, str], set[tuple[str, str]]] = defaultdict(set)
    for f in flags:
        flagged[f["category"]].add((f["fixmedins_code"], f["setl_id"]))
        by_rule[(f["category"], f["rule_id"])].add((f["fixmedins_code"], f["setl_id"]))
    dirty = set().union(*planted.values()) | partners if planted else set()
    clean = everything - dirty
    rows = []
    for category in sorted(set(planted) | set(flagged)):
        truth, found = planted.get(category, set()), flagged.get(category, set())
        right = found & (truth | partners) if category == "split_admission" else found & truth
        recall = f"recall {len(found & truth) / len(truth):.3f} of {len(truth):,}" if truth else "no truth"
        precision = f"precision {len(right) / len(found):.3f} of {len(found):,}" if found else "no flags"
        on_clean = len(found & clean) / max(len(clean), 1)
        rows.append((f"  {category}", f"{recall}, {precision}, {100 * on_clean:.2f}% of clean lists flagged"))
        if category in STATISTICAL and truth:  # each statistical rule on its own (several find one category)
            for (of, rule), mine in sorted(by_rule.items()):
                if of == category:
                    rows.append((f"    {rule}", f"recall {len(mine & truth) / len(truth):.3f}, precision "
                                               f"{len(mine & truth) / len(mine):.3f} of {len(mine):,}"))
    by_clean = Counter(f["category"] for f in flags if (f["fixmedins_code"], f["setl_id"]) in clean)
    any_clean = len({(f["fixmedins_code"], f["setl_id"]) for f in flags} & clean)
    rows.append(("clean lists with any flag", f"{100 * any_clean / max(len(clean), 1):.2f}% of {len(clean):,} "
                                              f"({', '.join(f'{c} {n}' for c, n in by_clean.most_common())})"))
    return [("quality against truth.jsonl", ""), *rows]


def _check_stay_latency(files: dict[str, Path | None], calls: int) -> None:
    from libs.common.db.migrate import upgrade_all

    from .support import scratch_database, service_process

    assert files["knowledge"] is not None and files["fee_details"] is not None and files["lists"] is not None
    stays = _stays_of_200(files["lists"], files["fee_details"], 50)
    with scratch_database() as url:
        upgrade_all(url)
        env = {"MEDPAY_DATABASE_URL": url, "MEDPAY_REFERENCE_DIR": str(reference_dir())}
        with service_process("evaluation", env) as address:
            server = _child_cpu()
            times = asyncio.run(_time_checks(address, files["knowledge"].read_bytes(), stays, calls))
            server = _child_cpu() - server if server is not None else None
    times.sort()
    cpu = [("server CPU", f"{1000 * server / calls:.2f} ms a call (the evaluation process, setup RPCs included): "
                          "comparable across loads, unlike latency")] if server is not None else []
    report("smart review, CheckStay (one evaluation process, one call at a time)", [
        ("stays", f"{len(stays)} stays in progress, 200 fee lines each, {calls:,} calls"),
        ("latency", f"p50 {1000 * times[len(times) // 2]:.1f} ms, p99 {1000 * times[int(len(times) * 0.99)]:.1f} ms, "
                    f"max {1000 * times[-1]:.1f} ms"),
        *cpu,
    ])


def _child_cpu() -> float | None:
    """CPU seconds (user + system) of this process's newest child, the service (Linux /proc; None elsewhere)."""
    import os

    try:
        me = os.getpid()
        child = Path(f"/proc/{me}/task/{me}/children").read_text().split()[-1]
        fields = Path(f"/proc/{child}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return None


def _stays_of_200(lists: Path, details: Path, count: int) -> list[Any]:
    """Stays in progress of 200 lines: a synthetic stay's list (diagnoses, person) with its lines, repeated day
    after day with new serial numbers until there are 200."""
    from datetime import datetime, timedelta

    from google.protobuf.timestamp_pb2 import Timestamp
    from google.type import date_pb2
    from medpay.common.v1 import common_pb2
    from medpay.review.v1 import review_service_pb2 as pb

    from libs.national.fees import fee_instant

    def ts(local: str) -> Timestamp:
        t = Timestamp()
        t.FromDatetime(fee_instant(local))
        return t

    fees: dict[tuple[str, str], list[dict[str, str]]] = {}
    with open_lines(details) as handle:
        for n, raw in enumerate(handle):
            request = orjson.loads(raw)
            lines = request["input"]["feedetail"]
            fees[(request["fixmedins_code"], lines[0]["mdtrt_id"])] = lines
            if n > 4 * count:
                break
    out = []
    with open_lines(lists) as handle:
        for raw in handle:
            request = orjson.loads(raw)
            s = request["input"]["setlinfo"]
            lines = fees.get((request["fixmedins_code"], s["mdtrt_id"]))
            if not lines:
                continue
            made: list[Any] = []
            shift = 0
            while len(made) < 200:
                for line in lines[: 200 - len(made)]:
                    at = datetime.strptime(line["fee_ocur_time"], "%Y-%m-%d %H:%M:%S") + timedelta(days=shift)
                    made.append(pb.FeeLine(
                        feedetl_sn=f"{shift}-{line['feedetl_sn']}", med_list_codg=line["med_list_codg"],
                        med_chrgitm_type=line["med_chrgitm_type"], fee_time=ts(at.isoformat(" ")), cnt=line["cnt"],
                        pric=line["pric"], amount=common_pb2.Money(fen=_fen(line["det_item_fee_sumamt"]))))
                shift += 1
            diagnoses = [d["diag_code"] for d in sorted(request["input"]["diseinfo"],
                                                        key=lambda d: d["maindiag_flag"] != "1")]
            out.append(pb.CheckStayRequest(stage=pb.STAGE_DURING, stay=pb.Stay(
                fixmedins_code=request["fixmedins_code"], mdtrt_id=s["mdtrt_id"], psn_no=lines[0]["psn_no"],
                sex=pb.SEX_MALE if int(s["mdtrt_id"][-1]) % 2 else pb.SEX_FEMALE,
                birth_date=date_pb2.Date(year=1960, month=5, day=1), admission_time=ts(s["adm_time"]),
                diagnosis_codes=diagnoses, fee_lines=made)))
            if len(out) == count:
                break
    return out


def _fen(text: str) -> int:
    whole, _, cents = text.partition(".")
    return int(whole) * 100 + int(cents.ljust(2, "0")[:2])


async def _time_checks(address: str, items_csv: bytes, stays: list[Any], calls: int) -> list[float]:
    from google.type import date_pb2
    from medpay.review.v1 import review_service_pb2 as pb
    from medpay.review.v1 import review_service_pb2_grpc as pb_grpc

    from libs.common.grpc.client import open_channel

    operator = (("x-medpay-actor", "benchmark"), ("x-medpay-role", "operator"))
    async with open_channel(address) as channel:
        review = pb_grpc.ReviewServiceStub(channel)
        await review.ImportKnowledge(pb.ImportKnowledgeRequest(
            knowledge_version_id="benchmark", effective_date=date_pb2.Date(year=2000, month=1, day=1),
            items_csv=items_csv), metadata=operator)
        created = await review.CreateRuleSet(pb.CreateRuleSetRequest(rule_set=pb.RuleSet(
            source=DEFAULT_RULESET.read_bytes(), source_format=pb.RULE_SET_FORMAT_TOML)), metadata=operator)
        await review.ActivateRuleSet(pb.ActivateRuleSetRequest(name=created.name, reason="benchmark"),
                                     metadata=operator)
        for stay in stays[:20]:  # warm up: rule set and knowledge cached, connections open
            await review.CheckStay(stay)
        times = []
        for n in range(calls):
            started = time.perf_counter()
            await review.CheckStay(stays[n % len(stays)])
            times.append(time.perf_counter() - started)
    return times


if __name__ == "__main__":
    main()
