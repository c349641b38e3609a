"""Instrument library: shipped instruments, error reporting, house colours, versions."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from lti_tool.selfeval.instruments import (
    AnswerError,
    Colour,
    InstrumentError,
    InstrumentInvalid,
    InstrumentSyntaxError,
    Output,
    house_colours,
    house_report,
    list_instruments,
    load_instrument,
    schema,
)

FIXTURES = Path(__file__).parent / "fixtures" / "instruments"
PACKAGE = Path(__file__).parent.parent / "lti_tool" / "selfeval" / "instruments"


def shipped(instrument_id: str):
    return next(i for i in list_instruments() if i.id == instrument_id)


def findings_of(source) -> list[str]:
    with pytest.raises(InstrumentError) as info:
        load_instrument(source)
    return [str(f) for f in info.value.findings]


# --- shipped instruments -------------------------------------------------------------------------


def test_schema_is_valid_draft_2020_12():
    jsonschema.Draft202012Validator.check_schema(schema())
    assert schema()["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def test_both_shipped_instruments_load():
    assert {i.key for i in list_instruments()} == {"selbstevaluationsraster@1.0", "medienhaus@1.0"}
    for instrument in list_instruments():
        assert instrument.source.condensed_in_own_words is True
        assert instrument.languages == ("de", "en")
        for item in instrument.items():
            assert item.text.en and item.explanation is not None
            assert instrument.scale_of(item).not_applicable is not None


def test_grid_has_six_criteria_with_indicators_as_in_the_source():
    grid = shipped("selbstevaluationsraster")
    assert grid.output is Output.SCORE_PROFILE
    assert [s.title.de for s in grid.sections] == [
        "Dauerhafte Implementierung von Konzepten zur digitalen Bildung",
        "Pädagogik und Lernkulturen (Unterrichtsentwicklung)",
        "Qualifizierung der Lehrkräfte",
        "Digitale Schulorganisation",
        "Vernetzung mit Eltern, Kommune, Wirtschaft und zivilgesellschaftlichen Akteur*innen",
        "Zugang zur Technik und Ausstattung der Schule",
    ]
    # Anhang 1 gives criterion 3 only indicators a)-c); all others a)-d).
    assert [len(s.items) for s in grid.sections] == [4, 4, 3, 4, 4, 4]
    assert all(1 <= len(item.examples) <= 3 for item in grid.items())
    scale = grid.scale("agree5")
    assert scale.values == (1, 2, 3, 4, 5)
    assert (scale.points[0].label.de, scale.points[-1].label.de) == ("trifft gar nicht zu", "trifft voll zu")
    assert scale.not_applicable.de == "kann ich nicht beurteilen"
    assert [g.id for g in grid.respondent_groups] == ["school_leader", "teacher", "media_coordinator", "school_authority"]
    assert "Anhang 1" in grid.source.part and grid.source.publisher


def test_medienhaus_parts_cover_every_item_exactly_once():
    house = shipped("medienhaus")
    assert house.output is Output.TRAFFIC_LIGHT_HOUSE
    placed = [item_id for part in house.house.parts for item_id in part.items]
    assert sorted(placed) == sorted(item.id for item in house.items())
    assert len(placed) == len(set(placed)) == 20
    assert [g.id for g in house.respondent_groups] == ["media_coordinator"]
    scale = house.scale("satisfaction5")
    assert scale.points[0].label.de == "vollkommen zufrieden" and scale.points[-1].label.de == "unzufrieden"
    assert scale.not_applicable.de == "keine Rückmeldung"
    assert {"endgeraete_quantitaet", "software_administration", "support_schultraeger"} <= set(placed)


def test_json_and_yaml_give_the_same_instrument(tmp_path):
    yaml_text = (PACKAGE / "medienhaus.yaml").read_text("utf-8")
    import yaml

    json_file = tmp_path / "medienhaus.json"
    json_file.write_text(json.dumps(yaml.safe_load(yaml_text), indent="\t", ensure_ascii=False), "utf-8")
    assert load_instrument(json_file) == load_instrument(yaml_text) == shipped("medienhaus")


# --- broken files ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fixture", "error", "expected"),
    [
        ("missing_field.yaml", InstrumentInvalid, "line 27, sections[0].items[1].scale: missing required field"),
        ("unknown_scale.yaml", InstrumentInvalid, "line 33, sections[0].items[2].scale: unknown scale 'agree5'"),
        ("duplicate_item.yaml", InstrumentInvalid, "line 31, sections[0].items[2].id: duplicate item id 'net'"),
        ("bad_thresholds.yaml", InstrumentInvalid, "line 36, house.thresholds.amber: amber (4) must be below green (2.5)"),
        ("wrong_type.yaml", InstrumentInvalid, "line 2, version: expected string, got number 1.0"),
        ("unknown_scale.json", InstrumentInvalid, "line 86, sections[0].items[2].scale: unknown scale 'agree5'"),
        ("syntax_error.json", InstrumentSyntaxError, "line 9: JSON syntax error: Expecting value"),
    ],
)
def test_broken_file_is_refused_with_line_and_path(fixture, error, expected):
    with pytest.raises(error) as info:
        load_instrument(FIXTURES / fixture)
    assert expected in [str(f) for f in info.value.findings]
    assert fixture in str(info.value)


def test_yaml_syntax_error_reports_the_line_from_the_parser():
    with pytest.raises(InstrumentSyntaxError) as info:
        load_instrument(str(FIXTURES / "syntax_error.yaml"))
    [finding] = info.value.findings
    assert (finding.line, finding.column, finding.path) == (23, 10, "")
    assert "flow mapping" in finding.message and "started on line 22" in finding.message


def test_text_input_reports_lines_too_and_collects_all_findings():
    text = (FIXTURES / "valid_house.yaml").read_text("utf-8")
    text = text.replace("scale: sat5\n        groups: [media_coordinator]", "scale: sat9\n        groups: [pupils]")
    text = text.replace("id: mini-house", "id: Mini House")
    assert findings_of(text) == [
        "line 1, id: must be a slug (lowercase letters, digits, '-' or '_')",
    ]  # schema errors stop before semantic checks
    assert findings_of(text.replace("id: Mini House", "id: mini-house")) == [
        "line 29, sections[0].items[1].scale: unknown scale 'sat9'",
        "line 30, sections[0].items[1].groups[0]: unknown respondent group 'pupils'",
    ]


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("      items: [support]", "      items: [support, net]", "line 43, house.parts[1].items[1]: item 'net' is already in part 'fundament'"),
        ("      items: [support]", "      items: [nothing]", "line 43, house.parts[1].items[0]: unknown item 'nothing'"),
        ("      items: [net, devices]", "      items: [net]", "line 37, house.parts: item 'devices' is in no house part"),
        ("title: {de: Mini-Haus}", "title: {de: Mini-Haus, fr: Mini-maison}", "line 3, title.fr: language 'fr' is not listed in languages"),
        ("condensed_in_own_words: true", "condensed_in_own_words: true\n  colour: blue", "line 10, source.colour: unknown field"),
        ("output: traffic_light_house", "output: radar", "line 34, output: must be one of 'score_profile', 'traffic_light_house', got 'radar'"),
        ("    - id: dach", "    - id: fundament", "line 41, house.parts[1].id: duplicate house part id 'fundament'"),
        ("id: s1\n", "id: s1\n    id: s2\n", "line 22, sections[0].id: duplicate key"),
    ],
)
def test_semantic_and_schema_rules(old, new, expected):
    text = (FIXTURES / "valid_house.yaml").read_text("utf-8")
    assert text.count(old) == 1
    assert expected in findings_of(text.replace(old, new))


def test_house_is_required_for_traffic_light_output():
    text = (FIXTURES / "valid_house.yaml").read_text("utf-8")
    assert findings_of(text.split("house:\n")[0]) == ["line 1, house: missing required field"]


def test_empty_and_non_mapping_documents_are_refused():
    assert findings_of("") == ["line ?: expected object, got null None"]
    assert findings_of("- a\n- b\n") == ["line 1: expected object, got array ['a', 'b']"]


# --- house colours -------------------------------------------------------------------------------


def test_house_colours_from_handmade_answers():
    house = shipped("medienhaus")
    answers = {item.id: 5 for item in house.items()}
    answers.update(internetanbindung=1, lms=2, cloud_dienste=None, dienstliche_emails=None)  # foundation mean 1.5
    answers.update(endgeraete_quantitaet=3, endgeraete_qualitaet=3, smartphone=1)  # floors mean 4.0 → green
    answers.update(support_intern=2, support_extern=2, medienkonzept=None)  # roof mean (5*5+2+2)/7 ≈ 4.14
    assert house_colours(house, answers) == {"dach": "green", "etagen": "green", "fundament": "red"}

    report = house_report(house, answers)
    assert [i.id for i in report.problems] == ["smartphone", "internetanbindung", "support_intern", "support_extern", "lms"]  # worst first, house order within a value
    assert [i.id for i in report.todo][-2:] == ["endgeraete_quantitaet", "endgeraete_qualitaet"]
    assert set(report.problems) <= set(report.todo)
    assert not set(report.works_well) & set(report.todo)
    assert [i.id for i in report.unanswered] == ["medienkonzept", "cloud_dienste", "dienstliche_emails"]


def test_amber_between_thresholds():
    house = shipped("medienhaus")
    answers = {"internetanbindung": 3, "cloud_dienste": 3, "lms": 4, "dienstliche_emails": 2}  # mean 3.0
    assert house_colours(house, answers)["fundament"] == Colour.AMBER


def test_all_null_answers_give_no_data_not_green():
    house = shipped("medienhaus")
    for answers in ({item.id: None for item in house.items()}, {}):
        assert set(house_colours(house, answers).values()) == {Colour.NO_DATA}
        report = house_report(house, answers)
        assert report.works_well == report.problems == report.todo == ()
        assert len(report.unanswered) == 20


def test_answers_that_do_not_fit_are_refused():
    house = shipped("medienhaus")
    with pytest.raises(AnswerError) as info:
        house_colours(house, {"lms": 7, "kitchen": 3, "smartphone": True})
    assert sorted(str(f) for f in info.value.findings) == [
        "line ?, kitchen: unknown item",
        "line ?, lms: value 7 is not on scale 'satisfaction5'",
        "line ?, smartphone: value True is not on scale 'satisfaction5'",
    ]
    with pytest.raises(AnswerError):
        house_colours(shipped("selbstevaluationsraster"), {})


# --- versions ------------------------------------------------------------------------------------


def test_versions_give_different_keys():
    text = (PACKAGE / "selbstevaluationsraster.yaml").read_text("utf-8")
    v1 = load_instrument(text)
    v2 = load_instrument(text.replace('version: "1.0"', 'version: "1.1"'))
    assert (v1.id, v1.key, v2.key) == ("selbstevaluationsraster", "selbstevaluationsraster@1.0", "selbstevaluationsraster@1.1")
    assert v1 != v2 and hash(v1) != hash(v2)
