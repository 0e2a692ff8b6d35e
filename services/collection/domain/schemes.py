"""Which grouping scheme applies to a region and settlement period (a prefecture switches on a date).

A region switches from CHS-DRG to DIP by an entry naming its DIP scheme, ``dip-<region>-<year>`` (the grouping
service's catalogue of that region): ``"330700:2026-07-01:dip-330700-2026"``. A DIP catalogue is built from one
region's own cases, so an entry may name only its own region's, and the ``*`` entry none.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date


class ScheduleError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class SchemeSchedule:
    """Entries (region or "*", first day in force, scheme id); the latest entry in force wins."""

    entries: tuple[tuple[str, date, str], ...]

    @staticmethod
    def parse(text: str, default_scheme: str) -> SchemeSchedule:
        """``"330700:2026-07-01:chs-drg-zhejiang-2022, *:chs-drg-1.1"``; a date may be omitted."""
        entries = [("*", date.min, default_scheme)]
        for part in (p.strip() for p in text.split(",") if p.strip()):
            bits = part.split(":")
            if len(bits) == 2:
                region, scheme = bits
                since = date.min
            elif len(bits) == 3:
                region, when, scheme = bits
                try:
                    since = date.fromisoformat(when)
                except ValueError:
                    raise ScheduleError(f"bad date {when!r} in scheme schedule entry {part!r}") from None
            else:
                raise ScheduleError(f"scheme schedule entry {part!r} is not REGION[:YYYY-MM-DD]:SCHEME")
            if region != "*" and not (len(region) == 6 and region.isdigit()):
                raise ScheduleError(f"region {region!r} in {part!r} is not * or 6 digits")
            if scheme.lower().startswith("dip"):
                _check_dip(scheme, region, part)
            entries.append((region, since, scheme))
        return SchemeSchedule(tuple(entries))

    def scheme_for(self, region: str, on: date | None) -> str:
        day = on or date.max
        in_force = [(r == region, since, i) for i, (r, since, _) in enumerate(self.entries)
                    if r in ("*", region) and since <= day]
        return self.entries[max(in_force)[2]][2]  # the "*" entry since date.min is always in force

    def schemes(self) -> Iterable[str]:
        return {s for _, _, s in self.entries}


def _check_dip(scheme: str, region: str, part: str) -> None:
    bits = scheme.split("-")
    if len(bits) != 3 or bits[0] != "dip" or not (len(bits[1]) == 6 and bits[1].isdigit()) or not (
            len(bits[2]) == 4 and bits[2].isdigit()):
        raise ScheduleError(f"DIP scheme {scheme!r} in {part!r} is not dip-<6-digit region>-<year>")
    if bits[1] != region:
        raise ScheduleError(f"{part!r}: {scheme} is region {bits[1]}'s DIP catalogue; "
                            f"a region can be scheduled only onto its own")
