from alembic import context

from libs.common.db.migrate import run_env
from services.collection.adapters.tables import all_tables

run_env(context.config, all_tables())
