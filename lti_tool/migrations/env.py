"""Alembic environment: targets ``Base.metadata``; the URL comes from settings."""

from __future__ import annotations

from alembic import context

from lti_tool import models  # noqa: F401  (registers core tables)
from lti_tool.db import Base, make_engine
from lti_tool.demo import models as _demo_models  # noqa: F401,E402
from lti_tool.oer import models as _oer  # noqa: F401,E402
from lti_tool.selfeval import models as _selfeval  # noqa: F401,E402
from lti_tool.sync import models as _sync  # noqa: F401,E402
from lti_tool.workspaces import models as _ws_models  # noqa: F401,E402
from lti_tool.workspaces.barcamp import models as _barcamp  # noqa: F401,E402
from lti_tool.workspaces.board import models as _board  # noqa: F401,E402
from lti_tool.workspaces.groups import models as _groups  # noqa: F401,E402
from lti_tool.workspaces.meetings import models as _meetings  # noqa: F401,E402

config = context.config
target_metadata = Base.metadata


def run_migrations_offline() -> None:
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
        compare_server_default=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    url = config.get_main_option("sqlalchemy.url")
    assert url
    engine = make_engine(url)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            compare_server_default=True,
            render_as_batch=connection.dialect.name == "sqlite",
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
