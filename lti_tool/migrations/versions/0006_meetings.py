"""meetings: the network year (meetings of the bodies, decisions, tasks)

Revision ID: 0006_meetings
Revises: 0005_groups
Create Date: 2026-11-23 15:20:00

ws_meeting.group_id references ws_group, created by the revision before (0005_groups).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0006_meetings'
down_revision = '0005_groups'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('ws_meeting',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('network_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=255), nullable=False),
    sa.Column('body', sa.String(length=32), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('place', sa.String(length=255), nullable=False),
    sa.Column('video_url', sa.String(length=2048), nullable=False),
    sa.Column('group_id', sa.Integer(), nullable=True),
    sa.Column('agenda', sa.Text(), nullable=False),
    sa.Column('minutes', sa.Text(), nullable=False),
    sa.Column('minutes_published_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by'], ['ws_person.id'], name=op.f('fk_ws_meeting_created_by_ws_person'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['group_id'], ['ws_group.id'], name=op.f('fk_ws_meeting_group_id_ws_group'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['network_id'], ['ws_network.id'], name=op.f('fk_ws_meeting_network_id_ws_network'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ws_meeting'))
    )
    with op.batch_alter_table('ws_meeting', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ws_meeting_group_id'), ['group_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_ws_meeting_network_id'), ['network_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_ws_meeting_starts_at'), ['starts_at'], unique=False)

    op.create_table('ws_meeting_decision',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('meeting_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('text', sa.String(length=500), nullable=False),
    sa.ForeignKeyConstraint(['meeting_id'], ['ws_meeting.id'], name=op.f('fk_ws_meeting_decision_meeting_id_ws_meeting'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ws_meeting_decision'))
    )
    with op.batch_alter_table('ws_meeting_decision', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ws_meeting_decision_meeting_id'), ['meeting_id'], unique=False)

    op.create_table('ws_meeting_task',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('meeting_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=255), nullable=False),
    sa.Column('assignee_member_id', sa.Integer(), nullable=True),
    sa.Column('due', sa.Date(), nullable=True),
    sa.Column('done', sa.Boolean(), nullable=False),
    sa.Column('done_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['assignee_member_id'], ['ws_member.id'], name=op.f('fk_ws_meeting_task_assignee_member_id_ws_member'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['meeting_id'], ['ws_meeting.id'], name=op.f('fk_ws_meeting_task_meeting_id_ws_meeting'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ws_meeting_task'))
    )
    with op.batch_alter_table('ws_meeting_task', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ws_meeting_task_assignee_member_id'), ['assignee_member_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_ws_meeting_task_meeting_id'), ['meeting_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('ws_meeting_task', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ws_meeting_task_meeting_id'))
        batch_op.drop_index(batch_op.f('ix_ws_meeting_task_assignee_member_id'))

    op.drop_table('ws_meeting_task')
    with op.batch_alter_table('ws_meeting_decision', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ws_meeting_decision_meeting_id'))

    op.drop_table('ws_meeting_decision')
    with op.batch_alter_table('ws_meeting', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ws_meeting_starts_at'))
        batch_op.drop_index(batch_op.f('ix_ws_meeting_network_id'))
        batch_op.drop_index(batch_op.f('ix_ws_meeting_group_id'))

    op.drop_table('ws_meeting')
