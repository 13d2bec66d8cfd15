"""performance: daily roll-ups of job runs older than the retention period

Revision ID: 0014_performance
Revises: 0013_correctness
Create Date: 2026-12-03 11:30:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0014_performance'
down_revision = '0013_correctness'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('watch_job_run_days',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('job_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('runs', sa.Integer(), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('late', sa.Integer(), nullable=False),
    sa.Column('timed', sa.Integer(), nullable=False),
    sa.Column('duration_total_seconds', sa.Float(), nullable=False),
    sa.Column('duration_max_seconds', sa.Float(), nullable=True),
    sa.ForeignKeyConstraint(['job_id'], ['watch_jobs.id'], name=op.f('fk_watch_job_run_days_job_id_watch_jobs'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_watch_job_run_days')),
    sa.UniqueConstraint('job_id', 'day', name=op.f('uq_watch_job_run_days_job_id_day'))
    )


def downgrade():
    op.drop_table('watch_job_run_days')
