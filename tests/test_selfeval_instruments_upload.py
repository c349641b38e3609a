"""Networks' own instruments: upload (YAML/JSON), refusal with line and field, immutable versions,
withdraw/delete, use in rounds, answering and reports, access per persona, isolation between networks, CLI."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import jwt
import pytest
import yaml
from click.testing import CliRunner
from sqlalchemy import func, select
from werkzeug.exceptions import NotFound

from lti_tool.bridge import bridge
from lti_tool.selfeval.models import SelfevalAnswer, SelfevalInstrument, SelfevalResponse, SelfevalRound
from tests.ltiplatform import LTI, login_redirect_params
from tests.test_selfeval_answering import _as
from tests.world import NETWORK_ROLES, PERSONAS, TOOL_LAUNCH

SHIPPED_GRID = (Path(__file__).parent.parent / "lti_tool" / "selfeval" / "instruments"
                / "selbstevaluationsraster.yaml").read_text("utf-8")
KEY = "raster-lernen25@1.0"
SECTION_TITLE = "Verankerung im Netzwerk Lernen 25"
ITEM = "k1a_netz"


def variant(version: str = "1.0", title: str = "Raster Lernen 25", instrument_id: str = "raster-lernen25") -> str:
    """The shipped grid as a network's variant: own id, title, first criterion and first indicator id."""
    text = SHIPPED_GRID.replace("id: selbstevaluationsraster\n", f"id: {instrument_id}\n", 1)
    text = text.replace('version: "1.0"', f'version: "{version}"', 1)
    text = text.replace('  de: "Selbstevaluationsraster Digitale Schulentwicklung"', f'  de: "{title}"', 1)
    text = text.replace('de: "Dauerhafte Implementierung von Konzepten zur digitalen Bildung"',
                        f'de: "{SECTION_TITLE}"', 1)
    text = text.replace("      - id: k1a\n", f"      - id: {ITEM}\n", 1)
    assert text.count(SECTION_TITLE) == 1 and f"id: {ITEM}\n" in text
    return text


def variant_json(**kw: Any) -> str:
    return json.dumps(yaml.safe_load(variant(**kw)), ensure_ascii=False, indent=2)


def line_of(text: str, needle: str) -> int:
    return text[:text.index(needle)].count("\n") + 1


def _upload(actor, network_id: int, data: str | bytes, name: str = "raster.yaml"):
    raw = data.encode("utf-8") if isinstance(data, str) else data
    return actor.post(f"/s/networks/{network_id}/instruments", {"file": (io.BytesIO(raw), name)})


def _rows(app) -> list[SelfevalInstrument]:
    with bridge(app).db.sessions() as s:
        rows = s.scalars(select(SelfevalInstrument).order_by(SelfevalInstrument.id)).all()
        for r in rows:
            _ = r.content  # load the deferred file before detaching
        s.expunge_all()
        return list(rows)


def _findings(html: str) -> list[tuple[str, str]]:
    return re.findall(r'<li data-line="([^"]*)" data-path="([^"]*)">', html)


def _local(delta: timedelta) -> str:
    return (datetime.now(ZoneInfo("Europe/Berlin")) + delta).strftime("%Y-%m-%dT%H:%M")


def _create_round(actor, network_id: int, key: str, title: str = "Herbst 2026"):
    return actor.post(f"/s/networks/{network_id}/rounds", {
        "title": title, "instrument_key": key, "opens_at": _local(timedelta(days=-1)),
        "closes_at": _local(timedelta(days=7))})


def _round_id(app, network_id: int, key: str) -> int:
    with bridge(app).db.sessions() as s:
        return s.scalars(select(SelfevalRound.id).where(SelfevalRound.network_id == network_id,
                                                        SelfevalRound.instrument_key == key)).one()


def _direct_round(app, network_id: int, key: str) -> int:
    now = datetime.now(UTC)
    with bridge(app).db.sessions() as s:
        rnd = SelfevalRound(network_id=network_id, instrument_key=key, title="Direkt", opens_at=now - timedelta(days=1),
                            closes_at=now + timedelta(days=7))
        s.add(rnd)
        s.commit()
        return rnd.id


@pytest.fixture
def uploaded(world, app) -> str:
    resp = _upload(world.as_("manager"), world.network_id, variant())
    assert resp.status_code == 303
    return KEY


# -- uploading good files ---------------------------------------------------------------------------


