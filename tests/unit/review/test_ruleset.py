"""Rule sets are validated as a whole before activation: every problem is reported, each where it is."""

from __future__ import annotations

import copy
import json
import tomllib
from datetime import date
from typing import Any

import pytest

from services.evaluation.adapters.review.files import DEFAULT_RULESET, read_ruleset, ruleset_document
from services.evaluation.domain.review.library import KINDS
from services.evaluation.domain.review.model import Category, Stage
from services.evaluation.domain.review.ruleset import RuleSetError, parse_ruleset

from .builders import flags, line, reviewer, stay

DOCUMENT = tomllib.loads(DEFAULT_RULESET.read_text(encoding="utf-8"))


def document(**rule_changes: Any) -> dict[str, Any]:
    doc = copy.deepcopy(DOCUMENT)
    doc["rules"][0].update(rule_changes)
    return doc


def problems(doc: Any) -> list[str]:
    with pytest.raises(RuleSetError) as raised:
        parse_ruleset(doc)
    return list(raised.value.problems)


def test_the_default_rule_set_covers_every_category_of_the_contract() -> None:
    ruleset = read_ruleset(DEFAULT_RULESET)
    assert {r.category for r in ruleset.rules} == set(Category)
    assert ruleset.id == "medpay-review" and len(ruleset.digest) == 64
    assert all(r.kind.name in KINDS for r in ruleset.rules)


def test_toml_and_json_of_the_same_rule_set_are_the_same_version() -> None:
    as_json = json.dumps(DOCUMENT).encode()
    assert parse_ruleset(ruleset_document(as_json, ".json")).digest == read_ruleset(DEFAULT_RULESET).digest


@pytest.mark.parametrize(("change", "problem"), [
    ({"kind": "guess"}, "kind 'guess' is not in the rule library"),
    ({"category": "upcoding"}, "reports category split_admission, not upcoding"),
    ({"severity": "fatal"}, "severity 'fatal' is not one of"),
    ({"stages": []}, "stages must be a non-empty list"),
    ({"stages": ["soon"]}, "stage 'soon'"),
    ({"params": {"window_days": -1}}, "parameter window_days must be at least 0"),
    ({"params": {"window_days": 2.5}}, "must be a whole number"),
    ({"params": {"related": ["colour"]}}, "colour not among"),
    ({"params": {"speed": 1}}, "has no parameter 'speed'"),
    ({"effective_from": "2026-13-01"}, "is not a date"),
    ({"effective_from": "2026-02-01", "effective_to": "2026-01-01"}, "effective_to must be after"),
    ({"enabled": "yes"}, "enabled must be true or false"),
    ({"version": ""}, "version is required"),
    ({"surprise": 1}, "unknown key 'surprise'"),
])
def test_each_invalid_rule_is_refused_with_its_reason(change: dict[str, Any], problem: str) -> None:
    found = problems(document(**change))
    assert any(problem in p and p.startswith("rules[0]") for p in found), found


def test_statistical_rules_run_after_only_and_ids_are_unique() -> None:
    doc = copy.deepcopy(DOCUMENT)
    statistical = next(r for r in doc["rules"] if r["kind"] == "over_long_stay")
    statistical["stages"] = ["during", "after"]
    doc["rules"].append(dict(doc["rules"][0]))
    found = problems(doc)
    assert any("runs after only" in p for p in found) and any("id used twice" in p for p in found)
    assert len(found) == 2  # both, at once


def test_parameters_left_out_take_the_kinds_defaults() -> None:
    doc = document(params={"window_days": 10})
    rule = parse_ruleset(doc).rules[0]
    assert rule.params["window_days"] == 10 and rule.params["exempt_principal"] == ()
    assert rule.params["related"] == ("category", "diagnoses", "adrg", "mdc", "chapter")


def test_rules_switched_off_out_of_force_or_of_another_stage_do_not_run() -> None:
    psa = stay(line("1", "PSA", "2026-03-02 09:00:00", pric="55.00"), sex=2)
    assert flags(psa, "restricted_sex")
    doc = copy.deepcopy(DOCUMENT)
    sex_rule = next(r for r in doc["rules"] if r["id"] == "RV-SEX-01")
    sex_rule["enabled"] = False
    assert not _run(doc, psa)
    sex_rule.update(enabled=True, effective_from="2026-04-01")
    assert not _run(doc, psa)
    sex_rule.update(effective_from="2026-01-01", effective_to="2026-03-05")
    assert not _run(doc, psa)  # judged on the discharge date, 5 March: no longer in force
    sex_rule.update(effective_to=None, stages=["after"])
    assert not _run(doc, psa, Stage.BEFORE)
    assert _run(doc, psa, Stage.AFTER)


def _run(doc: dict[str, Any], s: Any, stage: Stage = Stage.AFTER) -> list[str]:
    from dataclasses import replace

    engine = replace(reviewer(stage=stage), ruleset=parse_ruleset(doc))
    return [f.rule_id for f in engine.check_stay(s) if f.rule_id == "RV-SEX-01"]


def test_a_dated_rule_set_judges_stays_of_its_dates_only_and_narrows_its_rules_dates() -> None:
    packaged = read_ruleset(DEFAULT_RULESET)
    assert packaged.effective_from is None and all(r.in_force(date(2019, 5, 1)) for r in packaged.rules)
    psa = stay(line("1", "PSA", "2026-03-02 09:00:00", pric="55.00"), sex=2)  # discharged 5 March 2026
    dated = {**copy.deepcopy(DOCUMENT), "effective_from": "2026-04-01"}
    assert not _run(dated, psa)  # the set is not in force yet: none of its rules judges the stay
    dated.update(effective_from="2026-01-01", effective_to="2026-03-05")
    assert not _run(dated, psa)  # no longer in force (exclusive end)
    dated["effective_to"] = "2026-03-06"
    assert _run(dated, psa)
    sex_rule = next(r for r in dated["rules"] if r["id"] == "RV-SEX-01")
    sex_rule.update(effective_from="2025-06-01", effective_to="2026-12-31")
    rule = parse_ruleset(dated).rule("RV-SEX-01")
    assert rule is not None and (rule.effective_from, rule.effective_to) == (date(2026, 1, 1), date(2026, 3, 6))
    sex_rule.update(effective_from="2027-01-01", effective_to=None)
    assert any("outside the rule set's" in p for p in problems(dated))
