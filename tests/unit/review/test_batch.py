"""The batch review end to end over files, on violations planted independently of ``medpay synth``.

Quality bar (issue #10): each deterministic category found with recall >= 0.95, and fewer than 1% of clean lists
flagged with it; HIS-form lists joined with their settlement records give the same flags as rich lists.
"""

from __future__ import annotations

import functools
import gzip
from collections import defaultdict
from pathlib import Path
from typing import Any

import orjson
import pytest

from services.evaluation.adapters.review.files import DEFAULT_RULESET, read_knowledge, read_ruleset
from services.evaluation.domain.review.engine import Reviewer
from services.evaluation.domain.review.rules import Context
from services.evaluation.service_layer.review.batch import BatchReport, BatchReview
from services.grouping.adapters.scheme_files import load_scheme
from services.grouping.domain.scheme import Scheme

from ...support import reference_dir
from .world import DETERMINISTIC, World

CONTRACT_KEYS = ["fixmedins_code", "setl_id", "rule_id", "rule_version", "category", "severity", "amount", "evidence"]
PLANTED = 60


@functools.cache
def scheme() -> Scheme:
    scheme_id = "chs-drg-1.1" if (reference_dir() / "grouping" / "chs-drg-1.1").is_dir() else "medpay-sample"
    return load_scheme(reference_dir(), scheme_id)


def run(paths: dict[str, Path], out: Path, *, records: bool = False) -> tuple[list[dict[str, Any]], BatchReport]:
    reviewer = Reviewer(read_ruleset(DEFAULT_RULESET), Context(read_knowledge(paths["knowledge"])))
    report = BatchReview(reviewer, scheme()).run(
        paths["lists"], paths["fee_details"], out, paths["records"] if records else None)
    return [orjson.loads(line) for line in out.read_bytes().splitlines()], report


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> tuple[World, Path]:
    w = World(seed=11, stays=2500)
    for category in DETERMINISTIC:
        w.plant(category, PLANTED)
    return w, tmp_path_factory.mktemp("world")


@pytest.fixture(scope="module")
def rich(world: tuple[World, Path]) -> list[dict[str, Any]]:
    w, folder = world
    flags, report = run(w.write(folder / "rich"), folder / "rich-flags.jsonl")
    assert report.stays == len(w.stays) and report.stays_with_details == len(w.stays)
    assert report.problem_count == 0, report.problems
    return flags


def test_each_deterministic_category_is_found_and_clean_lists_are_left_alone(
        world: tuple[World, Path], rich: list[dict[str, Any]]) -> None:
    w, _ = world
    by_list: dict[tuple[str, str], set[str]] = defaultdict(set)
    for flag in rich:
        by_list[(flag["fixmedins_code"], flag["setl_id"])].add(flag["category"])
    clean = list(w.clean())
    assert len(clean) > 2000
    for category in DETERMINISTIC:
        planted = [s for s in w.stays if category in s.planted]
        found = sum(1 for s in planted if category in by_list[(s.hospital, s.setl_id)])
        false = sum(1 for s in clean if category in by_list[(s.hospital, s.setl_id)])
        assert found / len(planted) >= 0.95, f"{category}: recall {found}/{len(planted)}"
        assert false / len(clean) < 0.01, f"{category}: {false} of {len(clean)} clean lists flagged"
    item_level = set(DETERMINISTIC) | {"data_quality"}
    noisy = [s.setl_id for s in clean if by_list[(s.hospital, s.setl_id)] & item_level]
    assert noisy == []  # clean charges, however repeated, never look like an item-level violation


def test_flags_are_contract_lines(rich: list[dict[str, Any]]) -> None:
    for flag in rich:
        assert list(flag) == CONTRACT_KEYS
        assert flag["severity"] in ("error", "warning", "info")
        whole, _, cents = flag["amount"].partition(".")
        assert whole.isdigit() and len(cents) == 2 and flag["evidence"]