def test_manager_uploads_yaml_and_json_variants_and_both_are_listed(world, app):
    manager = world.as_("manager")
    nid = world.network_id
    good_yaml = variant()
    resp = _upload(manager, nid, good_yaml, "raster-lernen25.yaml")
    assert resp.status_code == 303
    assert f"/s/networks/{nid}/instruments/{KEY}" in resp.headers["Location"] and "done=added" in resp.headers["Location"]
    good_json = variant_json(instrument_id="raster-json", title="Raster als JSON")
    assert _upload(manager, nid, good_json, "raster.json").status_code == 303

    rows = _rows(app)
    assert [(r.network_id, r.key, r.instrument_id, r.version, r.format) for r in rows] == [
        (nid, KEY, "raster-lernen25", "1.0", "yaml"), (nid, "raster-json@1.0", "raster-json", "1.0", "json")]
    assert rows[0].content == good_yaml.encode() and rows[1].content == good_json.encode()
    assert rows[0].sha256 == hashlib.sha256(good_yaml.encode()).hexdigest()
    assert rows[0].uploaded_by == manager.person_id and rows[0].withdrawn_at is None
    assert rows[0].filename == "raster-lernen25.yaml"

    page = manager.get(f"/s/networks/{nid}/instruments").get_data(as_text=True)
    for key in (KEY, "raster-json@1.0", "selbstevaluationsraster@1.0", "medienhaus@1.0"):
        assert f'data-key="{key}"' in page
    assert 'enctype="multipart/form-data"' in page and 'for="instrument-file"' in page

    # the stored file comes back byte for byte, as an attachment
    file = manager.get(f"/s/networks/{nid}/instruments/{KEY}/file")
    assert file.status_code == 200 and file.data == good_yaml.encode()
    assert "attachment" in file.headers["Content-Disposition"] and file.headers["X-Content-Type-Options"] == "nosniff"
    assert manager.get(f"/s/networks/{nid}/instruments/raster-json@1.0/file").data == good_json.encode()
    shipped_file = manager.get(f"/s/networks/{nid}/instruments/selbstevaluationsraster@1.0/file")
    assert shipped_file.status_code == 200 and shipped_file.data.decode() == SHIPPED_GRID

    # the preview shows groups, scales, criteria and indicators before any round uses it
    preview = manager.get(f"/s/networks/{nid}/instruments/{KEY}")
    html = preview.get_data(as_text=True)
    assert preview.status_code == 200 and f'data-key="{KEY}"' in html
    assert SECTION_TITLE in html and f'data-item="{ITEM}"' in html and 'data-scale="agree5"' in html
    assert 'data-group="school_leader"' in html and 'data-question="staerken"' in html
    assert manager.get(f"/s/networks/{nid}/instruments/medienhaus@1.0").status_code == 200
    assert manager.get(f"/s/networks/{nid}/instruments/nope@1.0").status_code == 404

    # the rounds page links here and offers the own instruments for a new round
    rounds = manager.get(f"/s/networks/{nid}/rounds").get_data(as_text=True)
    assert 'id="instruments-link"' in rounds
    assert f'name="instrument_key" value="{KEY}"' in rounds and 'value="raster-json@1.0"' in rounds


