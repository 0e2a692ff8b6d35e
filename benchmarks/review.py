"""Smart-review benchmark: the batch review's speed on one core, and its quality against a truth file.

    .venv/bin/python -m benchmarks.review [--lists 20000] [--synth DIR]

Without ``--synth`` it runs ``medpay synth`` for ``--lists`` lists into a scratch folder. Where the synthetic
prefecture has no fee details (``fee_details.jsonl``), it falls back to the independent world of the tests
(``tests/unit/review/world.py``) and says so. Speed is lists (with their fee details) reviewed per second of CPU
time of this one process: reading, grouping, every rule, writing. Quality: per category, recall (planted lists
flagged) and precision (flagged lists that were planted; for split admission the planted stay's partner counts, as
CONTRACT allows both stays to be flagged) against ``truth.jsonl``; a list with any of synth's data-quality ``faults``
counts as planted for ``data_quality`` (some faults, like a transfer without its receiver, no review rule sees).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import orjson

from services.evaluation.adapters.review.files import DEFAULT_RULESET, read_knowledge, read_ruleset
from services.evaluation.domain.review.engine import Reviewer
from services.evaluation.domain.review.rules import Context
from services.evaluation.service_layer.review.batch import BatchReview, open_lines
from services.grouping.adapters.scheme_files import load_code_tables, load_scheme

from .support import ROOT, reference_dir, report

# truth.jsonl behaviour names (upper case, as synth writes them) -> CONTRACT categories
BEHAVIOURS = {"SPLIT_ADMISSION": "split_admission", "UPCODED": "upcoding", "UPCODING": "upcoding",
              "LOW_STANDARD_ADMISSION": "low_standard_admission", "OVER_LONG_STAY": "over_long_stay"}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lists", type=int, default=20_000, help="lists to generate (without --synth)")
    parser.add_argument("--synth", type=Path, help="an existing `medpay synth` output folder")
    parser.add_argument("--scheme", default="chs-drg-1.1")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.synth or _generate(Path(tmp), args.lists)
        files = _files(folder)
        if files is None:
            print("the synthetic prefecture has no fee details yet: using the tests' independent world instead")
            files = _world(Path(tmp) / "world", args.lists)
        _measure(files, args.scheme)


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
            "truth": first("truth.jsonl", "truth.jsonl.gz")}


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
    return {**paths, "records": None, "truth": truth}


def _measure(files: dict[str, Path | None], scheme_id: str) -> None:
    ref = reference_dir()
    codes = load_code_tables(ref)
    assert files["knowledge"] is not None and files["lists"] is not None
    knowledge = read_knowledge(files["knowledge"])
    reviewer = Reviewer(read_ruleset(DEFAULT_RULESET), Context(knowledge, codes.diagnoses, codes.procedures))
    scheme = load_scheme(ref, scheme_id)
    out = files["lists"].parent / "flags.jsonl"
    cpu, wall = time.process_time(), time.perf_counter()
    batch = BatchReview(reviewer, scheme).run(files["lists"], files["fee_details"], out, files["records"])
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
            if fact.get("faults"):  # synth's data-quality faults (codes, dates, fees): data_quality's truth
                planted["data_quality"].add(key)
                if category == "split_admission" and fact.get("related_setl_id"):
                    partners.add((key[0], fact["related_setl_id"]))
    flagged: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for f in flags:
        flagged[f["category"]].add((f["fixmedins_code"], f["setl_id"]))
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
    by_clean = Counter(f["category"] for f in flags if (f["fixmedins_code"], f["setl_id"]) in clean)
    any_clean = len({(f["fixmedins_code"], f["setl_id"]) for f in flags} & clean)
    rows.append(("clean lists with any flag", f"{100 * any_clean / max(len(clean), 1):.2f}% of {len(clean):,} "
                                              f"({', '.join(f'{c} {n}' for c, n in by_clean.most_common())})"))
    return [("quality against truth.jsonl", ""), *rows]


if __name__ == "__main__":
    main()
