"""groups: working groups (Arbeitsgruppen), members, materials, discussion, results

Revision ID: 0005_groups
Revises: 0004_board
Create Date: 2026-11-23 15:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0005_groups'
down_revision = '0004_board'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('ws_group',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('network_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=255), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('handlungsfeld', sa.String(length=32), nullable=True),
    sa.Column('coordinator_member_id', sa.Integer(), nullable=True),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['coordinator_member_id'], ['ws_member.id'], name=op.f('fk_ws_group_coordinator_member_id_ws_member'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['created_by'], ['ws_person.id'], name=op.f('fk_ws_group_created_by_ws_person'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['network_id'], ['ws_network.id'], name=op.f('fk_ws_group_network_id_ws_network'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ws_group'))
    )
    with op.batch_alter_table('ws_group', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ws_group_network_id'), ['network_id'], unique=False)

    op.create_table('ws_group_material',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('group_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('title', sa.String(length=255), nullable=False),
    sa.Column('author', sa.String(length=255), nullable=False),
    sa.Column('licence', sa.String(length=32), nullable=False),
    sa.Column('source_url', sa.String(length=2048), nullable=False),
    sa.Column('upload_id', sa.Integer(), nullable=True),
    sa.Column('link_url', sa.String(length=2048), nullable=False),
    sa.Column('added_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['added_by'], ['ws_person.id'], name=op.f('fk_ws_group_material_added_by_ws_person'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['group_id'], ['ws_group.id'], name=op.f('fk_ws_group_material_group_id_ws_group'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['upload_id'], ['ws_upload.id'], name=op.f('fk_ws_group_material_upload_id_ws_upload'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ws_group_material'))
    )
    with op.batch_alter_table('ws_group_material', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ws_group_material_group_id'), ['group_id'], unique=False)

    op.create_table('ws_group_member',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('group_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['group_id'], ['ws_group.id'], name=op.f('fk_ws_group_member_group_id_ws_group'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['member_id'], ['ws_member.id'], name=op.f('fk_ws_group_member_member_id_ws_member'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ws_group_member')),
    sa.UniqueConstraint('group_id', 'member_id', name='uq_ws_group_member')
    )
    with op.batch_alter_table('ws_group_member', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ws_group_member_group_id'), ['group_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_ws_group_member_member_id'), ['member_id'], unique=False)

    op.create_table('ws_group_post',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('group_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['ws_person.id'], name=op.f('fk_ws_group_post_author_id_ws_person'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['group_id'], ['ws_group.id'], name=op.f('fk_ws_group_post_group_id_ws_group'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ws_group_post'))
    )
    with op.batch_alter_table('ws_group_post', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ws_group_post_group_id'), ['group_id'], unique=False)

    op.create_table('ws_group_result',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('group_id', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('published_by', sa.Integer(), nullable=True),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['group_id'], ['ws_group.id'], name=op.f('fk_ws_group_result_group_id_ws_group'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['published_by'], ['ws_person.id'], name=op.f('fk_ws_group_result_published_by_ws_person'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ws_group_result'))
    )
    with op.batch_alter_table('ws_group_result', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ws_group_result_group_id'), ['group_id'], unique=False)

    op.create_table('ws_group_result_material',
    sa.Column('result_id', sa.Integer(), nullable=False),
    sa.Column('material_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['material_id'], ['ws_group_material.id'], name=op.f('fk_ws_group_result_material_material_id_ws_group_material'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['result_id'], ['ws_group_result.id'], name=op.f('fk_ws_group_result_material_result_id_ws_group_result'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('result_id', 'material_id', name=op.f('pk_ws_group_result_material'))
    )


def downgrade() -> None:
    op.drop_table('ws_group_result_material')
    with op.batch_alter_table('ws_group_result', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ws_group_result_group_id'))

    op.drop_table('ws_group_result')
    with op.batch_alter_table('ws_group_post', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ws_group_post_group_id'))

    op.drop_table('ws_group_post')
    with op.batch_alter_table('ws_group_member', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ws_group_member_member_id'))
        batch_op.drop_index(batch_op.f('ix_ws_group_member_group_id'))

    op.drop_table('ws_group_member')
    with op.batch_alter_table('ws_group_material', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ws_group_material_group_id'))

    op.drop_table('ws_group_material')
    with op.batch_alter_table('ws_group', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ws_group_network_id'))

    op.drop_table('ws_group')
