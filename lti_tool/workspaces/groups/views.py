"""Working groups (*Arbeitsgruppen*): members, shared material, discussion, results.

Who may do what (on top of ``groups.view`` for every page):

- everybody in the network sees groups, their members, materials and results;
- the discussion is for the group's members and the network managers;
- ``groups.create`` starts a group; ``groups.join`` joins it; anyone leaves;
- the group's coordinator and the managers (``groups.moderate``) edit the
  group, add and remove members and publish results to the network;
- group members (and managers) add material and posts; authors delete their
  own material and posts, managers any.
"""

from __future__ import annotations

from typing import Any

from flask import abort, redirect, request, send_file
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from lti_tool import web
from lti_tool.db import db_session, utcnow
from lti_tool.workspaces import activity, bp
from lti_tool.workspaces.access import Viewer, viewer
from lti_tool.workspaces.groups.models import (
    LICENCES,
    OPEN_LICENCES,
    Group,
    GroupMaterial,
    GroupMembership,
    GroupPost,
    GroupResult,
)
from lti_tool.workspaces.meetings.forms import as_utc, html_to_text, http_url
from lti_tool.workspaces.models import NetworkMember, Person, Upload
from lti_tool.workspaces.roles import HANDLUNGSFELD_KEYS, HANDLUNGSFELDER
from lti_tool.workspaces.text import TextError, clean_html, plain, rich
from lti_tool.workspaces.uploads import UploadError, save_upload, upload_path
from lti_tool.workspaces.views import post_guard, render

VIEW, CREATE, JOIN, MODERATE = "groups.view", "groups.create", "groups.join", "groups.moderate"

F_TITLE = _l("Title")
F_AUTHOR = _l("Author")
F_LINK = _l("Link")
F_SOURCE = _l("Source")
F_POST = _l("Post")
F_RESULT = _l("Result")


def may(v: Viewer, permission: str) -> bool:
    # groups.moderate: edit any group, add/remove members, delete any post or material, delete a group
    return v.can(permission)


# -- loading and roles inside a group ----------------------------------------------------


def load_group(v: Viewer, group_id: int) -> Group:
    group = db_session().get(Group, group_id)
    if group is None or group.network_id != v.network.id:
        abort(404, description=_("This working group does not exist in this network."))
    return group


def _child(model: Any, group: Group, child_id: int) -> Any:
    row = db_session().get(model, child_id)
    if row is None or row.group_id != group.id:
        abort(404)
    return row


def is_member(v: Viewer, group: Group) -> bool:
    return any(ms.member_id == v.member.id for ms in group.memberships)


def is_coordinator(v: Viewer, group: Group) -> bool:
    return group.coordinator_member_id is not None and group.coordinator_member_id == v.member.id


def can_lead(v: Viewer, group: Group) -> bool:
    return may(v, MODERATE) or is_coordinator(v, group)


def can_contribute(v: Viewer, group: Group) -> bool:
    return may(v, MODERATE) or is_member(v, group)


def require(condition: bool, message: str) -> None:
    if not condition:
        abort(403, description=message)


def network_members(network_id: int) -> list[tuple[NetworkMember, Person]]:
    return list(
        db_session().execute(
            select(NetworkMember, Person).join(Person, Person.id == NetworkMember.person_id)
            .where(NetworkMember.network_id == network_id).order_by(Person.display_name, NetworkMember.id)
        ).all()
    )


def person_names(network_id: int) -> dict[int, str]:
    return {p.id: p.display_name for _m, p in network_members(network_id)}


def group_path(group: Group) -> str:
    """The group's path for activity entries (no #fragment: the overview appends the launch id)."""
    return f"/w/{group.network_id}/groups/{group.id}"


def to_group(group: Group, anchor: str = "") -> Any:
    url = web.lurl("workspaces.group", network_id=group.network_id, group_id=group.id)
    return redirect(url + (f"#{anchor}" if anchor else ""), code=303)


def helpers() -> dict[str, Any]:
    return {"fields": dict(HANDLUNGSFELDER), "licences": LICENCES, "open_licences": OPEN_LICENCES, "rich": rich,
            "as_utc": as_utc}


