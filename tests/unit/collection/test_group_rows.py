"""A grouping result's row remembered by its serialized form (``clients.shared_group_row``) is the row
``to_group_row`` reads from it, whatever the result."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from medpay.grouping.v1 import grouping_service_pb2 as grouping_pb

from services.collection.adapters import clients
from services.collection.adapters.clients import shared_group_row, to_group_row

_TEXT = st.text(alphabet="AB01.|k-", max_size=6)


@st.composite
def results(draw: st.DrawFn) -> grouping_pb.GroupingResult:
    r = grouping_pb.GroupingResult(
        case_id=draw(_TEXT), status=draw(st.sampled_from(list(grouping_pb.GroupStatus.values()))),
        drg=draw(_TEXT), adrg=draw(_TEXT), mdc=draw(_TEXT),
        scheme=draw(st.sampled_from(["schemes/chs-drg-1.1", "schemes/dip-3", "schemes/DIP-x", "chs-drg-1.1"])),
        scheme_version=draw(st.sampled_from(["1.1+3f2a", "3+5b1c", ""])), message=draw(_TEXT),
        trace=draw(st.lists(_TEXT, max_size=2)))
    if draw(st.booleans()):
        r.dip.SetInParent()
        r.dip.group = draw(_TEXT)
    return r


@settings(max_examples=300)
@given(st.lists(results(), min_size=1, max_size=8))
def test_a_remembered_row_is_the_row_of_its_result(batch: list[grouping_pb.GroupingResult]) -> None:
    for r in batch + batch:  # each a second time: from the table
        assert shared_group_row(r) == to_group_row(r)


def test_the_same_result_gives_the_same_row_object_and_the_table_stays_bounded() -> None:
    clients._rows_of.clear()
    one = grouping_pb.GroupingResult(scheme="schemes/chs-drg-1.1", scheme_version="1.1", drg="AB11", status=1)
    again = grouping_pb.GroupingResult.FromString(one.SerializeToString())
    assert shared_group_row(again) is shared_group_row(one)
    assert shared_group_row(one).drg == "AB11" and shared_group_row(one).status == "GROUPED"
    for i in range(clients._MOST_ROWS + 5):
        assert shared_group_row(grouping_pb.GroupingResult(drg=str(i))).drg == str(i)
    assert len(clients._rows_of) <= clients._MOST_ROWS
