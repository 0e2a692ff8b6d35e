"""One discharge as the generator decided it, before it is written out as a 4101A request."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from .catalogue import DrgRecipe, Variant
from .costs import FeeItem, Payment
from .people import Person
from .region import Hospital


@dataclass(slots=True)
class Discharge:
    """Mutable while the generator and the fault injectors work on it; then written once."""

    serial: int
    hospital: Hospital
    doctor: str
    person: Person
    age_years: int
    age_days: int | None
    birth_weight_g: int | None
    recipe: DrgRecipe
    variant: Variant
    diagnoses: list[str]
    procedures: list[str]
    admitted: datetime
    discharged: datetime
    settlement: tuple[date, date]  # the settlement period, fixed before any fault touches the times
    los_days: int
    discharge_way: str
    receiver: tuple[str, str] | None
    fees: list[FeeItem]
    payment: Payment
    outlier: str
    icu: bool
    transfusion: bool
    behaviours: list[str] = field(default_factory=list)
    faults: list[str] = field(default_factory=list)
    honest_drg: str = ""
    related_setl_id: str = ""
    alt_dialect: bool = False
    weight_left_out: bool = False  # a fault: the list omits the birth weight the truth keeps
    setl_id: str = ""  # set once built: the request and the truth both carry it

    @property
    def paid_fen(self) -> int:
        """What was paid in all (fund, personal account, cash): the case's total cost before any fault."""
        return self.payment.fund + self.payment.account + self.payment.cash
