"""Importing code tables: bulk, idempotent, one transaction per version, readable back."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import date

import pytest
from asyncpg.exceptions import UniqueViolationError

from libs.common.runtime import Runtime
from services.coding.domain.model import CodeRow, Dataset
from services.coding.service_layer.importing import import_codes
from services.coding.service_layer.index import IndexHolder
from services.coding.service_layer.unit_of_work import CodingUnitOfWork

NewUow = Callable[[], CodingUnitOfWork]


async def test_second_import_changes_nothing(new_uow: NewUow, runtime: Runtime) -> None:
    outcomes = await import_codes(new_uow, runtime.reference_dir)
    loaded = [o for o in outcomes if o.outcome != "skipped"]
    assert loaded and all(o.outcome == "unchanged" for o in loaded)


async def test_icd_tables_are_loaded_whole(new_uow: NewUow, runtime: Runtime) -> None:
    expected = sum(1 for line in (runtime.reference_dir / "codes/icd10_chs_2.0_diagnoses.tsv").open() if line.strip())
    async with new_uow() as uow:
        versions = {v.system_id: v for v in await uow.codes.versions() if v.active}
    assert versions["icd10-chs"].code_count == expected - 1  # less the header
    assert versions["icd10-chs"].version == "2.0"


async def test_changed_content_replaces_the_version(new_uow: NewUow) -> None:
    first = Dataset("per-disease", "t-1", date(2024, 1, 1), "test", (CodeRow("B001", "one"),), "d1")
    second = dataclasses.replace(first, rows=(CodeRow("B001", "one"), CodeRow("B002", "two")), digest="d2")
    async with new_uow() as uow:
        assert await uow.codes.load_dataset(first) == "created"
        await uow.commit()
    async with new_uow() as uow:
        assert await uow.codes.load_dataset(second) == "updated"
        await uow.commit()
    async with new_uow() as uow:
        version_id, _ = await uow.codes.version_id("per-disease", "t-1") or (0, "")
        rows = await uow.codes.list_codes(version_id, "", "", "", 10)
    assert [r.code for r in rows] == ["B001", "B002"]


async def test_a_failed_load_writes_nothing(new_uow: NewUow) -> None:
    broken = Dataset("day-surgery", "t-bad", date(2024, 1, 1), "test",
                     (CodeRow("R001", "a"), CodeRow("R001", "duplicate")), "d3")
    with pytest.raises(UniqueViolationError):
        async with new_uow() as uow:
            await uow.codes.load_dataset(broken)
            await uow.commit()
    async with new_uow() as uow:
        assert await uow.codes.version_id("day-surgery", "t-bad") is None


async def test_name_filter_finds_chinese_substrings(new_uow: NewUow) -> None:
    async with new_uow() as uow:
        version_id, _ = await uow.codes.version_id("icd10-chs", None) or (0, "")
        rows = await uow.codes.list_codes(version_id, "I21", "心肌梗死", "", 1000)
    assert rows and all("心肌梗死" in r.name and r.code.startswith("I21") for r in rows)


async def test_index_refreshes_only_when_versions_change(new_uow: NewUow) -> None:
    holder = IndexHolder(new_uow)
    assert await holder.refresh() is True
    assert await holder.refresh() is False
    assert holder.current.versions["icd10-chs"].retired["I21.000x005"] is False
    async with new_uow() as uow:
        await uow.codes.load_dataset(Dataset("insurance-unit", "t-1", date(2024, 1, 1), "test",
                                             (CodeRow("U1", "unit"),), "d4"))
        await uow.commit()
    assert await holder.refresh() is True
    assert "U1" in holder.current.versions["insurance-unit"].retired
