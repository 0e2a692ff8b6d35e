"""Which grouping scheme applies to a region and settlement period (a prefecture switches on a date)."""

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
            entries.append((region, since, scheme))
        return SchemeSchedule(tuple(entries))

    def scheme_for(self, region: str, on: date | None) -> str:
        day = on or date.max
        in_force = [(r == region, since, i) for i, (r, since, _) in enumerate(self.entries)
                    if r in ("*", region) and since <= day]
        return self.entries[max(in_force)[2]][2]  # the "*" entry since date.min is always in force

    def schemes(self) -> Iterable[str]:
        return {s for _, _, s in self.entries}
