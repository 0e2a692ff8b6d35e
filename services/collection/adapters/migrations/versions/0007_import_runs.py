"""File imports move onto the run framework: ``collection.run`` (libs/common/runs) replaces ``import_job``.

Every import job becomes a run of kind ``collection.import-lists`` or ``collection.import-records`` keyed by the
file's digest, with its counts as the checkpoint: a finished one SUCCEEDED (importing the file again changes
nothing), an unfinished one PENDING (the next import of the file resumes at its line).

Revision ID: 0007
"""
from alembic import op

from libs.common.runs.migration import create_run_table, drop_run_table

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

S = "collection"


def upgrade() -> None:
    create_run_table(S)
    op.execute(f"""
        INSERT INTO {S}.run (id, kind, run_key, parameters, parameters_json, input_digest, state, progress_done,
                             progress_unit, progress_message, checkpoint, result, created_at, updated_at,
                             finished_at)
        SELECT md5(file_digest || kind), 'collection.import-' || kind, file_digest, '{{}}'::jsonb, '{{}}',
               file_digest, CASE WHEN finished = 1 THEN 'SUCCEEDED' ELSE 'PENDING' END, lines_done, 'lines', path,
               c, CASE WHEN finished = 1 THEN c END, updated_time, updated_time,
               CASE WHEN finished = 1 THEN updated_time END
        FROM (SELECT j.*, jsonb_build_object('lines', lines_done, 'accepted', accepted, 'pending', pending,
                                             'rejected', rejected, 'skipped', 0) AS c
              FROM {S}.import_job j) AS jobs""")
    op.drop_table("import_job", schema=S)


def downgrade() -> None:
    op.execute(f"""
        CREATE TABLE {S}.import_job (
          file_digest text PRIMARY KEY, path text NOT NULL, lines_done bigint NOT NULL, accepted bigint NOT NULL,
          rejected bigint NOT NULL, finished integer NOT NULL DEFAULT 0, kind text NOT NULL DEFAULT 'lists',
          pending bigint NOT NULL DEFAULT 0, updated_time timestamptz NOT NULL DEFAULT now())""")
    op.execute(f"""
        INSERT INTO {S}.import_job (file_digest, path, lines_done, accepted, rejected, finished, kind, pending,
                                    updated_time)
        SELECT run_key, progress_message, coalesce((checkpoint->>'lines')::bigint, 0),
               coalesce((checkpoint->>'accepted')::bigint, 0), coalesce((checkpoint->>'rejected')::bigint, 0),
               CASE WHEN state = 'SUCCEEDED' THEN 1 ELSE 0 END, substr(kind, length('collection.import-') + 1),
               coalesce((checkpoint->>'pending')::bigint, 0), updated_at
        FROM {S}.run WHERE kind LIKE 'collection.import-%'
        ON CONFLICT (file_digest) DO NOTHING""")
    drop_run_table(S)