# -- list, create --------------------------------------------------------------------------


@bp.get("/<int:network_id>/groups")
def groups(network_id: int) -> str:
    v = viewer(network_id, VIEW)
    s = db_session()
    feld = request.args.get("feld") or ""
    q = select(Group).where(Group.network_id == network_id).order_by(Group.title, Group.id)
    if feld in HANDLUNGSFELD_KEYS:
        q = q.where(Group.handlungsfeld == feld)
    else:
        feld = ""
    rows = list(s.scalars(q))
    members = {m.id: p.display_name for m, p in network_members(network_id)}
    counts = dict(s.execute(
        select(GroupMaterial.group_id, func.count()).join(Group, Group.id == GroupMaterial.group_id)
        .where(Group.network_id == network_id).group_by(GroupMaterial.group_id)
    ).all())
    return render("workspaces/groups/list.html", v, groups=rows, members=members, material_counts=counts, feld=feld,
                  mine={g.id for g in rows if is_member(v, g)}, can_create=v.can(CREATE), **helpers())


def _group_form(v: Viewer, group: Group | None, values: dict[str, str], error: str | None = None) -> str:
    if group is None:
        choices = network_members(v.network.id)
    else:
        ids = {ms.member_id for ms in group.memberships}
        choices = [(m, p) for m, p in network_members(v.network.id) if m.id in ids]
    return render("workspaces/groups/form.html", v, group=group, values=values, coordinators=choices,
                  can_delete=group is not None and may(v, MODERATE), error=error, **helpers())


def _read_group(form: Any, allowed_coordinators: set[int]) -> dict[str, Any]:
    title = plain(form.get("title"), field=str(F_TITLE), max_length=200)
    description = clean_html(form.get("description"))
    feld = (form.get("handlungsfeld") or "").strip()
    if feld and feld not in HANDLUNGSFELD_KEYS:
        raise TextError(_("Please choose one of the seven Handlungsfelder."))
    raw = (form.get("coordinator") or "").strip()
    if not raw.isdigit() or int(raw) not in allowed_coordinators:
        raise TextError(_("Please choose a coordinator from the members."))
    return {"title": title, "description": description, "handlungsfeld": feld or None,
            "coordinator_member_id": int(raw)}


@bp.get("/<int:network_id>/groups/new")
def group_new(network_id: int) -> str:
    v = viewer(network_id, CREATE)
    return _group_form(v, None, {"coordinator": str(v.member.id)})


@bp.post("/<int:network_id>/groups")
def group_create(network_id: int) -> Any:
    post_guard()
    v = viewer(network_id, CREATE)
    s = db_session()
    try:
        data = _read_group(request.form, {m.id for m, _p in network_members(network_id)})
    except TextError as exc:
        return _group_form(v, None, dict(request.form.items()), str(exc)), 400
    group = Group(network_id=network_id, created_by=v.person.id, **data)
    s.add(group)
    s.flush()
    for member_id in {v.member.id, data["coordinator_member_id"]}:
        s.add(GroupMembership(group_id=group.id, member_id=member_id))
    activity.record(network_id, v.person.id, "group.created", group.title, group_path(group), "network")
    s.commit()
    return to_group(group)


# -- one group ---------------------------------------------------------------------------------


