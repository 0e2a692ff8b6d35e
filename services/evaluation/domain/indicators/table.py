"""The cases of an evaluation as columns: integer codes in numpy arrays, each distinct label kept once.

A million cases are a million rows; the indicators are sums and counts over them. Holding each field as one
array lets numpy do the per-case work in C, while every figure stays exact: codes, days, fen and deaths are
integers, and nothing here is ever a float.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

Ints = npt.NDArray[np.int64]
Flags = npt.NDArray[np.bool_]


class CaseValueError(ValueError):
    """A case whose value breaks INDICATORS.md's input rules; ``row`` is its index in the chunk being added."""

    def __init__(self, row: int, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.row = row
        self.field = field
        self.problem = problem


@dataclass(frozen=True, eq=False)
class CaseTable:
    """Discharged cases, one row each. ``*_labels[code]`` is the text of a code in the matching column.

    Days are proleptic Gregorian ordinals (``date.toordinal()``), money is integer fen, ``died`` is
    ``dscg_way == "5"``.
    """

    hospital_labels: tuple[str, ...]
    hospital: Ints
    dept_labels: tuple[str, ...]
    dept: Ints
    doctor_labels: tuple[str, ...]
    doctor: Ints
    group_labels: tuple[str, ...]
    group: Ints
    person: Ints
    adm_day: Ints
    dscg_day: Ints
    los: Ints
    cost_fen: Ints
    died: Flags

    def __len__(self) -> int:
        return int(self.group.shape[0])

    def subset(self, rows: Flags) -> CaseTable:
        """The cases where ``rows`` is true, with the same labels (a label may then have no case)."""
        return CaseTable(
            hospital_labels=self.hospital_labels, hospital=self.hospital[rows], dept_labels=self.dept_labels,
            dept=self.dept[rows], doctor_labels=self.doctor_labels, doctor=self.doctor[rows],
            group_labels=self.group_labels, group=self.group[rows], person=self.person[rows],
            adm_day=self.adm_day[rows], dscg_day=self.dscg_day[rows], los=self.los[rows],
            cost_fen=self.cost_fen[rows], died=self.died[rows])


class Labels:
    """Gives each distinct text a code, in order of first appearance."""

    def __init__(self) -> None:
        self.index: dict[str, int] = {}

    def fresh(self, values: Sequence[str]) -> list[str]:
        """The texts of ``values`` not coded yet, in order of first appearance (each once)."""
        index = self.index
        return [value for value in dict.fromkeys(values) if value not in index]

    def encode(self, values: Sequence[str], fresh: Sequence[str]) -> Ints:
        """Codes of ``values``, after coding ``fresh`` (what ``fresh(values)`` returned)."""
        index = self.index
        index.update(zip(fresh, range(len(index), len(index) + len(fresh)), strict=True))
        return np.fromiter(map(index.__getitem__, values), dtype=np.int64, count=len(values))

    def labels(self) -> tuple[str, ...]:
        return tuple(self.index)


@dataclass
class _Chunks:
    parts: list[Ints]

    def joined(self) -> Ints:
        return np.concatenate(self.parts) if self.parts else np.zeros(0, dtype=np.int64)


class CaseTableBuilder:
    """Collects cases chunk by chunk (a chunk is one list per field, all of one length) into a ``CaseTable``."""

    def __init__(self) -> None:
        self._hospitals, self._depts, self._doctors = Labels(), Labels(), Labels()
        self._groups, self._people = Labels(), Labels()
        names = ("hospital", "dept", "doctor", "group", "person", "adm_day", "dscg_day", "los", "cost_fen", "died")
        self._columns: dict[str, _Chunks] = {name: _Chunks([]) for name in names}

    def add(self, *, hospital: Sequence[str], dept: Sequence[str], doctor: Sequence[str], group: Sequence[str],
            person: Sequence[str], adm_day: Sequence[int], dscg_day: Sequence[int], los: Sequence[int],
            cost_fen: Sequence[int], died: Sequence[bool]) -> None:
        """Adds a chunk after checking its values; on a bad value nothing of the chunk is kept."""
        size = len(group)
        texts = {"hospital": hospital, "dept": dept, "doctor": doctor, "group": group, "psn_no": person}
        lengths = {len(column) for column in (*texts.values(), adm_day, dscg_day, los, cost_fen, died)}
        if lengths != {size}:
            raise ValueError("every column of a chunk must have the same length")
        labels = {"hospital": self._hospitals, "dept": self._depts, "doctor": self._doctors, "group": self._groups,
                  "psn_no": self._people}
        fresh = {field: labels[field].fresh(column) for field, column in texts.items()}
        for field, new in fresh.items():
            _check_codes(field, new, texts[field], printed=field != "psn_no")
        numbers = {name: np.array(values, dtype=np.int64)
                   for name, values in (("adm_day", adm_day), ("dscg_day", dscg_day), ("los", los),
                                        ("cost_fen", cost_fen))}
        _check_at_least_zero("los", numbers["los"], "must be >= 0")
        _check_at_least_zero("total_cost", numbers["cost_fen"], "must not be negative")
        early = np.flatnonzero(numbers["dscg_day"] < numbers["adm_day"])
        if early.size:
            raise CaseValueError(int(early[0]), "dscg_date", "discharge date is before the admission date")
        encoded = {"person" if field == "psn_no" else field: labels[field].encode(texts[field], fresh[field])
                   for field in texts}
        encoded.update(numbers)
        encoded["died"] = np.array(died, dtype=np.int64)
        for name, values in encoded.items():
            self._columns[name].parts.append(values)

    def build(self) -> CaseTable:
        c = {name: chunks.joined() for name, chunks in self._columns.items()}
        return CaseTable(
            hospital_labels=self._hospitals.labels(), hospital=c["hospital"],
            dept_labels=self._depts.labels(), dept=c["dept"],
            doctor_labels=self._doctors.labels(), doctor=c["doctor"],
            group_labels=self._groups.labels(), group=c["group"],
            person=c["person"], adm_day=c["adm_day"], dscg_day=c["dscg_day"], los=c["los"],
            cost_fen=c["cost_fen"], died=c["died"].astype(np.bool_))


_FORBIDDEN = frozenset(',"\r\n\t')


def _check_codes(field: str, fresh: Sequence[str], column: Sequence[str], printed: bool) -> None:
    """Codes are non-empty; those printed in a unit column fit a CSV cell unquoted (no comma, quote, tab or line
    break). Only texts not seen before are looked at: a code is checked once, not once per case."""
    bad = [value for value in fresh if not value or (printed and not _FORBIDDEN.isdisjoint(value))]
    if bad:
        row = list(column).index(bad[0])
        raise CaseValueError(row, field, "must not be empty" if not bad[0]
                             else f"{bad[0]!r} contains a comma, quote, tab or line break")


def _check_at_least_zero(field: str, values: Ints, problem: str) -> None:
    negative = np.flatnonzero(values < 0)
    if negative.size:
        raise CaseValueError(int(negative[0]), field, problem)
