"""Regroup stored cases of a region and period in bulk through StreamGroupCases (a scheme change, a fix)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from medpay.grouping.v1 import grouping_service_pb2 as grouping_pb

from ..adapters.clients import GroupingClient, scheme_name, to_group_row, to_grouping_case
from ..domain.case_facts import case_facts
from .queries import Lists
from .unit_of_work import CollectionUnitOfWork


async def regroup(new_uow: Callable[[], CollectionUnitOfWork], grouping: GroupingClient, *, region: str,
                  period: str, scheme_id: str, progress: Callable[[int], None] | None = None) -> int:
    """Group every active list's current revision under ``scheme_id`` and store the results; returns the count."""
    stub: Any = grouping.stream_stub()
    call = stub.StreamGroupCases()  # bidirectional: write a chunk, read its answer
    done = 0
    async for rows in Lists(new_uow).cases(region, period):
        await call.write(grouping_pb.StreamGroupCasesRequest(
            scheme=scheme_name(scheme_id), cases=[to_grouping_case(case_facts(r.body), str(r.list_id)) for r in rows]))
        reply = await call.read()
        results = [(int(res.case_id), r.revision, to_group_row(res)) for r, res in zip(rows, reply.results,
                                                                                        strict=True)]
        async with new_uow() as uow:
            await uow.lists.save_groups(results)
            await uow.commit()
        done += len(rows)
        if progress is not None:
            progress(len(rows))
    await call.done_writing()
    return done
