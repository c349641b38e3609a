"""A school network as tests see it: two LMS sites, schools, and a person per role.

``world.as_(persona)`` gives a client bound to that person's launch session,
with ``get``/``post`` that carry the launch id and CSRF token like the pages do.
People launch for real (raw PyJWT-signed tokens); only their network roles are
set directly, as a network manager would assign them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from lti_tool.bridge import bridge
from lti_tool.platforms import PlatformSpec, add_platform
from lti_tool.web import csrf_token
from tests.ltiplatform import INSTRUCTOR, LEARNER, LTI, FakePlatform, login_redirect_params

TOOL_LAUNCH = "http://localhost/lti/launch"
ADMIN = "http://purl.imsglobal.org/vocab/lis/v2/institution/person#Administrator"

#: persona -> (site, sub, LTI roles, network role, school key)
PERSONAS: dict[str, tuple[str, str, list[str], str | None, str | None]] = {
    "manager": ("A", "m-1", [INSTRUCTOR, ADMIN], "manager", None),
    "authority": ("A", "auth-1", [INSTRUCTOR], "authority", None),
    "leader_a": ("A", "lead-a", [INSTRUCTOR], "leader", "A"),
    "media_a": ("A", "media-a", [INSTRUCTOR], "media", "A"),
    "teacher_a": ("A", "teach-a", [INSTRUCTOR], "teacher", "A"),
    "leader_b": ("B", "lead-b", [INSTRUCTOR], "leader", "B"),
    "teacher_b": ("B", "teach-b", [INSTRUCTOR], "teacher", "B"),
    "guest": ("A", "guest-1", [INSTRUCTOR], "guest", None),
    # not in network 1: manager of another network, on site B
    "outsider": ("B", "other-m", [INSTRUCTOR, ADMIN], None, None),
    "learner": ("A", "pupil-1", [LEARNER], None, None),
}
NETWORK_ROLES = ("manager", "authority", "leader_a", "media_a", "teacher_a", "leader_b", "teacher_b", "guest")


class Actor:
    def __init__(self, app: Flask, launch_id: str, person_id: int | None) -> None:
        self.client: FlaskClient = app.test_client(use_cookies=False)
        self.launch_id = launch_id
        self.person_id = person_id
        with app.test_request_context():
            self.csrf = csrf_token(launch_id)

    def _url(self, path: str) -> str:
        return path + ("&" if "?" in path else "?") + "launch=" + self.launch_id

    def get(self, path: str, **kw: Any) -> Any:
        return self.client.get(self._url(path), **kw)

    def post(self, path: str, data: dict[str, Any] | None = None, **kw: Any) -> Any:
        body = {"launch": self.launch_id, "csrf": self.csrf}
        body.update(data or {})
        return self.client.post(path, data=body, **kw)


@dataclass
class World:
    app: Flask
    sites: dict[str, FakePlatform]
    network_id: int = 0
    other_network_id: int = 0
    schools: dict[str, int] = field(default_factory=dict)
    actors: dict[str, Actor] = field(default_factory=dict)

    def as_(self, persona: str) -> Actor:
        return self.actors[persona]


def _launch(app: Flask, site: FakePlatform, sub: str, roles: list[str], context_id: str, name: str) -> str:
    client = app.test_client(use_cookies=True)
    resp = client.post("/lti/login", data=site.login_params(TOOL_LAUNCH))
    auth = login_redirect_params(resp.headers["Location"])
    body = site.claims(auth["nonce"], TOOL_LAUNCH, roles=roles, sub=sub,
                       **{LTI + "context": {"id": context_id, "title": f"Kurs {context_id}", "label": context_id},
                          LTI + "custom": {"feature": "workspace"}, "name": name})
    resp = client.post("/lti/launch", data={"id_token": site.sign(body), "state": auth["state"]})
    assert resp.status_code == 303, resp.headers.get("X-LTI-Error")
    return re.search(r"launch=([\w-]+)", resp.headers["Location"]).group(1)


def build_world(app: Flask) -> World:
    from lti_tool.db import db_session
    from lti_tool.models import LtiContext
    from lti_tool.workspaces.access import person_for_user
    from lti_tool.workspaces.models import SchoolContext
    from lti_tool.workspaces.services import add_school, create_network, ensure_member

    sites = {
        "A": FakePlatform(issuer="https://gesamtschule.lms.example", client_id="ca", deployment_id="1", jwks_url=""),
        "B": FakePlatform(issuer="https://gymnasium.lms.example", client_id="cb", deployment_id="1", jwks_url=""),
    }
    with bridge(app).db.sessions() as s:
        for p in sites.values():
            add_platform(s, PlatformSpec(issuer=p.issuer, client_id=p.client_id, auth_login_url=p.auth_login_url,
                                         auth_token_url=p.auth_token_url, key_set=p.jwks(), deployment_ids=["1"]))
    world = World(app, sites)
    launch_ids = {}
    for persona, (site, sub, roles, _role, _school) in PERSONAS.items():
        course = f"course-{site}"
        launch_ids[persona] = _launch(app, sites[site], sub, roles, course, persona.replace("_", " ").title())
    with app.test_request_context():
        s = db_session()
        net = create_network(s, name="Lernen 25", region="Musterstadt", school_authority="Stadt Musterstadt",
                             school_years="2026/27")
        other = create_network(s, name="Digitale Schule Nord", region="Nordstadt")
        world.network_id, world.other_network_id = net.id, other.id
        for key, (name, number) in {"A": ("Gesamtschule Musterstadt", "100001"),
                                    "B": ("Gymnasium Beispielburg", "100002")}.items():
            school = add_school(s, net, name=name, school_number=number, school_type="").school
            world.schools[key] = school.id
            ctx = s.query(LtiContext).filter(LtiContext.context_id == f"course-{key}").one()
            s.add(SchoolContext(school_id=school.id, context_pk=ctx.id))
        from lti_tool.models import LtiUser

        store = bridge(app).store
        for persona, (_site, _sub, _roles, role, school_key) in PERSONAS.items():
            data = store.get("launch:" + launch_ids[persona])
            person = person_for_user(data["user_pk"])
            assert person is not None
            if role:
                m = ensure_member(s, net.id, person, role, world.schools.get(school_key) if school_key else None)
                m.role, m.school_id = role, world.schools.get(school_key) if school_key else None
            if persona == "outsider":
                ensure_member(s, other.id, person, "manager")
            world.actors[persona] = Actor(app, launch_ids[persona], person.id)
        s.commit()
        assert s.query(LtiUser).count() == len(PERSONAS)
    return world
