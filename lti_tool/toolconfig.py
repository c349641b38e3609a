"""What an LMS administrator needs to register the tool: one source for
``/lti/config.json``, the ``/lti/setup`` page and Dynamic Registration."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from lti_tool.protocol import claims as c

TOOL_NAME = "LMS Bridge"
TOOL_DESCRIPTION = {
    "de": "Netzwerk-Arbeitsbereiche, Selbstevaluation und OER-Pakete für Schulnetzwerke.",
    "en": "Network workspaces, self-evaluation and OER cartridges for school networks.",
}
#: Claims the tool asks for (Dynamic Registration §3.3; manual registration "share" options).
CLAIMS = ["iss", "sub", "name", "given_name", "family_name"]


def tool_configuration(base_url: str) -> dict[str, Any]:
    base = base_url.rstrip("/")
    return {
        "title": TOOL_NAME,
        "description": TOOL_DESCRIPTION,
        "lti_version": "1.3.0",
        "oidc_login_url": base + "/lti/login",
        "redirect_uris": [base + "/lti/launch"],
        "target_link_uri": base + "/lti/launch",
        "deep_linking_url": base + "/lti/launch",
        "jwks_url": base + "/lti/jwks.json",
        "dynamic_registration_url": base + "/lti/register",
        "domain": urlsplit(base).netloc,
        "public_key_type": "Keyset URL",
        "scopes": list(c.TOOL_SCOPES),
        "claims": CLAIMS,
        "messages": [c.RESOURCE_LINK_REQUEST, c.DEEP_LINKING_REQUEST],
        "custom_parameters": {},
        "privacy": {
            "share_name": True,
            "share_email": False,
            "note": "The tool stores a keyed pseudonym of the LMS user id and the display name; no e-mail.",
        },
    }
