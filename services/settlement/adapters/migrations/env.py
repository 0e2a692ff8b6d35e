from alembic import context

from libs.common.db.migrate import run_env
from services.settlement.adapters.tables import metadata

run_env(context.config, metadata)
