"""vendor support links: the apps and jobs of the watch list a vendor supports

Revision ID: 0009_vendor_support_links
Revises: 0008_readiness
Create Date: 2026-12-02 11:49:08.065262

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0009_vendor_support_links'
down_revision = '0008_readiness'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('vendor_support_links',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('vendor_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('target_id', sa.Integer(), nullable=False),
    sa.Column('label', sa.String(length=200), nullable=False),
    sa.CheckConstraint("kind IN ('app', 'job')", name=op.f('ck_vendor_support_links_kind_known')),
    sa.ForeignKeyConstraint(['vendor_id'], ['vendors.id'], name=op.f('fk_vendor_support_links_vendor_id_vendors'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_vendor_support_links')),
    sa.UniqueConstraint('vendor_id', 'kind', 'target_id', name=op.f('uq_vendor_support_links_vendor_id_kind_target_id'))
    )
    with op.batch_alter_table('vendor_support_links', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_vendor_support_links_vendor_id'), ['vendor_id'], unique=False)



def downgrade():
    with op.batch_alter_table('vendor_support_links', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_vendor_support_links_vendor_id'))

    op.drop_table('vendor_support_links')
