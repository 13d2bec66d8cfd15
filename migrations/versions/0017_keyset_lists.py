"""keyset lists: indexes for the default sort and filters of the lists now paged by keyset

Revision ID: 0017_keyset_lists
Revises: 0016_catchup
Create Date: 2026-12-03 13:00:00

"""
from alembic import op


revision = '0017_keyset_lists'
down_revision = '0016_catchup'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_events_occurred_at')
        batch_op.create_index('ix_audit_events_occurred_id', ['occurred_at', 'id'], unique=False)
        batch_op.create_index('ix_audit_events_type_occurred', ['entity_type', 'occurred_at', 'id'], unique=False)


def downgrade():
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_events_type_occurred')
        batch_op.drop_index('ix_audit_events_occurred_id')
        batch_op.create_index('ix_audit_events_occurred_at', ['occurred_at'], unique=False)
