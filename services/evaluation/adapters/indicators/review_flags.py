"""What smart review found in a region's period, read from the review schema: the evaluation service hosts both
APIs (performance evaluation and smart review), so it reads its own review results in-process."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from ...domain.indicators.context import ReviewCounts


async def review_counts(session: AsyncSession, region: str, months: Sequence[str],
                        ) -> tuple[dict[str, ReviewCounts], str] | None:
    """Per hospital: distinct findings (rule and list) on its lists of ``months`` and the confirmed amount in fen
    (a rule's findings on a list from one run only, as review's deductions count them), with the version read
    (``flags<=<highest flag id>``); ``None`` when no review run covers the period."""
    years = sorted({month[:4] for month in months})
    covered = (await session.execute(text(
        "SELECT count(*) FROM review.review_run WHERE region = :r AND period = ANY(CAST(:p AS text[]))"),
        {"r": region, "p": [*months, *years]})).scalar_one()
    if not covered:
        return None
    rows = (await session.execute(text(
        "WITH f AS (SELECT * FROM review.flag WHERE region = :r AND period = ANY(CAST(:p AS text[]))), "
        "counted AS (SELECT DISTINCT ON (fixmedins_code, setl_id, rule_id) fixmedins_code, setl_id, rule_id, run_name "
        "  FROM f WHERE state = 'CONFIRMED' ORDER BY fixmedins_code, setl_id, rule_id, flag_id) "
        "SELECT f.fixmedins_code, count(DISTINCT (f.setl_id, f.rule_id)) AS flags, "
        "coalesce(sum(f.amount_fen) FILTER (WHERE f.state = 'CONFIRMED' AND c.run_name IS NOT NULL), 0) AS confirmed,"
        " max(f.flag_id) AS last FROM f LEFT JOIN counted c ON (c.fixmedins_code, c.setl_id, c.rule_id, c.run_name) "
        "= (f.fixmedins_code, f.setl_id, f.rule_id, f.run_name) GROUP BY f.fixmedins_code"),
        {"r": region, "p": list(months)})).all()
    last = max((int(row.last) for row in rows), default=0)
    return ({row.fixmedins_code: ReviewCounts(int(row.flags), int(row.confirmed)) for row in rows},
            f"flags<={last}")
