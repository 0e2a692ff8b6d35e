"""One discharge as the generator decided it, before it is written out (list, settlement record, truth)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, NamedTuple

from .catalogue import DrgRecipe, Variant
from .costs import FeeItem
from .payment import Settlement
from .people import Person
from .region import Hospital


class HisStyle(NamedTuple):
    """How one hospital's information system serialises a 4101A list (they differ, as real ones do)."""

    unset: Any              # what an unset property is sent as: None (null) or ""
    datetime_dates: bool    # setl_begn_date / setl_end_date sent as "yyyy-MM-dd 00:00:00"
    alias: bool             # the provincial spellings (nwbbirwt, acp_medins_code, ...)


class RecordEvent(NamedTuple):
    """One message of the core system about a stay: a settlement (2304) or its reversal (2305)."""

    at: datetime
    infno: str
    setl_id: str
    paid: Settlement
    person: Person  # the demographics as this version of the record has them


@dataclass(slots=True)
class Discharge:
    """Mutable while the generator and the fault injectors work on it; then written once."""

    serial: int
    hospital: Hospital
    style: HisStyle
    doctor: str
    person: Person
    insutype: str
    age_years: int
    age_days: int | None
    birth_weight_g: int | None
    recipe: DrgRecipe
    variant: Variant
    diagnoses: list[str]
    procedures: list[str]
    admitted: datetime
    discharged: datetime
    period: tuple[date, date]  # the settlement period, fixed before any fault touches the times
    los_days: int
    discharge_way: str
    receiver: tuple[str, str] | None
    fees: list[FeeItem]
    paid: Settlement
    outlier: str
    icu: bool
    transfusion: bool
    emergency: bool
    behaviours: list[str] = field(default_factory=list)
    faults: list[str] = field(default_factory=list)
    honest_drg: str = ""
    related_setl_id: str = ""  # a split admission's other stay
    split_role: str = ""  # "index" (the first stay) or "readmission" of a split admission
    weight_left_out: bool = False  # a fault: the list omits the birth weight the truth keeps
    setl_id: str = ""  # set once built: the list, the record and the truth all carry it
    mdtrt_id: str = ""
    # The settlement record's story (plain, revised, resettled or cancelled): what the core system sends.
    story: str = ""
    records: list[RecordEvent] = field(default_factory=list)
    listed: bool = True                       # False: a cancelled settlement, no list is ever sent
    sent_at: datetime | None = None           # when the hospital uploads the list
    department: str = ""                      # the treating department (the doctor's), as the list codes it
