"""Every table of a tenant's data carries its region (README "Scaling past one machine"): a distributed
PostgreSQL (Citus) co-locates a join only on the distribution column, so a child row must carry its parent's
region itself rather than reach it through the parent's key.

Migrations that give a child table its region call ``add_region`` (the column, filled from the parent row, then
NOT NULL) and ``drop_region`` on the way down. ``institution_region`` is the SQL of an institution's region for
rows whose parent is the institution itself (a set-based write that has only the code): the prefecture of the
code H + 6-digit county + serial, as ``services.collection.domain.model.region_of`` computes it ('' for a code
that is not one; tests/integration/test_partitioning.py checks they agree).
"""

from __future__ import annotations


def institution_region(column: str) -> str:
    """SQL: the prefecture (county's first 4 digits + '00') of the institution code in ``column``."""
    return (f"CASE WHEN substr({column}, 2, 6) ~ '^[0-9]{{6}}$' THEN substr({column}, 2, 4) || '00' "
            f"ELSE '' END")


def add_region(schema: str, table: str, fill: str) -> None:
    """Add ``region`` to ``schema.table``, set it on every stored row by ``fill`` (the SQL that follows
    ``UPDATE schema.table AS t SET region = ``: an expression over ``t``, possibly with ``FROM parent WHERE ...``),
    then make it NOT NULL: a row the fill missed fails the migration rather than entering the layout without
    its region."""
    import sqlalchemy as sa
    from alembic import op

    op.add_column(table, sa.Column("region", sa.Text()), schema=schema)
    op.execute(f"UPDATE {schema}.{table} AS t SET region = {fill}")
    op.alter_column(table, "region", nullable=False, schema=schema)


def drop_region(schema: str, table: str) -> None:
    from alembic import op

    op.drop_column(table, "region", schema=schema)
