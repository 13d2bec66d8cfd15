"""catch-up: drop the app_id index of watch_jobs, which the unique (app_id, name) index already serves

Every job row a catch-up writes updates each index of watch_jobs; this one only duplicated the leading column
of uq_watch_jobs_app_id_name.

Revision ID: 0016_catchup
Revises: 0015_keyset
Create Date: 2026-12-03 12:05:00

"""
from alembic import op


revision = '0016_catchup'
down_revision = '0015_keyset'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('watch_jobs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_watch_jobs_app_id'))


def downgrade():
    with op.batch_alter_table('watch_jobs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_watch_jobs_app_id'), ['app_id'], unique=False)
