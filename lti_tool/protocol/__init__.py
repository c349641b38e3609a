"""LTI 1.3 protocol core: login, launch validation, Advantage services.

Framework-free: no Flask imports. Views in ``lti_tool.lti`` adapt requests to
these functions and map ``LtiError`` subclasses to HTTP answers in one place.
Built on pylti1p3 (registrations, message launch object, Deep Linking, AGS,
NRPS) and hardened where 2.0.0 is weak: single-use state and nonces in a
shared store, strict ``exp``/``aud``/``azp``/``target_link_uri`` checks,
typed errors instead of bare exceptions, JWKS refetch on unknown ``kid``,
cached platform access tokens, cookie-less launches via postMessage storage,
and Dynamic Registration (which pylti1p3 lacks).
"""
