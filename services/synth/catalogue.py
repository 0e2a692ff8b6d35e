"""Case recipes per DRG, drawn from the scheme's own rule lists and calibrated with the grouping engine.

For every DRG of the scheme the generator needs principal diagnoses, procedures and patient profiles that
really land in it. Candidates come from the DRG's ADRG rule (its principal-diagnosis and procedure lists, else
its MDC's entry lists); each candidate is grouped once, with the input checks, and kept only when it reaches the
DRG. DRGs no candidate reaches (a few rules need combinations the sampler does not build) are left out of the
case mix and counted. Per generated case the generator then only draws from these verified variants.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from libs.common.icd10 import sex_conflict

from ..grouping.domain.case import Case, GroupStatus
from ..grouping.domain.checks import CodeTables
from ..grouping.domain.engine import group_case
from ..grouping.domain.scheme import AdrgStep, Scheme
from .mix import COMORBIDITIES, Comorbidity


@dataclass(frozen=True, slots=True)
class Profile:
    """A band of patients: ages in years (or days under one year), and newborn birth weights."""

    name: str
    years: tuple[int, int]
    days: tuple[int, int] | None = None
    weight_g: tuple[int, int] | None = None


PROFILES = (
    Profile("adult", (18, 64)), Profile("elderly", (65, 90)), Profile("child", (1, 16)),
    Profile("infant", (0, 0), days=(29, 364)),
    # Birth-weight bands split where the packs split (1,500 g, 2,000 g, 2,500 g).
    Profile("newborn-vlbw", (0, 0), days=(0, 28), weight_g=(700, 1499)),
    Profile("newborn-lbw", (0, 0), days=(0, 28), weight_g=(1500, 1999)),
    Profile("newborn-mlbw", (0, 0), days=(0, 28), weight_g=(2000, 2499)),
    Profile("newborn", (0, 0), days=(0, 28), weight_g=(2500, 4200)),
)
# Who is calibrated into a DRG: newborn bands only for the newborn MDC (P), adults mostly elsewhere.
PROFILE_WEIGHTS = (0.5, 0.35, 0.12, 0.03, 0.0, 0.0, 0.0, 0.0)
NEWBORN_WEIGHTS = (0.0, 0.0, 0.0, 0.1, 0.15, 0.2, 0.2, 0.35)


@dataclass(frozen=True, slots=True)
class Variant:
    """A verified way into a DRG: principal diagnosis, procedures, patient band, and the secondary diagnoses
    the rule itself needs (e.g. a second trauma site, a code of an ``any_dx_in`` list)."""

    dx0: str
    px: tuple[str, ...]
    profile: Profile
    sex: int
    required: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class DrgRecipe:
    drg: str
    name: str
    adrg: str
    mdc: str
    severity: str  # last character of the DRG code: 1 MCC, 3 CC, 5 none, 9 no split
    surgical: bool
    variants: tuple[Variant, ...]


@dataclass(frozen=True)
class Catalogue:
    """Recipes by ADRG (in scheme order) and the secondary-diagnosis pools they draw from."""

    recipes: Mapping[str, tuple[DrgRecipe, ...]]
    mcc_pool: tuple[str, ...]
    cc_pool: tuple[str, ...]
    neutral_pool: tuple[str, ...]
    skipped_drgs: tuple[str, ...]
    scheme: Scheme
    comorbidities: tuple[tuple[Comorbidity, str], ...] = ()
    """The chronic conditions patients carry as secondary diagnoses, each with the code used for it: one the
    scheme leaves neutral (no CC or MCC, in no rule's list), so they never move a case out of its DRG."""

    def secondary_with(self, level: str, dx0: str, rng: random.Random) -> str:
        """An MCC or CC diagnosis that counts for this principal (not in its exclusion table)."""
        pool, table = (self.mcc_pool, self.scheme.severity.mcc) if level == "MCC" else (
            self.cc_pool, self.scheme.severity.cc)
        main = self.scheme.severity.exclusion.get(dx0)
        for _ in range(50):
            code = rng.choice(pool)
            if table[code] != main:
                return code
        raise LookupError(f"no {level} counts against principal {dx0}")


def build_catalogue(scheme: Scheme, document: Mapping[str, Any], codes: CodeTables, *, seed: int,
                    attempts: int = 48, keep: int = 8) -> Catalogue:
    rng = random.Random(f"catalogue:{seed}")
    referenced = _codes_in(document, ("any_dx_in", "secondary_dx_in", "sites"))
    mcc, cc = scheme.severity.mcc, scheme.severity.cc
    usable = sorted(c for c in codes.diagnoses if c not in referenced and _ordinary(c))
    mcc_pool = tuple(c for c in usable if c in mcc)
    cc_pool = tuple(c for c in usable if c in cc and c not in mcc)
    neutral = tuple(c for c in usable if c not in mcc and c not in cc)
    base = Catalogue({}, mcc_pool, cc_pool, neutral, (), scheme)
    comorbidities = tuple((c, code) for c in COMORBIDITIES
                          for code in [next((x for x in c.codes if x in codes.diagnoses and x not in referenced
                                             and x not in mcc and x not in cc), None)] if code is not None)
    ors = sorted(scheme.or_procedures)
    generic_dx = rng.sample(neutral, min(300, len(neutral)))
    recipes: dict[str, tuple[DrgRecipe, ...]] = {}
    skipped = []
    for mdc_doc, mdc in zip(document["mdcs"], scheme.mdcs.items, strict=True):
        entry_dx = sorted(_codes_in(mdc_doc["entry"], ("principal_dx_in",)))
        for step in mdc.steps.items:
            if not isinstance(step, AdrgStep) or step.step_id in recipes:
                continue
            rule = document["adrgs"][step.step_id]["rule"]
            dx_pool = _filter(sorted(_codes_in(rule, ("principal_dx_in",))) or entry_dx or generic_dx, codes.diagnoses)
            px_pool = _procedure_pool(rule, ors, codes.procedures)
            extra = _required_pools(rule, mdc_doc["entry"], codes.diagnoses)
            built = []
            for drg in step.drgs:
                variants = _calibrate(base, drg.code, (dx_pool, px_pool, extra), codes, rng, attempts=attempts,
                                      keep=keep, weights=NEWBORN_WEIGHTS if mdc.code == "P" else PROFILE_WEIGHTS)
                if variants:
                    built.append(DrgRecipe(drg.code, drg.name, step.adrg, mdc.code, drg.code[-1], bool(px_pool),
                                           tuple(variants)))
                else:
                    skipped.append(drg.code)
            if built:
                recipes[step.step_id] = tuple(built)
    return Catalogue(recipes, mcc_pool, cc_pool, neutral, tuple(skipped), scheme, comorbidities)


Pools = tuple[Sequence[str], Sequence[str], Sequence[Sequence[str]]]


def _calibrate(cat: Catalogue, drg: str, pools: Pools, codes: CodeTables, rng: random.Random, *, attempts: int,
               keep: int, weights: Sequence[float]) -> list[Variant]:
    dx_pool, px_pool, extra = pools
    if not dx_pool:
        return []
    found: list[Variant] = []
    for _ in range(attempts):
        profile = rng.choices(PROFILES, weights)[0]
        sex = rng.choice((1, 2))
        dx0 = rng.choice(dx_pool)
        if sex_conflict(dx0, sex):
            sex = 3 - sex
        px = tuple(rng.sample(px_pool, min(len(px_pool), rng.choice((1, 1, 2))))) if px_pool else ()
        required = tuple(rng.choice(pool) for pool in extra if rng.random() < 0.8)
        variant = Variant(dx0, px, profile, sex, tuple(c for c in dict.fromkeys(required) if c != dx0))
        try:
            case = canonical_case(cat, variant, drg[-1], rng)
        except LookupError:
            continue
        result = group_case(cat.scheme, case, codes=codes)
        if result.status is GroupStatus.GROUPED and result.drg == drg and variant not in found:
            found.append(variant)
            if len(found) >= keep:
                break
    return found


def canonical_case(cat: Catalogue, v: Variant, severity: str, rng: random.Random) -> Case:
    secondaries: tuple[str, ...] = ()
    if severity == "1":
        secondaries = (cat.secondary_with("MCC", v.dx0, rng),)
    elif severity == "3":
        secondaries = (cat.secondary_with("CC", v.dx0, rng),)
    p = v.profile
    return Case(dx=(v.dx0, *v.required, *secondaries), px=v.px, sex=v.sex, age_years=p.years[0],
                age_days=p.days[0] if p.days else None, birth_weight_g=p.weight_g[0] if p.weight_g else None,
                los_days=5, discharge_type="1")


def _required_pools(rule: Any, entry: Any, known: frozenset[str]) -> list[list[str]]:
    """Lists a rule needs some diagnosis from besides the principal: any/secondary lists, trauma sites."""
    pools = []
    for node in (rule, entry):
        for kind in ("any_dx_in", "secondary_dx_in"):
            for codes in _lists_of(node, kind):
                usable = _filter(sorted(codes), known)
                if usable:
                    pools.append(usable)
        for sites in _lists_of(node, "trauma_sites_min"):
            for site_codes in list(sites["sites"].values())[:3]:
                pools.append(_filter(sorted(site_codes), known))
    return [p for p in pools if p]


def _lists_of(node: Any, kind: str) -> list[Any]:
    if isinstance(node, dict):
        found = [node[kind]] if kind in node else []
        return found + [x for v in node.values() for x in _lists_of(v, kind)]
    if isinstance(node, list):
        return [x for item in node for x in _lists_of(item, kind)]
    return []


def _procedure_pool(rule: Any, ors: Sequence[str], known: frozenset[str]) -> list[str]:
    for kinds in (("principal_proc_in",), ("with_proc_tags",), ("any_proc_in",)):
        found = _codes_in(rule, kinds)
        if found:
            return _filter(sorted(found), known)
    if _codes_in(rule, ("principal_proc_is_or", "any_proc_is_or", "has_proc"), flags=True):
        return _filter(ors, known)[:400]
    return []


def _codes_in(node: Any, kinds: tuple[str, ...], flags: bool = False) -> set[str]:
    """Codes listed under the given predicate kinds inside ``node`` (or, with ``flags``, the kinds present).

    Negated parts are skipped: a list under ``not`` says what a case must *not* have.
    """
    out: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "not":
                continue
            if key in kinds:
                if flags:
                    out.add(key)
                else:
                    out |= set(_flatten(value))
            else:
                out |= _codes_in(value, kinds, flags)
    elif isinstance(node, list):
        for item in node:
            out |= _codes_in(item, kinds, flags)
    return out


def _flatten(value: Any) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, list):
        for v in value:
            yield from _flatten(v)
    elif isinstance(value, dict):
        for v in value.values():
            yield from _flatten(v)


def _filter(codes: Sequence[str], known: frozenset[str]) -> list[str]:
    return [c for c in codes if c in known]


def _ordinary(code: str) -> bool:
    """Secondary diagnoses any adult may carry: no pregnancy, perinatal, sex-specific or external-cause codes."""
    first = code[:1]
    return first not in "OPVWXYZ" and not sex_conflict(code, 1) and not sex_conflict(code, 2) and "+" not in code
