"""The ``lti`` blueprint: login, launch, keys, configuration, registration, deep linking."""

from flask import Blueprint

bp = Blueprint("lti", __name__, url_prefix="/lti")

# Views register themselves on ``bp``.
from lti_tool.lti import register, views  # noqa: E402,F401
