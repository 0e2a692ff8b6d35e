"""The cyclic collector held back during bulk imports, and given back when the last one ends."""

from __future__ import annotations

import gc

from services.collection.service_layer.line_readers import few_collections


def test_overlapping_imports_give_the_collector_back_as_it_was_when_the_last_ends() -> None:
    own = gc.get_threshold()
    first, second = few_collections(), few_collections()
    first.__enter__()
    held = gc.get_threshold()
    assert held[0] > own[0] and gc.get_freeze_count() > 0
    second.__enter__()
    first.__exit__(None, None, None)  # the first import ends while the second still runs
    assert gc.get_threshold() == held and gc.get_freeze_count() > 0
    second.__exit__(None, None, None)
    assert gc.get_threshold() == own and gc.get_freeze_count() == 0
