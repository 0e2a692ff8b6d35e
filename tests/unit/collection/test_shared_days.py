"""The rows of a bulk import share one date object per day: pickled by a worker, a repeated day is a
back-reference (``feed.shared_day``)."""

from __future__ import annotations

import pickle
from datetime import date, timedelta

from services.collection.domain import feed
from services.collection.domain.feed import shared_day


def test_equal_days_are_one_object_of_the_same_value() -> None:
    first = shared_day(date(2025, 1, 31))
    again = shared_day(date(2025, 1, 31))
    assert again is first and again == date(2025, 1, 31)
    assert shared_day(date(2025, 2, 1)) == date(2025, 2, 1) and shared_day(date(2025, 2, 1)) is not first


def test_shared_days_pickle_as_back_references() -> None:
    days = [shared_day(date(2025, 3, 1) + timedelta(days=i % 3)) for i in range(300)]
    fresh = [date(2025, 3, 1) + timedelta(days=i % 3) for i in range(300)]
    assert pickle.loads(pickle.dumps(days)) == fresh
    assert len(pickle.dumps(days)) < len(pickle.dumps(fresh)) / 2


def test_the_table_of_days_stays_bounded() -> None:
    feed._days.clear()
    for i in range(feed._days.most + 10):
        assert shared_day(date(1990, 1, 1) + timedelta(days=i)) == date(1990, 1, 1) + timedelta(days=i)
    assert len(feed._days) <= feed._days.most
