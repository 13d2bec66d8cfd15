"""paging trust: message leases and secrets, the fallback policy, unanswered alerts, queued reminders

Revision ID: 0010_paging_trust
Revises: 0009_vendor_support_links
Create Date: 2026-12-03 07:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0010_paging_trust'
down_revision = '0009_vendor_support_links'
branch_labels = None
depends_on = None



def _outcome(*values):
    return sa.Enum(*values, name='vendor_reminder_outcome', native_enum=False, create_constraint=True, length=16)


OUTCOMES_BEFORE = _outcome('sent', 'failed', 'no_owner', 'no_method')
OUTCOMES_AFTER = _outcome('queued', 'sent', 'failed', 'no_owner', 'no_method')


def upgrade():
    with op.batch_alter_table('outbound_messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('lease_until', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('sensitive', sa.Boolean(), server_default=sa.text('false'), nullable=False))
        batch_op.create_index('ix_outbound_messages_status_lease', ['status', 'lease_until'], unique=False)
        batch_op.create_index('ix_outbound_messages_bundled_into_id', ['bundled_into_id'], unique=False)
    # Claims taken before leases existed get one now, so the new recovery rule can see them.
    op.execute("UPDATE outbound_messages SET lease_until = claimed_at WHERE status = 'sending'")

    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('unanswered_at', sa.DateTime(timezone=True), nullable=True))

    with op.batch_alter_table('escalation_policies', schema=None) as batch_op:
        batch_op.add_column(sa.Column('is_fallback', sa.Boolean(), server_default=sa.text('false'), nullable=False))
        batch_op.create_index('uq_escalation_policies_fallback', ['is_fallback'], unique=True,
                              sqlite_where=sa.text('is_fallback'), postgresql_where=sa.text('is_fallback'))

    with op.batch_alter_table('vendor_reminders', schema=None) as batch_op:
        batch_op.alter_column('outcome', existing_type=OUTCOMES_BEFORE, type_=OUTCOMES_AFTER, existing_nullable=False)


def downgrade():
    op.execute("UPDATE vendor_reminders SET outcome = 'sent' WHERE outcome = 'queued'")
    with op.batch_alter_table('vendor_reminders', schema=None) as batch_op:
        batch_op.alter_column('outcome', existing_type=OUTCOMES_AFTER, type_=OUTCOMES_BEFORE, existing_nullable=False)

    with op.batch_alter_table('escalation_policies', schema=None) as batch_op:
        batch_op.drop_index('uq_escalation_policies_fallback', sqlite_where=sa.text('is_fallback'),
                            postgresql_where=sa.text('is_fallback'))
        batch_op.drop_column('is_fallback')

    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.drop_column('unanswered_at')

    with op.batch_alter_table('outbound_messages', schema=None) as batch_op:
        batch_op.drop_index('ix_outbound_messages_bundled_into_id')
        batch_op.drop_index('ix_outbound_messages_status_lease')
        batch_op.drop_column('sensitive')
        batch_op.drop_column('lease_until')
