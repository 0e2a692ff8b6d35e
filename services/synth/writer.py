"""The run's output in file order: lists and truth per stay, settlement records in the order the core system
sent them (by time: a day's settlements once the day is over, revisions and reversals when they happen)."""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any, NamedTuple

from .dip import dip_case
from .generator import Generator
from .records import record_line
from .sources import Output, json_line

Emitted = tuple[str, dict[str, Any], dict[str, Any] | None]
"""("list", request, truth) or ("record", record, None)."""


def emissions(gen: Generator) -> Iterator[Emitted]:
    """Everything the run writes, in order. Stays come in discharge-day order and every record is sent on or
    after its stay's discharge day, so a day's records can be released once the next day begins: the queue
    holds about a day of records and the revisions still to come."""
    queue: list[tuple[datetime, int, dict[str, Any]]] = []
    order = itertools.count()
    day = None
    for d in gen.stays():
        if d.period[1] != day:
            day = d.period[1]
            boundary = datetime(day.year, day.month, day.day)
            while queue and queue[0][0] < boundary:
                yield "record", heapq.heappop(queue)[2], None
        for event in d.records:
            heapq.heappush(queue, (event.at, next(order), record_line(d, event)))
        if d.listed:
            request, truth = gen.written(d)
            yield "list", request, truth
    while queue:
        yield "record", heapq.heappop(queue)[2], None


class Written(NamedTuple):
    lists: int
    records: int


def write_run(gen: Generator, out: Output, progress: Callable[[int], None] | None = None) -> Written:
    """Write the run's lists, truth and settlement records (and with DIP data ``dip_cases.jsonl``) into ``out``;
    ``progress`` hears every 1,000 lists."""
    lists, truth, records = (out.open(name) for name in ("settlement_lists.jsonl", "truth.jsonl",
                                                          "settlement_records.jsonl"))
    dip = out.open("dip_cases.jsonl") if gen.p.dip else None  # DIP data: the lists as DIP's case input too
    n_lists = n_records = 0
    for _kind, line, fact in emissions(gen):
        if fact is None:
            records.write(json_line(line))
            n_records += 1
            continue
        lists.write(json_line(line))
        truth.write(json_line(fact))
        if dip is not None:
            dip.write(json_line(dip_case(line, fact)))
        n_lists += 1
        if progress is not None and n_lists % 1000 == 0:
            progress(n_lists)
    return Written(n_lists, n_records)