def test_his_form_lists_joined_with_their_records_give_the_same_flags(
        world: tuple[World, Path], rich: list[dict[str, Any]]) -> None:
    w, folder = world
    flags, report = run(w.write(folder / "his", his_form=True), folder / "his-flags.jsonl", records=True)
    assert report.records == len(w.stays) and report.lists_without_record == 0
    key = lambda f: orjson.dumps(f, option=orjson.OPT_SORT_KEYS)  # noqa: E731
    assert sorted(map(key, flags)) == sorted(map(key, rich))


def _one_stay_world(tmp: Path) -> tuple[World, dict[str, Path]]:
    w = World(seed=3, stays=40)
    return w, w.write(tmp)


def test_details_in_several_requests_are_reviewed_together_and_2302_revokes(tmp_path: Path) -> None:
    w, paths = _one_stay_world(tmp_path)
    target = w.stays[5]
    copy = dict(target.lines[3], feedetl_sn="9001")
    first_half = {**target.fee_request(), "input": {"feedetail": target.lines[:10]}}
    second_half = {**target.fee_request(), "input": {"feedetail": [*target.lines[10:], copy]}}
    others = [s.fee_request() for s in w.stays if s is not target]
    dump = lambda objs: b"".join(orjson.dumps(o) + b"\n" for o in objs)  # noqa: E731
    paths["fee_details"].write_bytes(dump([first_half, *others, second_half]))
    flags, _ = run(paths, tmp_path / "flags.jsonl")
    assert [f["setl_id"] for f in flags if f["category"] == "duplicate_charge"] == [target.setl_id]

    revoke_copy = {"infno": "2302", "fixmedins_code": target.hospital,
                   "input": {"data": {"mdtrt_id": target.mdtrt_id, "feedetl_sn": "9001", "psn_no": ""}}}
    paths["fee_details"].write_bytes(dump([first_half, *others, second_half, revoke_copy]))
    flags, _ = run(paths, tmp_path / "flags.jsonl")
    assert not [f for f in flags if f["category"] == "duplicate_charge"]

    revoke_all = {"infno": "2302", "fixmedins_code": target.hospital, "input": {"data": {"mdtrt_id": target.mdtrt_id}}}
    paths["fee_details"].write_bytes(dump([first_half, second_half, revoke_all, *others, first_half]))
    flags, _ = run(paths, tmp_path / "flags.jsonl")
    dq = [f for f in flags if f["setl_id"] == target.setl_id and f["rule_id"] == "RV-DQ-02"]
    assert dq and "details total" in dq[0]["evidence"]  # only the first half counts after the revocation


def test_bad_input_is_reported_line_by_line_never_a_crash(tmp_path: Path) -> None:
    w, paths = _one_stay_world(tmp_path)
    broken = w.stays[2].fee_request()
    broken["input"]["feedetail"][0] = {**broken["input"]["feedetail"][0], "cnt": "two"}
    broken["input"]["feedetail"][1] = {**broken["input"]["feedetail"][1], "pric": {"oops": 1}}
    orphan = {**w.stays[3].fee_request(), "fixmedins_code": "H99999999999"}
    details = [s.fee_request() for s in w.stays if s not in (w.stays[2], w.stays[3])]
    paths["fee_details"].write_bytes(b"".join(orjson.dumps(o) + b"\n" for o in (*details, broken, orphan))
                                     + b"{not json\n\n[1, 2]\n")
    lists = paths["lists"].read_bytes() + b'{"infno": "4101A", "input": {"setlinfo": {}}}\n'
    with gzip.open(tmp_path / "lists.jsonl.gz", "wb") as handle:
        handle.write(lists)
    paths["lists"] = tmp_path / "lists.jsonl.gz"
    flags, report = run(paths, tmp_path / "flags.jsonl")
    assert report.stays == len(w.stays) and report.details_without_list == 1
    assert report.problem_count == 4  # bad JSON, a non-object, a list without ids, the orphan details
    assert any("no settlement list" in p for p in report.problems)
    [dq] = [f for f in flags if f["setl_id"] == w.stays[2].setl_id and f["rule_id"] == "RV-DQ-01"]
    assert "2 fee line(s) unreadable" in dq["evidence"] and "cnt 'two'" in dq["evidence"]
