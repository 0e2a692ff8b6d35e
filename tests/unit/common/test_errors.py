"""Errors cross process boundaries whole: a bulk import's worker process raises them, the importing process
re-raises what arrives."""

from __future__ import annotations

import pickle

from libs.common.errors import FieldViolation, InvalidArgument, Unavailable


def test_an_error_pickles_with_its_reason_metadata_and_violations() -> None:
    error = Unavailable("grouping service: UNAVAILABLE", reason="UPSTREAM_UNAVAILABLE", metadata={"upstream": "g"})
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is Unavailable and copy.code == "UNAVAILABLE"
    assert (copy.message, copy.reason, copy.metadata, str(copy)) == (
        error.message, "UPSTREAM_UNAVAILABLE", {"upstream": "g"}, str(error))
    bad = pickle.loads(pickle.dumps(InvalidArgument.field("page_size", "must be positive")))
    assert type(bad) is InvalidArgument and bad.violations == (FieldViolation("page_size", "must be positive"),)
