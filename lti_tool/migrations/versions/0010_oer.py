"""oer: the network's OER library (collections, nodes, assets, content-addressed blobs)

Revision ID: 0009_oer
Revises: 0009_selfeval_instruments
Create Date: 2026-11-30 10:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0009_oer'
down_revision = '0009_selfeval_instruments'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('oer_blob',
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('sha256', name=op.f('pk_oer_blob'))
    )
    op.create_table('oer_collection',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('network_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=255), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('language', sa.String(length=16), nullable=False),
    sa.Column('keywords', sa.JSON(), nullable=False),
    sa.Column('authors', sa.JSON(), nullable=False),
    sa.Column('licence', sa.String(length=64), nullable=False),
    sa.Column('source', sa.String(length=2048), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by'], ['ws_person.id'], name=op.f('fk_oer_collection_created_by_ws_person'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['network_id'], ['ws_network.id'], name=op.f('fk_oer_collection_network_id_ws_network'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_oer_collection'))
    )
    with op.batch_alter_table('oer_collection', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_oer_collection_network_id'), ['network_id'], unique=False)

    op.create_table('oer_node',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('collection_id', sa.Integer(), nullable=False),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('title', sa.String(length=255), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('url', sa.String(length=2048), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('custom', sa.JSON(), nullable=False),
    sa.Column('authors', sa.JSON(), nullable=False),
    sa.Column('attribution_title', sa.String(length=255), nullable=False),
    sa.Column('licence', sa.String(length=64), nullable=False),
    sa.Column('source', sa.String(length=2048), nullable=False),
    sa.Column('changes', sa.Text(), nullable=False),
    sa.Column('instructor_only', sa.Boolean(), nullable=False),
    sa.Column('blob_sha256', sa.String(length=64), nullable=True),
    sa.Column('filename', sa.String(length=1024), nullable=False),
    sa.Column('media_type', sa.String(length=127), nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['blob_sha256'], ['oer_blob.sha256'], name=op.f('fk_oer_node_blob_sha256_oer_blob'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['collection_id'], ['oer_collection.id'], name=op.f('fk_oer_node_collection_id_oer_collection'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['parent_id'], ['oer_node.id'], name=op.f('fk_oer_node_parent_id_oer_node'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_oer_node'))
    )
    with op.batch_alter_table('oer_node', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_oer_node_blob_sha256'), ['blob_sha256'], unique=False)
        batch_op.create_index(batch_op.f('ix_oer_node_collection_id'), ['collection_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_oer_node_parent_id'), ['parent_id'], unique=False)

    op.create_table('oer_asset',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('node_id', sa.Integer(), nullable=False),
    sa.Column('path', sa.String(length=1024), nullable=False),
    sa.Column('blob_sha256', sa.String(length=64), nullable=False),
    sa.Column('media_type', sa.String(length=127), nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['blob_sha256'], ['oer_blob.sha256'], name=op.f('fk_oer_asset_blob_sha256_oer_blob'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['node_id'], ['oer_node.id'], name=op.f('fk_oer_asset_node_id_oer_node'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_oer_asset')),
    sa.UniqueConstraint('node_id', 'path', name='uq_oer_asset_path')
    )
    with op.batch_alter_table('oer_asset', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_oer_asset_blob_sha256'), ['blob_sha256'], unique=False)
        batch_op.create_index(batch_op.f('ix_oer_asset_node_id'), ['node_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('oer_asset', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_oer_asset_node_id'))
        batch_op.drop_index(batch_op.f('ix_oer_asset_blob_sha256'))
    op.drop_table('oer_asset')
    with op.batch_alter_table('oer_node', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_oer_node_parent_id'))
        batch_op.drop_index(batch_op.f('ix_oer_node_collection_id'))
        batch_op.drop_index(batch_op.f('ix_oer_node_blob_sha256'))
    op.drop_table('oer_node')
    with op.batch_alter_table('oer_collection', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_oer_collection_network_id'))
    op.drop_table('oer_collection')
    op.drop_table('oer_blob')
