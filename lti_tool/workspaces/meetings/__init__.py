"""meetings (built in its own module; see views.py)."""

from lti_tool.workspaces.meetings import models, views  # noqa: F401