def _detail(v: Viewer, group: Group, error: str | None = None, forms: dict[str, dict[str, str]] | None = None) -> str:
    from lti_tool.workspaces.meetings.forms import local
    from lti_tool.workspaces.meetings.models import Meeting

    s = db_session()
    everyone = network_members(v.network.id)
    by_member = {m.id: (m, p) for m, p in everyone}
    member_ids = {ms.member_id for ms in group.memberships}
    group_members = [by_member[i] for i in sorted(member_ids, key=lambda i: (by_member[i][1].display_name, i))
                     if i in by_member]
    uploads = {u.id: u for u in s.scalars(select(Upload).where(
        Upload.id.in_([m.upload_id for m in group.materials if m.upload_id])))} if group.materials else {}
    meetings = list(s.scalars(select(Meeting).where(Meeting.group_id == group.id, Meeting.network_id == v.network.id)
                              .order_by(Meeting.starts_at)))
    return render(
        "workspaces/groups/detail.html", v, g=group, error=error, forms=forms or {},
        member=is_member(v, group), coordinator=by_member.get(group.coordinator_member_id or -1),
        group_members=group_members, addable=[(m, p) for m, p in everyone if m.id not in member_ids],
        names={p.id: p.display_name for _m, p in everyone}, uploads=uploads, meetings=meetings, local=local,
        can_lead=can_lead(v, group), can_contribute=can_contribute(v, group),
        sees_discussion=can_contribute(v, group), can_moderate=may(v, MODERATE), can_join=v.can(JOIN),
        **helpers())


@bp.get("/<int:network_id>/groups/<int:group_id>")
def group(network_id: int, group_id: int) -> str:
    v = viewer(network_id, VIEW)
    return _detail(v, load_group(v, group_id))


@bp.get("/<int:network_id>/groups/<int:group_id>/edit")
def group_edit(network_id: int, group_id: int) -> str:
    v = viewer(network_id, VIEW)
    group = load_group(v, group_id)
    require(can_lead(v, group), _("Only the group's coordinator and the network managers can change the group."))
    return _group_form(v, group, {"title": group.title, "description": group.description,
                                  "handlungsfeld": group.handlungsfeld or "",
                                  "coordinator": str(group.coordinator_member_id or "")})


@bp.post("/<int:network_id>/groups/<int:group_id>/edit")
def group_update(network_id: int, group_id: int) -> Any:
    post_guard()
    v = viewer(network_id, VIEW)
    group = load_group(v, group_id)
    require(can_lead(v, group), _("Only the group's coordinator and the network managers can change the group."))
    try:
        data = _read_group(request.form, {ms.member_id for ms in group.memberships})
    except TextError as exc:
        return _group_form(v, group, dict(request.form.items()), str(exc)), 400
    for key, value in data.items():
        setattr(group, key, value)
    db_session().commit()
    return to_group(group)


@bp.post("/<int:network_id>/groups/<int:group_id>/delete")
def group_delete(network_id: int, group_id: int) -> Any:
    post_guard()
    v = viewer(network_id, VIEW)
    group = load_group(v, group_id)
    require(may(v, MODERATE), _("Only the network managers can delete a working group."))
    s = db_session()
    for material in group.materials:
        upload = s.get(Upload, material.upload_id) if material.upload_id else None
        if upload is not None:
            upload.deleted = True
    s.delete(group)
    s.commit()
    return redirect(web.lurl("workspaces.groups", network_id=network_id), code=303)


# -- membership ----------------------------------------------------------------------------------


@bp.post("/<int:network_id>/groups/<int:group_id>/join")
def group_join(network_id: int, group_id: int) -> Any:
    post_guard()
    v = viewer(network_id, JOIN)
    group = load_group(v, group_id)
    if not is_member(v, group):
        db_session().add(GroupMembership(group_id=group.id, member_id=v.member.id))
        db_session().commit()
    return to_group(group, "members")


@bp.post("/<int:network_id>/groups/<int:group_id>/leave")
def group_leave(network_id: int, group_id: int) -> Any:
    post_guard()
    v = viewer(network_id, VIEW)
    group = load_group(v, group_id)
    if not is_member(v, group):
        abort(400, description=_("You are not a member of this group."))
    if is_coordinator(v, group):
        abort(400, description=_("Please hand the coordination over to another member before you leave."))
    s = db_session()
    for ms in list(group.memberships):
        if ms.member_id == v.member.id:
            s.delete(ms)
    s.commit()
    return to_group(group, "members")