def test_uploaded_variant_is_answered_from_the_lms_and_reported(world, app, uploaded):
    manager = world.as_("manager")
    nid = world.network_id
    assert _create_round(manager, nid, KEY).status_code == 303
    round_id = _round_id(app, nid, KEY)

    teacher = _as(app, world, "teacher_a", round_id)
    form = teacher.get("/s/answer").get_data(as_text=True)
    assert "Raster Lernen 25" in form and SECTION_TITLE in form and f'name="item:{ITEM}"' in form
    assert 'name="item:k1a"' not in form
    assert teacher.post("/s/answer", {"action": "submit", "item:k1a": "4"}).status_code == 400  # not in the variant
    assert teacher.post("/s/answer", {"action": "submit", f"item:{ITEM}": "4", "item:k1b": "na"}).status_code == 303
    with bridge(app).db.sessions() as s:
        answers = {(a.item_id, a.value) for a in s.scalars(select(SelfevalAnswer).where(
            SelfevalAnswer.round_id == round_id))}
        assert answers == {(ITEM, 4), ("k1b", None)}
        # five more teachers of school A, so the school's numbers pass the privacy threshold
        for i in range(5):
            s.add(SelfevalResponse(round_id=round_id, school_id=world.schools["A"], group_id="teacher",
                                   respondent_key=f"seed-{i}", status="submitted", free_text="{}"))
            s.add(SelfevalAnswer(round_id=round_id, school_id=world.schools["A"], group_id="teacher",
                                 respondent_key=f"seed-{i}", item_id=ITEM, value=4))
        s.commit()

    report = manager.get(f"/s/rounds/{round_id}/school/{world.schools['A']}")
    assert report.status_code == 200 and SECTION_TITLE in report.get_data(as_text=True)
    assert world.as_("leader_a").get(f"/s/rounds/{round_id}/school/{world.schools['A']}").status_code == 200
    assert manager.get(f"/s/rounds/{round_id}/network").status_code == 200
    export = manager.get(f"/s/rounds/{round_id}/school/{world.schools['A']}.csv")
    rows = list(csv.DictReader(io.StringIO(export.get_data(as_text=True).lstrip("\ufeff")), delimiter=";"))
    item_rows = [r for r in rows if r["key"] == ITEM and r["n"]]
    assert item_rows and all((r["n"], r["mean"]) == ("6", "4,00") for r in item_rows)
    data = json.loads(manager.get(f"/s/rounds/{round_id}/school/{world.schools['A']}.json").get_data(as_text=True))
    assert data["round"]["instrument"] == KEY and any(a["key"] == ITEM for a in data["aggregates"])

    # the instruments page names the round that uses the version
    page = manager.get(f"/s/networks/{nid}/instruments").get_data(as_text=True)
    row = page[page.index(f'<tr data-key="{KEY}"'):]
    assert "Herbst 2026" in row[:row.index("</tr>")]


def test_deep_linking_offers_rounds_of_uploaded_instruments(world, app, uploaded):
    round_id = _direct_round(app, world.network_id, KEY)
    site = world.sites["A"]
    client = app.test_client()
    auth = login_redirect_params(client.post("/lti/login", data=site.login_params(TOOL_LAUNCH)).headers["Location"])
    body = site.claims(auth["nonce"], TOOL_LAUNCH, roles=PERSONAS["manager"][2], sub="m-1",
                       message_type="LtiDeepLinkingRequest",
                       **{LTI + "context": {"id": "course-A", "title": "Kurs course-A"}})
    resp = client.post("/lti/launch", data={"id_token": site.sign(body), "state": auth["state"]})
    html = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert f'value="selfeval:{round_id}"' in html and "Raster Lernen 25" in html
    fields = dict(re.findall(r'name="(launch|csrf)" value="([^"]*)"', html))
    done = client.post("/lti/deep-link", data={**fields, "feature": f"selfeval:{round_id}", "action": "add"})
    token = re.search(r'name="JWT" value="([^"]+)"', done.get_data(as_text=True)).group(1)
    items = jwt.decode(token, options={"verify_signature": False})[
        "https://purl.imsglobal.org/spec/lti-dl/claim/content_items"]
    assert items[0]["custom"] == {"feature": "selfeval", "round": str(round_id)}


# -- refused files ------------------------------------------------------------------------------------


def _broken_cases() -> list[tuple[str, str, str, str, str]]:
    good = variant()
    syntax = good.replace("languages: [de, en]", "languages: [de, en", 1)
    no_scale = good.replace("        scale: agree5\n", "", 1)
    duplicate = good.replace("      - id: k1b\n", f"      - id: {ITEM}\n", 1)
    shipped_id = SHIPPED_GRID
    json_syntax = variant_json().replace('"version": "1.0",', '"version": "1.0"', 1)
    json_schema = variant_json().replace('"output": "score_profile"', '"output": "radar"', 1)
    return [
        # (case, file name, content, expected line, expected field path)
        ("yaml-syntax", "raster.yaml", syntax, str(line_of(syntax, "source:")), ""),
        ("missing-scale", "raster.yml", no_scale, str(line_of(no_scale, f"- id: {ITEM}")),
         "sections[0].items[0].scale"),
        ("duplicate-item", "raster.yaml", duplicate, str(line_of(duplicate, f"      - id: {ITEM}\n        scale: agree5\n        text:\n          de: \"Ein Konzept")), "sections[0].items[1].id"),
        ("shipped-id", "raster.yaml", shipped_id, str(line_of(shipped_id, "id: selbstevaluationsraster")), "id"),
        ("json-syntax", "raster.json", json_syntax, str(line_of(json_syntax, '"title"')), ""),
        ("json-schema", "raster.json", json_schema, str(line_of(json_schema, '"output"')), "output"),
    ]


