"""keyset lists: indexes for the default sort and filters of the lists now paged by keyset

The audit log (newest first, whole and by record type), an alert's timeline and messages and a person's
messages (each index now ends with the id that breaks ties), the DR exercises, the findings by status, and the lessons learned.

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
    with op.batch_alter_table('alert_events', schema=None) as batch_op:
        batch_op.drop_index('ix_alert_events_alert_id_at')
        batch_op.create_index('ix_alert_events_alert_at_id', ['alert_id', 'at', 'id'], unique=False)
    with op.batch_alter_table('outbound_messages', schema=None) as batch_op:
        batch_op.drop_index('ix_outbound_messages_user_created')
        batch_op.drop_index('ix_outbound_messages_alert_id')
        batch_op.create_index('ix_outbound_messages_user_created_id', ['user_id', 'created_at', 'id'], unique=False)
        batch_op.create_index('ix_outbound_messages_alert_created_id', ['alert_id', 'created_at', 'id'],
                              unique=False)
    with op.batch_alter_table('dr_exercises', schema=None) as batch_op:
        batch_op.create_index('ix_dr_exercises_scheduled', ['scheduled_for', 'id'], unique=False)
    with op.batch_alter_table('dr_findings', schema=None) as batch_op:
        batch_op.create_index('ix_dr_findings_status_due', ['status', 'due_date', 'id'], unique=False)
    with op.batch_alter_table('readiness_lessons', schema=None) as batch_op:
        batch_op.drop_index('ix_readiness_lessons_status')
        batch_op.create_index('ix_readiness_lessons_order', ['status', 'target_fiscal_year', 'target_quarter', 'id'],
                              unique=False)


def downgrade():
    with op.batch_alter_table('readiness_lessons', schema=None) as batch_op:
        batch_op.drop_index('ix_readiness_lessons_order')
        batch_op.create_index('ix_readiness_lessons_status', ['status'], unique=False)
    with op.batch_alter_table('dr_findings', schema=None) as batch_op:
        batch_op.drop_index('ix_dr_findings_status_due')
    with op.batch_alter_table('dr_exercises', schema=None) as batch_op:
        batch_op.drop_index('ix_dr_exercises_scheduled')
    with op.batch_alter_table('outbound_messages', schema=None) as batch_op:
        batch_op.drop_index('ix_outbound_messages_alert_created_id')
        batch_op.drop_index('ix_outbound_messages_user_created_id')
        batch_op.create_index('ix_outbound_messages_alert_id', ['alert_id'], unique=False)
        batch_op.create_index('ix_outbound_messages_user_created', ['user_id', 'created_at'], unique=False)
    with op.batch_alter_table('alert_events', schema=None) as batch_op:
        batch_op.drop_index('ix_alert_events_alert_at_id')
        batch_op.create_index('ix_alert_events_alert_id_at', ['alert_id', 'at'], unique=False)
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_events_type_occurred')
        batch_op.drop_index('ix_audit_events_occurred_id')
        batch_op.create_index('ix_audit_events_occurred_at', ['occurred_at'], unique=False)
