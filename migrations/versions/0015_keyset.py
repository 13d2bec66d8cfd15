"""keyset: indexes for the filters and sorts of the paged lists (register, watch list, alerts)

Revision ID: 0015_keyset
Revises: 0014_performance
Create Date: 2026-12-03 12:00:00

"""
from alembic import op


revision = '0015_keyset'
down_revision = '0014_performance'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('risks', schema=None) as batch_op:
        batch_op.create_index('ix_risks_quarter', ['fiscal_year', 'quarter'], unique=False)
        batch_op.create_index('ix_risks_title_id', ['title', 'id'], unique=False)
    with op.batch_alter_table('watch_jobs', schema=None) as batch_op:
        batch_op.create_index('ix_watch_jobs_state', ['state'], unique=False)
    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.create_index('ix_alerts_status_created', ['status', 'created_at', 'id'], unique=False)
        batch_op.create_index('ix_alerts_severity_created', ['severity', 'created_at', 'id'], unique=False)


def downgrade():
    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.drop_index('ix_alerts_severity_created')
        batch_op.drop_index('ix_alerts_status_created')
    with op.batch_alter_table('watch_jobs', schema=None) as batch_op:
        batch_op.drop_index('ix_watch_jobs_state')
    with op.batch_alter_table('risks', schema=None) as batch_op:
        batch_op.drop_index('ix_risks_title_id')
        batch_op.drop_index('ix_risks_quarter')
