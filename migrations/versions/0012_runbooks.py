"""runbooks: the index of RUNBOOKS_DIR, reviews, runs with their steps, acknowledgements, reminders, settings, report counts

Revision ID: 0012_runbooks
Revises: 0011_incidents
Create Date: 2026-12-03 07:12:12.775390

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0012_runbooks'
down_revision = '0011_incidents'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('runbook_report_snapshots',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('fiscal_year', sa.SmallInteger(), nullable=False),
    sa.Column('quarter', sa.SmallInteger(), nullable=False),
    sa.Column('counts', sa.JSON(), nullable=False),
    sa.Column('taken_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_runbook_report_snapshots')),
    sa.UniqueConstraint('fiscal_year', 'quarter', name=op.f('uq_runbook_report_snapshots_fiscal_year_quarter'))
    )
    op.create_table('runbook_settings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('error_rate_percent', sa.SmallInteger(), nullable=False),
    sa.Column('min_runs', sa.SmallInteger(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by', sa.String(length=120), nullable=False),
    sa.CheckConstraint('error_rate_percent >= 1 AND error_rate_percent <= 100', name=op.f('ck_runbook_settings_rate')),
    sa.CheckConstraint('min_runs >= 1 AND min_runs <= 1000', name=op.f('ck_runbook_settings_min_runs')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_runbook_settings'))
    )
    op.create_table('runbooks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slug', sa.String(length=120), nullable=False),
    sa.Column('path', sa.String(length=500), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('file_mtime_ns', sa.BigInteger(), nullable=False),
    sa.Column('file_size', sa.BigInteger(), nullable=False),
    sa.Column('front_matter', sa.JSON(), nullable=True),
    sa.Column('valid', sa.Boolean(), nullable=False),
    sa.Column('invalid_reason', sa.String(length=500), nullable=False),
    sa.Column('invalid_line', sa.Integer(), nullable=True),
    sa.Column('listed', sa.Boolean(), nullable=False),
    sa.Column('owner_email', sa.String(length=254), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=True),
    sa.Column('review_every_days', sa.Integer(), nullable=True),
    sa.Column('local_links', sa.JSON(), nullable=False),
    sa.Column('step_titles', sa.JSON(), nullable=False),
    sa.Column('first_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('indexed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('removed_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['owner_id'], ['users.id'], name=op.f('fk_runbooks_owner_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_runbooks')),
    sa.UniqueConstraint('path', name=op.f('uq_runbooks_path')),
    sa.UniqueConstraint('slug', name=op.f('uq_runbooks_slug'))
    )
    with op.batch_alter_table('runbooks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_runbooks_owner_id'), ['owner_id'], unique=False)

    op.create_table('runbook_acknowledgements',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('runbook_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['runbook_id'], ['runbooks.id'], name=op.f('fk_runbook_acknowledgements_runbook_id_runbooks'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_runbook_acknowledgements_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_runbook_acknowledgements')),
    sa.UniqueConstraint('runbook_id', 'user_id', 'content_hash', name=op.f('uq_runbook_acknowledgements_runbook_id_user_id_content_hash'))
    )
    with op.batch_alter_table('runbook_acknowledgements', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_runbook_acknowledgements_user_id'), ['user_id'], unique=False)

    op.create_table('runbook_reviews',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('runbook_id', sa.Integer(), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('outcome', sa.String(length=20), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('by_id', sa.Integer(), nullable=True),
    sa.Column('by_name', sa.String(length=120), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("outcome IN ('reviewed', 'changes_requested', 'retired')", name=op.f('ck_runbook_reviews_outcome')),
    sa.ForeignKeyConstraint(['by_id'], ['users.id'], name=op.f('fk_runbook_reviews_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['runbook_id'], ['runbooks.id'], name=op.f('fk_runbook_reviews_runbook_id_runbooks'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_runbook_reviews'))
    )
    with op.batch_alter_table('runbook_reviews', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_runbook_reviews_by_id'), ['by_id'], unique=False)
        batch_op.create_index('ix_runbook_reviews_runbook_at', ['runbook_id', 'at'], unique=False)

    op.create_table('runbook_reminders',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('runbook_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('outcome', sa.String(length=16), nullable=False),
    sa.Column('message_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind IN ('due_soon', 'overdue')", name=op.f('ck_runbook_reminders_kind')),
    sa.ForeignKeyConstraint(['message_id'], ['outbound_messages.id'], name=op.f('fk_runbook_reminders_message_id_outbound_messages'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['runbook_id'], ['runbooks.id'], name=op.f('fk_runbook_reminders_runbook_id_runbooks'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_runbook_reminders_user_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_runbook_reminders')),
    sa.UniqueConstraint('runbook_id', 'kind', 'due_on', name=op.f('uq_runbook_reminders_runbook_id_kind_due_on'))
    )
    op.create_table('runbook_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('runbook_id', sa.Integer(), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('step_titles', sa.JSON(), nullable=False),
    sa.Column('started_by_id', sa.Integer(), nullable=True),
    sa.Column('started_by_name', sa.String(length=120), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('outcome', sa.String(length=12), nullable=True),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('alert_id', sa.Integer(), nullable=True),
    sa.Column('job_id', sa.Integer(), nullable=True),
    sa.Column('incident_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("outcome IS NULL OR outcome IN ('worked', 'deviations', 'failed')", name=op.f('ck_runbook_runs_outcome')),
    sa.CheckConstraint('finished_at IS NULL OR outcome IS NOT NULL', name=op.f('ck_runbook_runs_finished_has_outcome')),
    sa.ForeignKeyConstraint(['alert_id'], ['alerts.id'], name=op.f('fk_runbook_runs_alert_id_alerts'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['job_id'], ['watch_jobs.id'], name=op.f('fk_runbook_runs_job_id_watch_jobs'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['runbook_id'], ['runbooks.id'], name=op.f('fk_runbook_runs_runbook_id_runbooks'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['started_by_id'], ['users.id'], name=op.f('fk_runbook_runs_started_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_runbook_runs'))
    )
    with op.batch_alter_table('runbook_runs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_runbook_runs_alert_id'), ['alert_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_runbook_runs_incident_id'), ['incident_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_runbook_runs_job_id'), ['job_id'], unique=False)
        batch_op.create_index('ix_runbook_runs_runbook_started', ['runbook_id', 'started_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_runbook_runs_started_by_id'), ['started_by_id'], unique=False)

    op.create_table('runbook_run_steps',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.SmallInteger(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('outcome', sa.String(length=8), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('by_name', sa.String(length=120), nullable=False),
    sa.CheckConstraint("outcome IN ('done', 'skipped', 'failed')", name=op.f('ck_runbook_run_steps_outcome')),
    sa.CheckConstraint('position >= 1', name=op.f('ck_runbook_run_steps_position')),
    sa.ForeignKeyConstraint(['run_id'], ['runbook_runs.id'], name=op.f('fk_runbook_run_steps_run_id_runbook_runs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_runbook_run_steps')),
    sa.UniqueConstraint('run_id', 'position', name=op.f('uq_runbook_run_steps_run_id_position'))
    )


def downgrade():
    op.drop_table('runbook_run_steps')
    with op.batch_alter_table('runbook_runs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_runbook_runs_started_by_id'))
        batch_op.drop_index('ix_runbook_runs_runbook_started')
        batch_op.drop_index(batch_op.f('ix_runbook_runs_job_id'))
        batch_op.drop_index(batch_op.f('ix_runbook_runs_incident_id'))
        batch_op.drop_index(batch_op.f('ix_runbook_runs_alert_id'))

    op.drop_table('runbook_runs')
    op.drop_table('runbook_reminders')
    with op.batch_alter_table('runbook_reviews', schema=None) as batch_op:
        batch_op.drop_index('ix_runbook_reviews_runbook_at')
        batch_op.drop_index(batch_op.f('ix_runbook_reviews_by_id'))

    op.drop_table('runbook_reviews')
    with op.batch_alter_table('runbook_acknowledgements', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_runbook_acknowledgements_user_id'))

    op.drop_table('runbook_acknowledgements')
    with op.batch_alter_table('runbooks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_runbooks_owner_id'))

    op.drop_table('runbooks')
    op.drop_table('runbook_settings')
    op.drop_table('runbook_report_snapshots')
