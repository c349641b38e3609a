"""LTI Dynamic Registration endpoint: the LMS opens it, the tool registers itself.

Moodle 3.10+ ("Tool URL" → "Add LTI Advantage") opens
``/lti/register?openid_configuration=…&registration_token=…`` in a new window or
an iframe. The protocol work is in :mod:`lti_tool.protocol.dynreg`; this view
stores the result and answers with a page that asks the LMS to close it.
"""

from __future__ import annotations

from flask import Response, make_response, render_template, request

from lti_tool.bridge import bridge
from lti_tool.lti import bp
from lti_tool.platforms import PlatformError, PlatformSpec, add_platform
from lti_tool.protocol import dynreg
from lti_tool.protocol.errors import DynamicRegistrationError
from lti_tool.toolconfig import tool_configuration


@bp.get("/register")
def register() -> Response:
    b = bridge()
    settings = b.settings
    result = dynreg.register(
        b.http,
        request.args.get("openid_configuration"),
        request.args.get("registration_token"),
        tool_configuration(settings.base_url),
        timeout=settings.http_timeout,
        allow_insecure=settings.allow_insecure_platforms,
        lang=settings.default_locale,
        allowed_hosts=settings.registration_hosts,
    )
    known = b.registry.has_issuer(result.issuer)
    spec = PlatformSpec(
        issuer=result.issuer,
        client_id=result.client_id,
        auth_login_url=result.auth_login_url,
        auth_token_url=result.auth_token_url,
        key_set_url=result.key_set_url,
        deployment_ids=[result.deployment_id] if result.deployment_id else [],
        # A platform the operator already named keeps its name.
        name="" if known else result.name,
        product_family=result.product_family,
        source="dynamic",
    )
    with b.db.sessions() as s:
        try:
            add_platform(s, spec, allow_http=settings.allow_insecure_platforms, update=True)
        except PlatformError as exc:
            s.rollback()
            raise DynamicRegistrationError(
                "The platform's registration answer cannot be stored: %(reason)s",
                code="registration_answer_invalid",
                status=502,
                reason=exc.message,
            ) from None
    resp = make_response(render_template("lti/registered.html", result=result))
    resp.headers["Cache-Control"] = "no-store"
    # The registration token is in this page's URL: do not pass it on.
    resp.headers["Referrer-Policy"] = "no-referrer"
    return resp
