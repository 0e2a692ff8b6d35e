"""MCC/CC with exclusion tables (FORMAT.md, "MCC and CC")."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class SecondaryFinding:
    """How one secondary diagnosis counted: as MCC, CC, or neither, and whether an exclusion table struck it."""

    code: str
    level: str  # "MCC", "CC" or ""
    table: str  # the exclusion table of the secondary diagnosis
    excluded: bool


@dataclass(frozen=True, slots=True)
class SeverityTables:
    """``mcc``/``cc``: diagnosis -> exclusion table; ``exclusion``: principal diagnosis -> its table."""

    mcc: Mapping[str, str]
    cc: Mapping[str, str]
    exclusion: Mapping[str, str]

    def has_mcc(self, dx: tuple[str, ...]) -> bool:
        return _has_level(self.mcc, self.exclusion.get(dx[0]) if dx else None, dx[1:])

    def has_cc(self, dx: tuple[str, ...]) -> bool:
        return _has_level(self.cc, self.exclusion.get(dx[0]) if dx else None, dx[1:])

    def findings(self, dx: tuple[str, ...]) -> tuple[SecondaryFinding, ...]:
        """Per secondary diagnosis, its MCC level if any else its CC level, for explanations."""
        main_table = self.exclusion.get(dx[0]) if dx else None
        out = []
        for code in dx[1:]:
            for level, table in (("MCC", self.mcc), ("CC", self.cc)):
                if code in table:
                    out.append(SecondaryFinding(code, level, table[code], table[code] == main_table))
                    break
            else:
                out.append(SecondaryFinding(code, "", "", False))
        return tuple(out)


def _has_level(table: Mapping[str, str], main_table: str | None, others: tuple[str, ...]) -> bool:
    for code in others:
        own = table.get(code)
        if own is not None and own != main_table:
            return True
    return False
