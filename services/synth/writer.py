"""The run's output in file order: lists and truth per stay, settlement records in the order the core system
sent them (by time: a day's settlements once the day is over, revisions and reversals when they happen)."""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any, NamedTuple

from .generator import Generator
from .items import items_csv
from .records import record_line
from .sources import Output, json_line

Emitted = tuple[str, dict[str, Any], dict[str, Any] | None]
"""("list", request, truth), ("record", record, None) or, with ``fees``, ("fees", 2301 request, None) right
after its stay's list."""


def emissions(gen: Generator, *, fees: bool = False) -> Iterator[Emitted]:
    """Everything the run writes, in order. Stays come in discharge-day order and every record is sent on or
    after its stay's discharge day, so a day's records can be released once the next day begins: the queue
    holds about a day of records and the revisions still to come. ``fees``: each listed stay's fee details
    (2301) follow its list (when the run makes them)."""
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
            details = gen.fee_request(d)  # first: item behaviours planted in the details go into the truth
            request, truth = gen.written(d)
            yield "list", request, truth
            if fees and details is not None:
                yield "fees", details, None
    while queue:
        yield "record", heapq.heappop(queue)[2], None


class Written(NamedTuple):
    lists: int
    records: int
    fee_lines: int = 0


def write_run(gen: Generator, out: Output, progress: Callable[[int], None] | None = None) -> Written:
    """Write the run's lists, truth and settlement records into ``out``, and (unless the run makes none) the fee
    details and ``knowledge/items.csv``; ``progress`` hears every 1,000 lists."""
    lists, truth, records = (out.open(name) for name in ("settlement_lists.jsonl", "truth.jsonl",
                                                          "settlement_records.jsonl"))
    details = None
    if gen.fee_details is not None:
        details = out.open("fee_details.jsonl")
        (out.folder / "knowledge").mkdir(exist_ok=True)
        (out.folder / "knowledge" / "items.csv").write_bytes(items_csv(gen.fee_details.items))
    n_lists = n_records = n_fee_lines = 0
    for kind, line, fact in emissions(gen, fees=details is not None):
        if kind == "fees":
            assert details is not None
            details.write(json_line(line))
            n_fee_lines += len(line["input"]["feedetail"])
            continue
        if fact is None:
            records.write(json_line(line))
            n_records += 1
            continue
        lists.write(json_line(line))
        truth.write(json_line(fact))
        n_lists += 1
        if progress is not None and n_lists % 1000 == 0:
            progress(n_lists)
    return Written(n_lists, n_records, n_fee_lines)
