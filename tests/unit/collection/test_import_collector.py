"""The cyclic collector held back and the interpreter lock handed round faster during bulk imports, both given
back as they were when the last import ends."""

from __future__ import annotations

import gc
import sys

from services.collection.service_layer.line_readers import SWITCH_SECONDS, few_collections, responsive_loop


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


def test_an_import_hands_the_interpreter_lock_round_faster_and_gives_the_interval_back() -> None:
    own = sys.getswitchinterval()
    with responsive_loop():
        assert sys.getswitchinterval() == min(own, SWITCH_SECONDS) < 0.005
        with responsive_loop():  # an import within another
            assert sys.getswitchinterval() == min(own, SWITCH_SECONDS)
        assert sys.getswitchinterval() == min(own, SWITCH_SECONDS)
    assert sys.getswitchinterval() == own
