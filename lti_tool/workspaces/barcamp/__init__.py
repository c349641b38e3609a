"""barcamp (built in its own module; see views.py)."""

from lti_tool.workspaces.barcamp import models, views  # noqa: F401
