"""correctness: several decisions per agenda item, escalations to the executives, frozen quarters, close-freeze
maintenance windows

Revision ID: 0013_correctness
Revises: 0012_runbooks
Create Date: 2026-12-03 07:21:54

"""
from alembic import op
import sqlalchemy as sa


revision = '0013_correctness'
down_revision = '0012_runbooks'
branch_labels = None
depends_on = None

WINDOW_SHAPE_BEFORE = ("(kind = 'once' AND starts_at IS NOT NULL AND ends_at IS NOT NULL AND ends_at > starts_at)"
                       " OR (kind = 'weekly' AND weekday >= 0 AND weekday <= 6 AND start_time IS NOT NULL"
                       " AND end_time IS NOT NULL)")
WINDOW_SHAPE_AFTER = WINDOW_SHAPE_BEFORE + (" OR (kind = 'freeze' AND bd_start IS NOT NULL AND bd_end IS NOT NULL"
                                            " AND bd_end >= bd_start AND bd_start >= -60 AND bd_end <= 60)")


def upgrade():
    op.create_table('readiness_frozen_quarters',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('fiscal_year', sa.SmallInteger(), nullable=False),
    sa.Column('quarter', sa.SmallInteger(), nullable=False),
    sa.Column('close_day', sa.Date(), nullable=False),
    sa.Column('as_of', sa.DateTime(timezone=True), nullable=False),
    sa.Column('taken_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('score', sa.SmallInteger(), nullable=True),
    sa.Column('colour', sa.String(length=6), nullable=False),
    sa.Column('score_colour', sa.String(length=6), nullable=False),
    sa.Column('detail', sa.JSON(), nullable=False),
    sa.CheckConstraint('quarter >= 1 AND quarter <= 4', name=op.f('ck_readiness_frozen_quarters_quarter_range')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_readiness_frozen_quarters')),
    sa.UniqueConstraint('fiscal_year', 'quarter', name=op.f('uq_readiness_frozen_quarters_fiscal_year_quarter'))
    )
    op.create_table('risk_escalations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('risk_id', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=120), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('level', sa.Enum('low', 'medium', 'high', 'critical', name='risk_escalation_level', native_enum=False, create_constraint=True, length=24), nullable=False),
    sa.Column('escalated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('escalated_by_id', sa.Integer(), nullable=True),
    sa.Column('escalated_by_name', sa.String(length=120), nullable=False),
    sa.Column('acknowledged_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('acknowledged_by_id', sa.Integer(), nullable=True),
    sa.Column('acknowledged_by_name', sa.String(length=120), nullable=False),
    sa.Column('acknowledgement', sa.Text(), nullable=False),
    sa.CheckConstraint("acknowledged_at IS NULL OR acknowledged_by_name <> ''", name=op.f('ck_risk_escalations_acknowledged_by_someone')),
    sa.ForeignKeyConstraint(['acknowledged_by_id'], ['users.id'], name=op.f('fk_risk_escalations_acknowledged_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['escalated_by_id'], ['users.id'], name=op.f('fk_risk_escalations_escalated_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['risk_id'], ['risks.id'], name=op.f('fk_risk_escalations_risk_id_risks'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_risk_escalations'))
    )
    with op.batch_alter_table('risk_escalations', schema=None) as batch_op:
        batch_op.create_index('ix_risk_escalations_open', ['acknowledged_at', 'escalated_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_risk_escalations_risk_id'), ['risk_id'], unique=False)

    op.create_table('risk_escalation_notices',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('escalation_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('message_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("kind IN ('email', 'sms')", name=op.f('ck_risk_escalation_notices_kind_known')),
    sa.ForeignKeyConstraint(['escalation_id'], ['risk_escalations.id'], name=op.f('fk_risk_escalation_notices_escalation_id_risk_escalations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['message_id'], ['outbound_messages.id'], name=op.f('fk_risk_escalation_notices_message_id_outbound_messages'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_risk_escalation_notices_user_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_risk_escalation_notices')),
    sa.UniqueConstraint('escalation_id', 'user_id', 'kind', name=op.f('uq_risk_escalation_notices_escalation_id_user_id_kind'))
    )
    with op.batch_alter_table('risk_escalation_notices', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_risk_escalation_notices_escalation_id'), ['escalation_id'], unique=False)

    op.create_table('risk_review_decisions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('decision', sa.String(length=16), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('outcome', sa.Text(), nullable=False),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_by_name', sa.String(length=120), nullable=False),
    sa.CheckConstraint("decision IN ('keep', 'change_score', 'add_action', 'accept', 'close', 'escalate')", name=op.f('ck_risk_review_decisions_decision_known')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_risk_review_decisions_decided_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['item_id'], ['risk_review_items.id'], name=op.f('fk_risk_review_decisions_item_id_risk_review_items'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_risk_review_decisions'))
    )
    with op.batch_alter_table('risk_review_decisions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_risk_review_decisions_item_id'), ['item_id'], unique=False)
        batch_op.create_index('uq_risk_review_decisions_item_decision', ['item_id', 'decision'], unique=True, sqlite_where=sa.text("decision <> 'add_action'"), postgresql_where=sa.text("decision <> 'add_action'"))

    # Every decision recorded so far becomes the first (and only) decision of its item. The rows wait in a
    # holding table while the items table is rebuilt: on SQLite the rebuild drops the old table, and the drop
    # would cascade to risk_review_decisions.
    op.execute("CREATE TABLE carry_review_decisions AS SELECT i.id AS item_id, i.decision, COALESCE(i.note, '') AS note, "
               "COALESCE(i.outcome, '') AS outcome, COALESCE(i.decided_at, r.built_at) AS decided_at, i.decided_by_id, "
               "COALESCE(i.decided_by_name, '') AS decided_by_name FROM risk_review_items i "
               "JOIN risk_reviews r ON r.id = i.review_id WHERE i.decision IS NOT NULL")

    with op.batch_alter_table('risk_review_items', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_risk_review_items_decision_known'), type_='check')
        batch_op.drop_constraint(op.f('fk_risk_review_items_decided_by_id_users'), type_='foreignkey')
        batch_op.drop_column('decided_by_name')
        batch_op.drop_column('note')
        batch_op.drop_column('decided_by_id')
        batch_op.drop_column('decided_at')
        batch_op.drop_column('outcome')
        batch_op.drop_column('decision')
    op.execute("INSERT INTO risk_review_decisions (item_id, decision, note, outcome, decided_at, decided_by_id, "
               "decided_by_name) SELECT item_id, decision, note, outcome, decided_at, decided_by_id, decided_by_name "
               "FROM carry_review_decisions ORDER BY item_id")
    op.drop_table('carry_review_decisions')

    with op.batch_alter_table('watch_maintenance_windows', schema=None) as batch_op:
        batch_op.add_column(sa.Column('bd_start', sa.SmallInteger(), nullable=True))
        batch_op.add_column(sa.Column('bd_end', sa.SmallInteger(), nullable=True))
        batch_op.drop_constraint(op.f('ck_watch_maintenance_windows_shape'), type_='check')
        batch_op.create_check_constraint('shape', WINDOW_SHAPE_AFTER)


def downgrade():
    op.execute("DELETE FROM watch_maintenance_windows WHERE kind = 'freeze'")
    with op.batch_alter_table('watch_maintenance_windows', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_watch_maintenance_windows_shape'), type_='check')
        batch_op.create_check_constraint('shape', WINDOW_SHAPE_BEFORE)
        batch_op.drop_column('bd_end')
        batch_op.drop_column('bd_start')

    # The first decision of each item, held while the items table is rebuilt (see upgrade()).
    op.execute("CREATE TABLE carry_review_decisions AS SELECT d.item_id, d.decision, d.note, d.outcome, "
               "d.decided_at, d.decided_by_id, d.decided_by_name FROM risk_review_decisions d WHERE d.id = "
               "(SELECT MIN(first.id) FROM risk_review_decisions first WHERE first.item_id = d.item_id)")
    with op.batch_alter_table('risk_review_items', schema=None) as batch_op:
        batch_op.add_column(sa.Column('decision', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('outcome', sa.Text(), server_default='', nullable=False))
        batch_op.add_column(sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('decided_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('note', sa.Text(), server_default='', nullable=False))
        batch_op.add_column(sa.Column('decided_by_name', sa.String(length=120), server_default='', nullable=False))
        batch_op.create_foreign_key(op.f('fk_risk_review_items_decided_by_id_users'), 'users', ['decided_by_id'], ['id'],
                                    ondelete='SET NULL')
        batch_op.create_check_constraint(
            'decision_known', "decision IS NULL OR decision IN ('keep', 'change_score', 'add_action', 'accept', "
                              "'close', 'escalate')")
    # An item keeps its first decision: the older schema had room for one.
    op.execute("UPDATE risk_review_items SET decision = d.decision, note = d.note, outcome = d.outcome, "
               "decided_at = d.decided_at, decided_by_id = d.decided_by_id, decided_by_name = d.decided_by_name "
               "FROM carry_review_decisions d WHERE d.item_id = risk_review_items.id")
    op.drop_table('carry_review_decisions')

    with op.batch_alter_table('risk_review_decisions', schema=None) as batch_op:
        batch_op.drop_index('uq_risk_review_decisions_item_decision', sqlite_where=sa.text("decision <> 'add_action'"),
                            postgresql_where=sa.text("decision <> 'add_action'"))
        batch_op.drop_index(op.f('ix_risk_review_decisions_item_id'))
    op.drop_table('risk_review_decisions')

    with op.batch_alter_table('risk_escalation_notices', schema=None) as batch_op:
        batch_op.drop_index('ix_risk_escalation_notices_escalation_id')
    op.drop_table('risk_escalation_notices')
    with op.batch_alter_table('risk_escalations', schema=None) as batch_op:
        batch_op.drop_index('ix_risk_escalations_risk_id')
        batch_op.drop_index('ix_risk_escalations_open')
    op.drop_table('risk_escalations')
    op.drop_table('readiness_frozen_quarters')
