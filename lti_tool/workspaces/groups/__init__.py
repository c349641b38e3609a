"""groups (built in its own module; see views.py)."""

from lti_tool.workspaces.groups import models, views  # noqa: F401
