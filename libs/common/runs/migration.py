"""The run table in a service's Alembic history. A migration of the service's schema calls:

    from libs.common.runs.migration import create_run_table, drop_run_table

    def upgrade() -> None:
        create_run_table("settlement")

    def downgrade() -> None:
        drop_run_table("settlement")

This creates version 1 of the layout (``libs.common.runs.table``). Should the layout ever change, the change
comes as a new helper (``upgrade_run_table_v2``) for a new migration of each service, and this one stays as it is.
"""

from __future__ import annotations

from alembic import op
from sqlalchemy import MetaData

from .table import TABLE, run_table


def create_run_table(schema: str, name: str = TABLE) -> None:
    """CREATE TABLE <schema>.run with its constraints and indexes (inside the running migration)."""
    run_table(MetaData(schema=schema), name).create(op.get_bind())


def drop_run_table(schema: str, name: str = TABLE) -> None:
    op.drop_table(name, schema=schema)
