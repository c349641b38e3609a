from __future__ import annotations

from tests.conftest import count_rows
from lti_tool.models import LtiUser, LtiContext, ResourceLink, Membership


def test_teacher_launch_lands_on_setup_page(app, launcher):
    resp = launcher.resource_launch()
    assert resp.status_code == 303, resp.data
    page = launcher.client.get(resp.headers["Location"])
    assert page.status_code == 200
    assert b"Lab Course 101" in page.data
    assert count_rows(app, LtiUser, LtiContext, ResourceLink, Membership) == {
        "lti_user": 1, "lti_context": 1, "resource_link": 1, "membership": 1,
    }