@pytest.mark.parametrize(("case", "name", "content", "line", "path"), _broken_cases(),
                         ids=[c[0] for c in _broken_cases()])
def test_broken_file_is_refused_with_line_and_field_and_nothing_is_stored(world, app, case, name, content, line,
                                                                          path):
    resp = _upload(world.as_("manager"), world.network_id, content, name)
    html = resp.get_data(as_text=True)
    assert resp.status_code == 400
    assert 'id="upload-error"' in html and 'role="alert"' in html
    assert (line, path) in _findings(html), _findings(html)
    assert _rows(app) == []


def test_shipped_id_refusal_suggests_a_distinct_id(world, app):
    resp = _upload(world.as_("manager"), world.network_id, SHIPPED_GRID)
    assert resp.status_code == 400 and "selbstevaluationsraster-lernen25" in resp.get_data(as_text=True)
    assert _rows(app) == []


@pytest.mark.parametrize("case", ["no-file", "empty", "too-large", "wrong-type", "not-utf8"])
def test_unusable_uploads_are_refused(world, app, case):
    manager = world.as_("manager")
    url = f"/s/networks/{world.network_id}/instruments"
    if case == "no-file":
        resp = manager.post(url, {})
    elif case == "empty":
        resp = _upload(manager, world.network_id, b"")
    elif case == "too-large":  # a hand-made body: the test client would spool it to an unclosed temp file
        big = (variant() + "#" + "x" * (512 * 1024) + "\n").encode()
        parts = [f'--B\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
                 for k, v in (("launch", manager.launch_id), ("csrf", manager.csrf))]
        body = b"".join(parts) + (b'--B\r\nContent-Disposition: form-data; name="file"; filename="raster.yaml"\r\n'
                                  b"Content-Type: application/yaml\r\n\r\n" + big + b"\r\n--B--\r\n")
        resp = manager.client.post(url, data=body, content_type="multipart/form-data; boundary=B")
    elif case == "wrong-type":
        resp = _upload(manager, world.network_id, variant(), "raster.txt")
    else:
        resp = _upload(manager, world.network_id, variant().encode() + b"\n# \xff\xfe\n")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 400 and 'id="upload-error"' in html
    if case == "not-utf8":
        assert (str(variant().count("\n") + 2), "") in _findings(html)
    assert _rows(app) == []


# -- versions ------------------------------------------------------------------------------------------


def test_versions_are_immutable_and_new_versions_are_added(world, app, uploaded):
    manager = world.as_("manager")
    nid = world.network_id
    [first] = _rows(app)

    same = _upload(manager, nid, variant())  # identical bytes: no-op
    assert same.status_code == 303 and "done=unchanged" in same.headers["Location"]
    commented = _upload(manager, nid, "# nur ein Kommentar\n" + variant())  # same instrument, only a comment
    assert commented.status_code == 303 and "done=unchanged" in commented.headers["Location"]
    as_json = _upload(manager, nid, variant_json(), "raster.json")  # same instrument as JSON
    assert as_json.status_code == 303 and "done=unchanged" in as_json.headers["Location"]
    assert [(r.id, r.content) for r in _rows(app)] == [(first.id, first.content)]

    changed = variant(title="Raster Lernen 25 (geändert)")
    refused = _upload(manager, nid, changed)
    html = refused.get_data(as_text=True)
    assert refused.status_code == 400
    assert (str(line_of(changed, "version:")), "version") in _findings(html)
    assert "1.1" in html  # the next version is suggested
    assert [(r.id, r.content) for r in _rows(app)] == [(first.id, first.content)]

    raised = _upload(manager, nid, variant(version="1.1", title="Raster Lernen 25 (geändert)"))
    assert raised.status_code == 303 and "done=added" in raised.headers["Location"]
    assert [r.key for r in _rows(app)] == [KEY, "raster-lernen25@1.1"]
    page = manager.get(f"/s/networks/{nid}/instruments").get_data(as_text=True)
    assert page.count('data-instrument="raster-lernen25"') == 1  # one instrument, two versions
    assert f'data-key="{KEY}"' in page and 'data-key="raster-lernen25@1.1"' in page