@bp.post("/<int:network_id>/groups/<int:group_id>/members")
def group_member_add(network_id: int, group_id: int) -> Any:
    post_guard()
    v = viewer(network_id, VIEW)
    group = load_group(v, group_id)
    require(can_lead(v, group), _("Only the group's coordinator and the network managers can add members."))
    raw = (request.form.get("member_id") or "").strip()
    candidate = db_session().get(NetworkMember, int(raw)) if raw.isdigit() else None
    if candidate is None or candidate.network_id != network_id:
        return _detail(v, group, _("Please choose a member of this network.")), 400
    if candidate.id not in {ms.member_id for ms in group.memberships}:
        db_session().add(GroupMembership(group_id=group.id, member_id=candidate.id))
        db_session().commit()
    return to_group(group, "members")


@bp.post("/<int:network_id>/groups/<int:group_id>/members/<int:member_id>/remove")
def group_member_remove(network_id: int, group_id: int, member_id: int) -> Any:
    post_guard()
    v = viewer(network_id, VIEW)
    group = load_group(v, group_id)
    require(can_lead(v, group), _("Only the group's coordinator and the network managers can remove members."))
    ms = db_session().scalar(select(GroupMembership).where(GroupMembership.group_id == group.id,
                                                           GroupMembership.member_id == member_id))
    if ms is None:
        abort(404, description=_("This person is not a member of the group."))
    if member_id == group.coordinator_member_id:
        abort(400, description=_("Please choose another coordinator before removing this member."))
    db_session().delete(ms)
    db_session().commit()
    return to_group(group, "members")


# -- materials -----------------------------------------------------------------------------------


@bp.post("/<int:network_id>/groups/<int:group_id>/materials")
def group_material_add(network_id: int, group_id: int) -> Any:
    post_guard()
    v = viewer(network_id, VIEW)
    group = load_group(v, group_id)
    require(can_contribute(v, group), _("Only the group's members can add material."))
    s = db_session()
    form = request.form
    file = request.files.get("file")
    has_file = file is not None and bool(file.filename)
    try:
        title = plain(form.get("title"), field=str(F_TITLE))
        author = plain(form.get("author"), field=str(F_AUTHOR))
        licence = form.get("licence") or ""
        if licence not in LICENCES:
            raise TextError(_("Please choose a licence."))
        source = http_url(form.get("source_url"), field=str(F_SOURCE))
        link = http_url(form.get("link_url"), field=str(F_LINK))
        if has_file and link:
            raise TextError(_("Please give either a file or a link, not both."))
        if not has_file and not link:
            raise TextError(_("Please choose a file or give a link."))
        upload = save_upload(network_id, v.person.id, file) if has_file else None
    except (TextError, UploadError) as exc:
        s.rollback()
        return _detail(v, group, str(exc), {"material": dict(form.items())}), 400
    if upload is not None:
        s.flush()
    material = GroupMaterial(group_id=group.id, kind="file" if upload else "link", title=title, author=author,
                             licence=licence, source_url=source, upload_id=upload.id if upload else None,
                             link_url=link, added_by=v.person.id)
    s.add(material)
    s.flush()
    activity.record(network_id, v.person.id, "group.material", f"{group.title}: {title}",
                    group_path(group), "network")
    s.commit()
    return to_group(group, "materials")


@bp.get("/<int:network_id>/groups/<int:group_id>/materials/<int:material_id>/download")
def group_material_download(network_id: int, group_id: int, material_id: int) -> Any:
    v = viewer(network_id, VIEW)
    group = load_group(v, group_id)
    material = _child(GroupMaterial, group, material_id)
    upload = db_session().get(Upload, material.upload_id) if material.upload_id else None
    if upload is None or upload.network_id != network_id or upload.deleted:
        abort(404, description=_("This material has no file."))
    path = upload_path(upload)
    if not path.is_file():
        abort(404, description=_("This material has no file."))
    resp = send_file(path, mimetype=upload.content_type, as_attachment=True, download_name=upload.filename,
                     max_age=0)
    resp.headers["Cache-Control"] = "private, no-store"
    return resp


