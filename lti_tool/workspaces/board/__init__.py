"""board (built in its own module; see views.py)."""

from lti_tool.workspaces.board import models, views  # noqa: F401