def test_results_stay_tied_to_the_version_answered(world, app, uploaded):
    manager = world.as_("manager")
    nid = world.network_id
    assert _create_round(manager, nid, KEY, "Herbst 2026").status_code == 303
    old_round = _round_id(app, nid, KEY)
    assert _upload(manager, nid, variant(version="2.0", title="Raster Lernen 25, Fassung 2")).status_code == 303
    assert _create_round(manager, nid, "raster-lernen25@2.0", "Frühjahr 2027").status_code == 303
    new_round = _round_id(app, nid, "raster-lernen25@2.0")
    assert "Raster Lernen 25, Fassung 2" not in _as(app, world, "teacher_a", old_round).get("/s/answer").get_data(
        as_text=True)
    assert "Raster Lernen 25, Fassung 2" in _as(app, world, "teacher_a", new_round).get("/s/answer").get_data(
        as_text=True)


# -- withdrawing and deleting --------------------------------------------------------------------------


def test_withdrawn_versions_stay_for_existing_rounds_and_used_versions_are_never_deleted(world, app, uploaded):
    manager = world.as_("manager")
    nid = world.network_id
    base = f"/s/networks/{nid}/instruments"
    assert _upload(manager, nid, variant(version="1.1")).status_code == 303
    assert _create_round(manager, nid, KEY).status_code == 303
    round_id = _round_id(app, nid, KEY)

    assert manager.post(f"{base}/{KEY}/withdraw", {"action": "withdraw"}).status_code == 303
    [row, _newer] = _rows(app)
    assert row.withdrawn_at is not None
    rounds_page = manager.get(f"/s/networks/{nid}/rounds").get_data(as_text=True)
    assert f'name="instrument_key" value="{KEY}"' not in rounds_page
    assert 'name="instrument_key" value="raster-lernen25@1.1"' in rounds_page
    assert _create_round(manager, nid, KEY, "Noch eine").status_code == 400  # not for new rounds
    # the existing round keeps it: answering and reports work
    assert _as(app, world, "teacher_a", round_id).get("/s/answer").status_code == 200
    assert manager.get(f"/s/rounds/{round_id}/school/{world.schools['A']}").status_code == 200
    assert manager.get(f"{base}/{KEY}").status_code == 200
    assert 'data-withdrawn="yes"' in manager.get(base).get_data(as_text=True)

    # a version used by a round is never deleted, withdrawn or not
    used = manager.post(f"{base}/{KEY}/delete", {"confirm": "yes"})
    assert used.status_code == 409 and len(_rows(app)) == 2
    assert manager.post(f"{base}/{KEY}/withdraw", {"action": "restore"}).status_code == 303
    assert _rows(app)[0].withdrawn_at is None
    assert manager.post(f"{base}/{KEY}/delete", {"confirm": "yes"}).status_code == 409
    assert manager.post(f"{base}/{KEY}/withdraw", {"action": "nonsense"}).status_code == 400

    # an unused one can be deleted, after confirming
    assert manager.post(f"{base}/raster-lernen25@1.1/delete", {}).status_code == 400
    assert len(_rows(app)) == 2
    assert manager.post(f"{base}/raster-lernen25@1.1/delete", {"confirm": "yes"}).status_code == 303
    assert [r.key for r in _rows(app)] == [KEY]
    # shipped instruments are not the network's to withdraw or delete
    assert manager.post(f"{base}/medienhaus@1.0/withdraw", {"action": "withdraw"}).status_code == 404
    assert manager.post(f"{base}/medienhaus@1.0/delete", {"confirm": "yes"}).status_code == 404
    # the CSRF token is checked
    forged = manager.client.post(f"{base}/{KEY}/withdraw", data={"launch": manager.launch_id, "csrf": "x"})
    assert forged.status_code == 400 and _rows(app)[0].withdrawn_at is None


# -- access ---------------------------------------------------------------------------------------------


def _routes(nid: int, key: str) -> list[tuple[str, str, dict[str, Any] | None]]:
    base = f"/s/networks/{nid}/instruments"
    return [
        ("GET", base, None),
        ("POST", base, "upload"),
        ("GET", f"{base}/{key}", None),
        ("GET", f"{base}/{key}/file", None),
        ("POST", f"{base}/{key}/withdraw", {"action": "withdraw"}),
        ("POST", f"{base}/{key}/delete", {"confirm": "yes"}),
    ]


