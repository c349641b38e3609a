"""Network managers' instrument pages: the shipped and the network's own instruments.

Every route needs the permission that manages rounds (``network.manage``):
other members get 403, people outside the network 404. Uploaded versions are
loaded by key *within the URL's network*; another network's key is a 404.
"""

from __future__ import annotations

from typing import Any

from flask import Response, abort, redirect, request
from flask_babel import get_locale
from flask_babel import gettext as _

from lti_tool import web
from lti_tool.db import db_session
from lti_tool.selfeval import library
from lti_tool.selfeval.models import SelfevalInstrument
from lti_tool.selfeval.views import bp
from lti_tool.workspaces.access import Viewer, viewer
from lti_tool.workspaces.views import post_guard, render

#: who may see, upload, withdraw and delete instruments: whoever manages rounds
PERMISSION = "network.manage"
DONE = ("added", "unchanged", "withdrawn", "restored", "deleted")



def _lang(v: Viewer) -> str:
    """Instrument texts follow the page language (launch locale, or ?lang=)."""
    locale = get_locale()
    return str(locale)[:2] if locale else (getattr(v.launch, "locale", None) or "de")[:2]


def _row_of(network_id: int, key: str) -> SelfevalInstrument:
    row = library.own_row(db_session(), network_id, key)
    if row is None:
        abort(404, description=_("This instrument is not one of the network's own instruments."))
    return row


def _page(v: Viewer, *, error: str | None = None, findings: list[Any] | None = None, status: int = 200) -> Any:
    s = db_session()
    network_id = v.network.id
    rows = library.own_rows(s, network_id)
    own: dict[str, list[tuple[SelfevalInstrument, Any]]] = {}
    for row in rows:
        own.setdefault(row.instrument_id, []).append((row, library.parsed(row)))
    page = render(
        "selfeval/instruments.html", v, shipped=library.shipped(), own=own, usage=library.usage(s, network_id),
        lang=_lang(v), upload_error=error, findings=findings or [],
        done=request.args.get("done") if request.args.get("done") in DONE else None,
        max_kb=library.MAX_BYTES // 1024, example_id=library.suggest_id("selbstevaluationsraster", v.network.name),
    )
    return page, status


@bp.get("/networks/<int:network_id>/instruments", endpoint="instruments")
def instruments_page(network_id: int) -> Any:
    return _page(viewer(network_id, PERMISSION))


@bp.post("/networks/<int:network_id>/instruments", endpoint="instruments_upload")
def instruments_upload(network_id: int) -> Any:
    post_guard()
    v = viewer(network_id, PERMISSION)
    file = request.files.get("file")
    if file is None or not file.filename:
        return _page(v, error=_("Please choose a file."), status=400)
    try:
        data = file.stream.read(library.MAX_BYTES + 1)
    finally:
        file.close()  # large uploads are spooled to a temporary file
    try:
        added = library.add(db_session(), network_id, data, file.filename, v.person.id)
    except library.InstrumentRefused as exc:
        db_session().rollback()
        return _page(v, error=exc.message, findings=exc.findings, status=400)
    done = "added" if added.created else "unchanged"
    return redirect(web.lurl("selfeval.instrument_preview", network_id=network_id, key=added.row.key, done=done),
                    code=303)


@bp.get("/networks/<int:network_id>/instruments/<key>", endpoint="instrument_preview")
def instrument_preview(network_id: int, key: str) -> Any:
    v = viewer(network_id, PERMISSION)
    s = db_session()
    row = library.own_row(s, network_id, key)
    instrument = library.parsed(row) if row is not None else library.shipped().get(key)
    if instrument is None:
        abort(404, description=_("This instrument does not exist in this network."))
    lang = _lang(v)
    return render(
        "selfeval/instrument_preview.html", v, instrument=instrument, row=row, lang=lang,
        rounds=library.rounds_using(s, network_id, key),
        group_labels={g.id: g.label.get(lang) for g in instrument.respondent_groups},
        done=request.args.get("done") if request.args.get("done") in DONE else None,
    )


@bp.get("/networks/<int:network_id>/instruments/<key>/file", endpoint="instrument_file")
def instrument_file(network_id: int, key: str) -> Any:
    """The stored file as uploaded (or the shipped file, to start a variant from)."""
    viewer(network_id, PERMISSION)
    row = library.own_row(db_session(), network_id, key)
    if row is not None:
        data, fmt, name = bytes(row.content), row.format, f"{row.instrument_id}-{row.version}"
    else:
        found = library.shipped_file(key)
        if found is None:
            abort(404, description=_("This instrument does not exist in this network."))
        (data, fmt), name = found, key.replace("@", "-")
    resp = Response(data, mimetype=library.MEDIA_TYPES[fmt])
    resp.headers["Content-Disposition"] = f'attachment; filename="{library.safe_filename(name)}.{fmt}"'
    resp.headers["X-Content-Type-Options"] = "nosniff"
    resp.headers["Cache-Control"] = "no-store"
    return resp


@bp.post("/networks/<int:network_id>/instruments/<key>/withdraw", endpoint="instrument_withdraw")
def instrument_withdraw(network_id: int, key: str) -> Any:
    """``action=withdraw`` hides a version from new rounds; ``action=restore`` offers it again."""
    post_guard()
    viewer(network_id, PERMISSION)
    row = _row_of(network_id, key)
    action = request.form.get("action", "withdraw")
    if action == "withdraw":
        library.withdraw(db_session(), row)
        done = "withdrawn"
    elif action == "restore":
        library.restore(db_session(), row)
        done = "restored"
    else:
        abort(400, description=_("Unknown action."))
    return redirect(web.lurl("selfeval.instruments", network_id=network_id, done=done), code=303)


@bp.post("/networks/<int:network_id>/instruments/<key>/delete", endpoint="instrument_delete")
def instrument_delete(network_id: int, key: str) -> Any:
    post_guard()
    viewer(network_id, PERMISSION)
    row = _row_of(network_id, key)
    if request.form.get("confirm") != "yes":
        abort(400, description=_("Please confirm the deletion."))
    try:
        library.delete(db_session(), row)
    except library.InstrumentInUse:
        abort(409, description=_("This version is used by a round and cannot be deleted. "
                                 "Withdraw it instead: it is then no longer offered for new rounds."))
    return redirect(web.lurl("selfeval.instruments", network_id=network_id, done="deleted"), code=303)
