"""The ``lti`` blueprint: login, launch, keys, configuration, deep linking."""

from flask import Blueprint

bp = Blueprint("lti", __name__, url_prefix="/lti")

from lti_tool.lti import (
    register,  # noqa: E402,F401
    views,  # noqa: E402,F401
)