@pytest.mark.parametrize("persona", [*NETWORK_ROLES, "outsider", "learner"])
def test_access_matrix(world, app, uploaded, persona):
    actor = world.as_(persona)
    expected_denied = 404 if persona in ("outsider", "learner") else 403
    for method, url, data in _routes(world.network_id, KEY):
        if method == "GET":
            resp = actor.get(url)
        elif data == "upload":
            resp = _upload(actor, world.network_id, variant(instrument_id="raster-zwei"))
        else:
            resp = actor.post(url, data)
        if persona == "manager":
            assert resp.status_code in (200, 303), (method, url)
        else:
            assert resp.status_code == expected_denied, (persona, method, url)
    if persona == "manager":  # withdrew, then deleted the unused version; uploaded another
        assert [r.key for r in _rows(app)] == ["raster-zwei@1.0"]
    else:
        assert [(r.key, r.withdrawn_at) for r in _rows(app)] == [(KEY, None)]


def test_rounds_page_link_is_for_managers_only(world, app):
    for persona in NETWORK_ROLES:
        html = world.as_(persona).get(f"/s/networks/{world.network_id}/rounds").get_data(as_text=True)
        assert ('id="instruments-link"' in html) == (persona == "manager"), persona


# -- isolation between networks --------------------------------------------------------------------------


def test_another_network_cannot_reach_our_instruments(world, app, uploaded):
    outsider = world.as_("outsider")
    mine, theirs = world.network_id, world.other_network_id
    # guessing our key through their own network id, and through ours
    for nid in (theirs, mine):
        for method, url, data in _routes(nid, KEY)[2:]:  # the routes that name an instrument
            resp = outsider.get(url) if method == "GET" else outsider.post(url, data)
            assert resp.status_code == 404, (nid, method, url)
    assert [(r.key, r.withdrawn_at) for r in _rows(app)] == [(KEY, None)]
    # their list does not show our upload, and their rounds cannot use it
    assert f'data-key="{KEY}"' not in outsider.get(f"/s/networks/{theirs}/instruments").get_data(as_text=True)
    assert f'value="{KEY}"' not in outsider.get(f"/s/networks/{theirs}/rounds").get_data(as_text=True)
    assert _create_round(outsider, theirs, KEY).status_code == 400
    with bridge(app).db.sessions() as s:
        assert s.scalar(select(func.count()).select_from(SelfevalRound)) == 0

    # a round of theirs that names our key anyway (written behind the UI) does not reach our file
    foreign_round = _direct_round(app, theirs, KEY)
    assert _as(app, world, "teacher_a", foreign_round).get("/s/answer").status_code == 404
    assert outsider.get(f"/s/rounds/{foreign_round}/network").status_code == 404
    from lti_tool.selfeval.views import instrument_of, instruments

    with app.test_request_context():
        from lti_tool.db import db_session

        rnd = db_session().get(SelfevalRound, foreign_round)
        assert KEY not in instruments(theirs) and KEY in instruments(mine)
        with pytest.raises(NotFound):
            instrument_of(rnd)


def test_two_networks_may_use_the_same_key_and_each_gets_its_own(world, app, uploaded):
    outsider = world.as_("outsider")
    theirs = world.other_network_id
    assert _upload(outsider, theirs, variant(title="Raster Nord")).status_code == 303  # not "immutable": theirs
    rows = _rows(app)
    assert sorted((r.network_id, r.key) for r in rows) == sorted([(world.network_id, KEY), (theirs, KEY)])
    ours = world.as_("manager").get(f"/s/networks/{world.network_id}/instruments/{KEY}").get_data(as_text=True)
    their_page = outsider.get(f"/s/networks/{theirs}/instruments/{KEY}").get_data(as_text=True)
    assert "Raster Lernen 25" in ours and "Raster Nord" not in ours
    assert "Raster Nord" in their_page and "Raster Lernen 25" not in their_page
    assert outsider.get(f"/s/networks/{theirs}/instruments/{KEY}/file").data.decode() == variant(title="Raster Nord")

    our_round, their_round = _direct_round(app, world.network_id, KEY), _direct_round(app, theirs, KEY)
    from lti_tool.selfeval.views import instrument_of

    with app.test_request_context():
        from lti_tool.db import db_session

        s = db_session()
        assert instrument_of(s.get(SelfevalRound, our_round)).title.de == "Raster Lernen 25"
        assert instrument_of(s.get(SelfevalRound, their_round)).title.de == "Raster Nord"
    html = _as(app, world, "teacher_a", our_round).get("/s/answer").get_data(as_text=True)
    assert "Raster Lernen 25" in html and "Raster Nord" not in html