@bp.post("/<int:network_id>/groups/<int:group_id>/materials/<int:material_id>/delete")
def group_material_delete(network_id: int, group_id: int, material_id: int) -> Any:
    post_guard()
    v = viewer(network_id, VIEW)
    group = load_group(v, group_id)
    material = _child(GroupMaterial, group, material_id)
    require(can_lead(v, group) or material.added_by == v.person.id,
            _("Only the person who added the material, the coordinator and the network managers can remove it."))
    s = db_session()
    if material.upload_id:
        upload = s.get(Upload, material.upload_id)
        if upload is not None:
            upload.deleted = True
    s.delete(material)
    s.commit()
    return to_group(group, "materials")


# -- discussion ------------------------------------------------------------------------------------


@bp.post("/<int:network_id>/groups/<int:group_id>/posts")
def group_post_add(network_id: int, group_id: int) -> Any:
    post_guard()
    v = viewer(network_id, VIEW)
    group = load_group(v, group_id)
    require(can_contribute(v, group), _("Only the group's members can take part in the discussion."))
    try:
        body = clean_html(request.form.get("body"), max_length=10000)
        if not html_to_text(body):
            raise TextError(_("Please fill in: %(field)s.", field=str(F_POST)))
    except TextError as exc:
        return _detail(v, group, str(exc), {"post": dict(request.form.items())}), 400
    post = GroupPost(group_id=group.id, author_id=v.person.id, body=body)
    db_session().add(post)
    db_session().commit()
    return to_group(group, f"post-{post.id}")


@bp.post("/<int:network_id>/groups/<int:group_id>/posts/<int:post_id>/delete")
def group_post_delete(network_id: int, group_id: int, post_id: int) -> Any:
    post_guard()
    v = viewer(network_id, VIEW)
    group = load_group(v, group_id)
    post = _child(GroupPost, group, post_id)
    require(may(v, MODERATE) or post.author_id == v.person.id,
            _("Only the author and the network managers can delete a post."))
    db_session().delete(post)
    db_session().commit()
    return to_group(group, "discussion")


# -- results -----------------------------------------------------------------------------------------


def _result_form(v: Viewer, group: Group, values: dict[str, Any], error: str | None = None) -> str:
    return render("workspaces/groups/result.html", v, g=group, values=values, error=error, **helpers())


@bp.get("/<int:network_id>/groups/<int:group_id>/result")
def group_result(network_id: int, group_id: int) -> str:
    v = viewer(network_id, VIEW)
    group = load_group(v, group_id)
    require(can_lead(v, group), _("Only the group's coordinator and the network managers publish results."))
    return _result_form(v, group, {"text": "", "materials": []})


@bp.post("/<int:network_id>/groups/<int:group_id>/result")
def group_result_publish(network_id: int, group_id: int) -> Any:
    post_guard()
    v = viewer(network_id, VIEW)
    group = load_group(v, group_id)
    require(can_lead(v, group), _("Only the group's coordinator and the network managers publish results."))
    chosen = request.form.getlist("materials")
    own = {m.id: m for m in group.materials}
    try:
        text = clean_html(request.form.get("text"))
        if not html_to_text(text):
            raise TextError(_("Please fill in: %(field)s.", field=str(F_RESULT)))
        if any(not c.isdigit() or int(c) not in own for c in chosen):
            raise TextError(_("Please choose material of this group."))
    except TextError as exc:
        return _result_form(v, group, {"text": request.form.get("text", ""), "materials": chosen}, str(exc)), 400
    s = db_session()
    result = GroupResult(group_id=group.id, text=text, published_by=v.person.id, published_at=utcnow(),
                         materials=[own[int(c)] for c in dict.fromkeys(chosen)])
    s.add(result)
    s.flush()
    activity.record(network_id, v.person.id, "group.result", group.title, group_path(group), "network")
    s.commit()
    return to_group(group, f"result-{result.id}")


@bp.post("/<int:network_id>/groups/<int:group_id>/results/<int:result_id>/delete")
def group_result_delete(network_id: int, group_id: int, result_id: int) -> Any:
    post_guard()
    v = viewer(network_id, VIEW)
    group = load_group(v, group_id)
    result = _child(GroupResult, group, result_id)
    require(can_lead(v, group), _("Only the group's coordinator and the network managers can withdraw a result."))
    db_session().delete(result)
    db_session().commit()
    return to_group(group, "results")
