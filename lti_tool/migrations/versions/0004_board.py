"""board: Zukunftswerkstatt notes, goals, indicators, measures

Revision ID: 0004_board
Revises: 0003_workspaces
Create Date: 2026-11-23 16:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0004_board'
down_revision = '0003_workspaces'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('ws_board_note',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('network_id', sa.Integer(), nullable=False),
    sa.Column('phase', sa.String(length=16), nullable=False),
    sa.Column('title', sa.String(length=255), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('handlungsfeld', sa.String(length=32), nullable=True),
    sa.Column('school_id', sa.Integer(), nullable=True),
    sa.Column('internal', sa.Boolean(), nullable=False),
    sa.Column('source', sa.String(length=32), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("phase IN ('bestand', 'utopie')", name=op.f('ck_ws_board_note_phase')),
    sa.ForeignKeyConstraint(['author_id'], ['ws_person.id'], name=op.f('fk_ws_board_note_author_id_ws_person'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['network_id'], ['ws_network.id'], name=op.f('fk_ws_board_note_network_id_ws_network'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['school_id'], ['ws_school.id'], name=op.f('fk_ws_board_note_school_id_ws_school'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ws_board_note'))
    )
    with op.batch_alter_table('ws_board_note', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ws_board_note_network_id'), ['network_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_ws_board_note_school_id'), ['school_id'], unique=False)

    op.create_table('ws_board_goal',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('network_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=255), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('handlungsfeld', sa.String(length=32), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=True),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by'], ['ws_person.id'], name=op.f('fk_ws_board_goal_created_by_ws_person'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['network_id'], ['ws_network.id'], name=op.f('fk_ws_board_goal_network_id_ws_network'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['school_id'], ['ws_school.id'], name=op.f('fk_ws_board_goal_school_id_ws_school'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ws_board_goal'))
    )
    with op.batch_alter_table('ws_board_goal', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ws_board_goal_network_id'), ['network_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_ws_board_goal_school_id'), ['school_id'], unique=False)

    op.create_table('ws_board_indicator',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('goal_id', sa.Integer(), nullable=False),
    sa.Column('text', sa.String(length=255), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['goal_id'], ['ws_board_goal.id'], name=op.f('fk_ws_board_indicator_goal_id_ws_board_goal'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ws_board_indicator'))
    )
    with op.batch_alter_table('ws_board_indicator', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ws_board_indicator_goal_id'), ['goal_id'], unique=False)

    op.create_table('ws_board_measure',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('goal_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=255), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=True),
    sa.Column('due', sa.Date(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status IN ('open', 'in_progress', 'done')", name=op.f('ck_ws_board_measure_status')),
    sa.ForeignKeyConstraint(['goal_id'], ['ws_board_goal.id'], name=op.f('fk_ws_board_measure_goal_id_ws_board_goal'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['owner_id'], ['ws_person.id'], name=op.f('fk_ws_board_measure_owner_id_ws_person'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ws_board_measure'))
    )
    with op.batch_alter_table('ws_board_measure', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ws_board_measure_goal_id'), ['goal_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_ws_board_measure_owner_id'), ['owner_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('ws_board_measure', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ws_board_measure_owner_id'))
        batch_op.drop_index(batch_op.f('ix_ws_board_measure_goal_id'))
    op.drop_table('ws_board_measure')
    with op.batch_alter_table('ws_board_indicator', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ws_board_indicator_goal_id'))
    op.drop_table('ws_board_indicator')
    with op.batch_alter_table('ws_board_goal', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ws_board_goal_school_id'))
        batch_op.drop_index(batch_op.f('ix_ws_board_goal_network_id'))
    op.drop_table('ws_board_goal')
    with op.batch_alter_table('ws_board_note', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ws_board_note_school_id'))
        batch_op.drop_index(batch_op.f('ix_ws_board_note_network_id'))
    op.drop_table('ws_board_note')
