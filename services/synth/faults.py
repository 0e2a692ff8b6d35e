"""Data-quality faults, injected into a ``Discharge`` at configured rates and recorded in its truth.

Some faults only make sense for some lists (a pregnancy code on a man, a newborn without weight, a transfer
without receiver): their rate is the share of *eligible* lists that get them, as documented in ``FaultRates``.
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Callable, Sequence
from datetime import timedelta

from .draw import Discharge
from .params import FaultRates


@dataclasses.dataclass(frozen=True)
class FaultContext:
    unknown_codes: Sequence[str]      # well-formed diagnosis codes absent from 医保版 2.0
    pregnancy_codes: Sequence[str]    # O-chapter codes of the tables


def eligible(fault: str, d: Discharge, rich: bool) -> bool:
    """Whether ``d`` can carry ``fault`` at all (fee categories exist only on rich lists)."""
    if fault == "PREGNANCY_CODE_ON_MALE":
        return d.person.sex == 1
    if fault == "NEWBORN_WITHOUT_WEIGHT":
        return d.birth_weight_g is not None
    if fault == "TRANSFER_WITHOUT_RECEIVER":
        return d.discharge_way in ("2", "3")
    if fault == "FEE_SUM_MISMATCH":
        return rich
    return True


def inject(d: Discharge, rates: FaultRates, ctx: FaultContext, rng: random.Random, *, rich: bool) -> None:
    roll = rng.random
    for fault, rate in rates.as_dict().items():
        if roll() < rate and eligible(fault, d, rich):
            _INJECTORS[fault](d, ctx, rng)
            d.faults.append(fault)


def _unknown_code(d: Discharge, ctx: FaultContext, rng: random.Random) -> None:
    d.diagnoses.append(rng.choice(ctx.unknown_codes))


def _malformed_code(d: Discharge, ctx: FaultContext, rng: random.Random) -> None:
    source = d.diagnoses[-1]
    broken = source.replace(".", "", 1)  # I21.000x005 -> I21000x005: no ICD-10 shape
    d.diagnoses.append(broken if broken != source else source + "?")


def _pregnancy_on_male(d: Discharge, ctx: FaultContext, rng: random.Random) -> None:
    d.diagnoses.append(rng.choice(ctx.pregnancy_codes))


def _newborn_without_weight(d: Discharge, ctx: FaultContext, rng: random.Random) -> None:
    d.weight_left_out = True


def _discharge_before_admission(d: Discharge, ctx: FaultContext, rng: random.Random) -> None:
    d.admitted, d.discharged = d.discharged, d.admitted
    if d.admitted.date() == d.discharged.date():
        d.discharged -= timedelta(days=1)


def _fee_sum_mismatch(d: Discharge, ctx: FaultContext, rng: random.Random) -> None:
    i = rng.randrange(len(d.fees))
    extra = rng.randint(100, 50_000)  # 1 to 500 yuan more than was paid
    category, amount, class_a, class_b, self_paid, other = d.fees[i]
    d.fees[i] = (category, amount + extra, class_a + extra, class_b, self_paid, other)


def _transfer_without_receiver(d: Discharge, ctx: FaultContext, rng: random.Random) -> None:
    d.receiver = None


_INJECTORS: dict[str, Callable[[Discharge, FaultContext, random.Random], None]] = {
    "UNKNOWN_CODE": _unknown_code, "MALFORMED_CODE": _malformed_code,
    "PREGNANCY_CODE_ON_MALE": _pregnancy_on_male, "NEWBORN_WITHOUT_WEIGHT": _newborn_without_weight,
    "DISCHARGE_BEFORE_ADMISSION": _discharge_before_admission, "FEE_SUM_MISMATCH": _fee_sum_mismatch,
    "TRANSFER_WITHOUT_RECEIVER": _transfer_without_receiver,
}