def test_instrument_texts_are_escaped(world, app):
    hostile = variant().replace(f'de: "{SECTION_TITLE}"', 'de: "<script>alert(1)</script> Kriterium"', 1)
    hostile = hostile.replace('de: "Mehrere Zuständige verhindern, dass das Thema an einer Person hängt."',
                              'de: "<img src=x onerror=alert(1)> Erklärung"', 1)
    assert "<script>" in hostile and "onerror" in hostile
    manager = world.as_("manager")
    assert _upload(manager, world.network_id, hostile).status_code == 303
    round_id = _direct_round(app, world.network_id, KEY)
    pages = [manager.get(f"/s/networks/{world.network_id}/instruments/{KEY}").get_data(as_text=True),
             manager.get(f"/s/networks/{world.network_id}/instruments").get_data(as_text=True),
             _as(app, world, "teacher_a", round_id).get("/s/answer").get_data(as_text=True)]
    for html in pages:
        assert "<script>alert(1)" not in html and "<img src=x onerror" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Kriterium" in pages[0]


# -- CLI -------------------------------------------------------------------------------------------------


@pytest.fixture
def cli(app, database_url, tmp_path, monkeypatch):
    from lti_tool.cli import main

    monkeypatch.setenv("LMS_BRIDGE_DATABASE_URL", database_url)
    monkeypatch.setenv("LMS_BRIDGE_INSTANCE_DIR", str(tmp_path / "instance"))
    runner = CliRunner()

    def run(*args: str, code: int = 0):
        result = runner.invoke(main, list(args), catch_exceptions=False)
        assert result.exit_code == code, result.output
        return result
    return run


def test_cli_adds_and_lists_instruments(world, app, cli, tmp_path):
    nid = str(world.network_id)
    good = tmp_path / "raster-lernen25.yaml"
    good.write_text(variant(), "utf-8")
    assert f"added {KEY}" in cli("selfeval", "instrument-add", "--network", nid, str(good)).output
    assert "unchanged" in cli("selfeval", "instrument-add", "--network", nid, str(good)).output
    [row] = _rows(app)
    assert (row.network_id, row.key, row.format, row.uploaded_by) == (world.network_id, KEY, "yaml", None)

    broken_text = variant().replace("      - id: k1b\n", f"      - id: {ITEM}\n", 1)
    broken = tmp_path / "kaputt.yaml"
    broken.write_text(broken_text, "utf-8")
    out = cli("selfeval", "instrument-add", "--network", nid, str(broken), code=1).output
    line = line_of(broken_text, f"      - id: {ITEM}\n        scale: agree5\n        text:\n          de: \"Ein Konzept")
    assert f"line {line}, sections[0].items[1].id: duplicate item id '{ITEM}'" in out
    changed = tmp_path / "geaendert.yaml"
    changed.write_text(variant(title="Anders"), "utf-8")
    out = cli("selfeval", "instrument-add", "--network", nid, str(changed), code=1).output
    assert "version" in out and "1.1" in out
    shipped = tmp_path / "grid.yaml"
    shipped.write_text(SHIPPED_GRID, "utf-8")
    assert "selbstevaluationsraster-lernen25" in cli("selfeval", "instrument-add", "--network", nid, str(shipped),
                                                     code=1).output
    cli("selfeval", "instrument-add", "--network", "99999", str(good), code=1)
    assert [r.key for r in _rows(app)] == [KEY]

    _direct_round(app, world.network_id, KEY)
    listing = cli("selfeval", "instrument-list", "--network", nid).output.splitlines()
    assert any(line.startswith(f"own\t{KEY}\toffered\trounds=1\tRaster Lernen 25") for line in listing), listing
    assert any(line.startswith("shipped\tselbstevaluationsraster@1.0\t") for line in listing)
    assert any(line.startswith("shipped\tmedienhaus@1.0\t") for line in listing)
    other = cli("selfeval", "instrument-list", "--network", str(world.other_network_id)).output
    assert KEY not in other
    cli("selfeval", "instrument-list", "--network", "99999", code=1)
