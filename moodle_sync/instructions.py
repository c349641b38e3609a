"""Step-by-step instructions for the routes without the companion plugin (German default, English).

When a site cannot take a cartridge through web services (no ``local_lmsbridge``, no token),
a person does it: restores the Common Cartridge 1.1 file in Moodle / LOGINEO NRW LMS, imports
it with itslearning's Course Importer, or adds single OER items through Deep Linking. The
texts are data (no Flask) so that the tool's pages, the CLI and e-mails can show them.

Where the menu names come from:

* Moodle 4.x/5.x English names are the core language strings of Moodle 4.5 (``moremenu``
  "More", ``coursereuse`` "Course reuse", ``restore`` "Restore", backup's ``importfile``
  "Upload a backup file", ``restoretocurrentcourse``…, ``restorestage16action`` "Perform
  restore", mod_lti's ``selectcontent`` "Select content", ``addresourceoractivity``).
* German names are those of Moodle's German language pack for the restore screens
  (``restorestage*``, ``restoreto*``: "Weiter", "In diesen Kurs wiederherstellen",
  "Wiederherstellung ausführen", …) and of German Moodle 4.x guides for the course menu
  ("Mehr" → "Kurse wiederverwenden" → "Wiederherstellen"). Labels that were renamed in
  Moodle 4.x and whose current German wording could not be checked are given in English with
  a German description instead of an invented translation.
* itslearning: its Course Importer imports MBZ and IMSCC into an *existing* course; every
  import creates a folder in the course's resources named after the source, modules become
  subfolders, and the Course Importer app has to be enabled by the site's administrator. The
  exact button labels of the importer were not available, so the steps describe them.

Each LMS operator may rename or restrict menus (LOGINEO NRW LMS is Moodle, run per school).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

LMS_KINDS = ("moodle", "logineo", "itslearning")
LANGUAGES = ("de", "en")


@dataclass(frozen=True)
class Route:
    """One way to get the collection into a course, as numbered steps and notes."""

    key: str  # "restore", "course_importer", "deep_linking"
    lms: str
    lang: str
    title: str
    intro: str
    steps: tuple[str, ...]
    notes: tuple[str, ...] = field(default=())

    def render(self) -> str:
        lines = [self.title, "", self.intro, ""]
        lines += [f"{i}. {step}" for i, step in enumerate(self.steps, start=1)]
        if self.notes:
            lines.append("")
            lines += [f"- {note}" for note in self.notes]
        return "\n".join(lines)


def _lang(lang: str | None) -> str:
    code = (lang or "de").lower()[:2]
    return code if code in LANGUAGES else "de"


def _lms(lms: str) -> str:
    if lms not in LMS_KINDS:
        raise ValueError(f"unknown LMS {lms!r}; one of {', '.join(LMS_KINDS)}")
    return lms


def _sections_line(titles: Sequence[str], lang: str) -> str:
    pairs = [f"{i}: {t}" for i, t in enumerate(titles)]
    if lang == "de":
        return "Die Abschnitte heißen: " + "; ".join(pairs) + "."
    return "The sections are: " + "; ".join(pairs) + "."


def restore_instructions(
    lms: str,
    lang: str | None = "de",
    *,
    filename: str = "sammlung.imscc",
    section_titles: Sequence[str] = (),
) -> Route:
    """How a person puts the CC 1.1 file into a course of ``lms`` by hand."""
    lms, lang = _lms(lms), _lang(lang)
    if lms == "itslearning":
        return _course_importer(lang, filename)
    name = "LOGINEO NRW LMS" if lms == "logineo" else "Moodle 4.x/5.x"
    if lang == "de":
        steps = [
            f"Laden Sie die Datei „{filename}“ (Common Cartridge 1.1) über den Link auf dieser Seite herunter.",
            "Öffnen Sie den Kurs, in den die Sammlung soll – am besten einen neuen, leeren Kurs. Sie brauchen dort "
            "die Rolle Trainer/in (Recht, Kurse wiederherzustellen).",
            "Klicken Sie in der Kursnavigation auf „Mehr“ und dann auf „Kurse wiederverwenden“.",
            "Wählen Sie im Auswahlmenü oben links „Wiederherstellen“.",
            f"Ziehen Sie „{filename}“ in das Feld zum Hochladen einer Sicherungsdatei (englisch „Upload a backup "
            "file“) oder wählen Sie sie mit „Datei wählen…“ aus, und klicken Sie auf „Wiederherstellen“.",
            "Schritt „Bestätigen“: Moodle zeigt als Format „IMS Common Cartridge 1.1“. Klicken Sie auf „Weiter“.",
            "Schritt „Ziel“: Wählen Sie „In diesen Kurs wiederherstellen“ mit „Den gesicherten Kurs mit diesem Kurs "
            "verschmelzen“ (leerer Kurs) oder – um eine frühere Lieferung zu ersetzen – „Alle Inhalte dieses Kurses "
            "löschen und dann wiederherstellen“. Alternativ „Als neuen Kurs wiederherstellen“ und einen Kursbereich "
            "wählen. Dann „Weiter“.",
            "Schritte „Einstellungen“ und „Schema“: nichts ändern, jeweils „Weiter“.",
            "Schritt „Überprüfen“: „Wiederherstellung ausführen“, danach auf der Seite „Fertig“ „Weiter“.",
            "Moodle legt für jedes Modul der Sammlung einen Abschnitt an, zeigt den Titel aber nur als "
            "Abschnittsbeschreibung. Schalten Sie oben rechts den Bearbeitungsmodus ein und geben Sie jedem "
            "Abschnitt seinen Titel (Abschnitt bearbeiten); die Beschreibung, die nur den Titel wiederholt, "
            "können Sie leeren.",
        ]
        notes = [
            "Moodle liest nur Common Cartridge 1.0 und 1.1 – nehmen Sie die Datei in Version 1.1, nicht 1.3.",
            "„Verschmelzen“ fügt hinzu: Wer dieselbe Sammlung zweimal verschmilzt, hat jede Aktivität doppelt. "
            "Für eine erneute Lieferung „Alle Inhalte dieses Kurses löschen und dann wiederherstellen“ wählen "
            "(Einschreibungen bleiben erhalten).",
            "Der Abschnitt 0 „Über diese Sammlung“ enthält den Überblick und alle Lizenzangaben (TULLU) – bitte "
            "nicht löschen, er macht die Namensnennung sichtbar.",
            "Die Beschriftungen können je nach Sprachpaket und Design leicht abweichen.",
        ]
        logineo = (
            "LOGINEO NRW LMS ist Moodle; jede Schule hat eine eigene Instanz. Fehlt „Wiederherstellen“, hat "
            "die Schul-Administration es für Lehrkräfte nicht freigegeben – bitte dort nachfragen."
        )
        title, intro = (
            f"Die Sammlung in {name} wiederherstellen",
            "So kommt die Sammlung ohne Zusatz-Plugin als vollständiger Kurs in "
            f"{name}: als Common-Cartridge-Datei, die eine Lehrkraft wiederherstellt.",
        )
    else:
        steps = [
            f"Download “{filename}” (Common Cartridge 1.1) with the link on this page.",
            "Open the course the collection should go into – preferably a new, empty course. You need the teacher role "
            "there (the right to restore courses).",
            "In the course navigation click “More”, then “Course reuse”.",
            "In the menu at the top left choose “Restore”.",
            f"Drop “{filename}” into “Upload a backup file” (or use “Choose a file…”) and click “Restore”.",
            "Step “Confirm”: Moodle shows the format “IMS Common Cartridge 1.1”. Click “Next”.",
            "Step “Destination”: choose “Restore into this course” with “Merge the backup course into this course” (an "
            "empty course) or – to replace an earlier delivery – “Delete the contents of this course and then "
            "restore”. Or “Restore as a new course” and pick a category. Then “Next”.",
            "Steps “Settings” and “Schema”: change nothing, “Next” each time.",
            "Step “Review”: “Perform restore”, then “Continue” on the “Complete” page.",
            "Moodle makes a section of every module of the collection but shows its title only as the section "
            "description. Switch on “Edit mode” at the top right and give every section its title (edit the "
            "section); you may empty the description that only repeats the title.",
        ]
        notes = [
            "Moodle reads Common Cartridge 1.0 and 1.1 only – use the 1.1 file, not 1.3.",
            "“Merge” adds: merging the same collection twice gives every activity twice. To deliver again choose "
            "“Delete the contents of this course and then restore” (enrolments stay).",
            "Section 0 “About this collection” holds the overview and every licence line (TULLU) – please keep it, it "
            "makes the attribution visible.",
            "Labels may differ slightly with the language pack and the theme.",
        ]
        logineo = (
            "LOGINEO NRW LMS is Moodle, one site per school. If “Restore” is missing, the school's administrators "
            "have not allowed it for teachers – please ask them."
        )
        title, intro = (
            f"Restore the collection in {name}",
            f"Without the companion plugin the collection gets into {name} as a Common Cartridge file a teacher "
            "restores as a whole course.",
        )
    if lms == "logineo":
        notes.append(logineo)
    if section_titles:
        notes.append(_sections_line(section_titles, lang))
    return Route("restore", lms, lang, title, intro, tuple(steps), tuple(notes))


def _course_importer(lang: str, filename: str) -> Route:
    if lang == "de":
        return Route(
            "course_importer",
            "itslearning",
            lang,
            "Die Sammlung mit dem Course Importer in itslearning importieren",
            "itslearning importiert Common Cartridges (Version 1.1 bis 1.3) mit dem Course Importer in einen "
            "bestehenden Kurs. Über die Programmierschnittstelle kann das Werkzeug das nicht selbst erledigen: "
            "Inhalte in Kurse schreiben darf nur die Organisation-API, die itslearning eigens freigeben muss.",
            (
                f"Laden Sie die Datei „{filename}“ über den Link auf dieser Seite herunter (Version 1.1 funktioniert "
                "überall; itslearning liest auch 1.3).",
                "Öffnen Sie in itslearning den Kurs, in den die Sammlung soll; Sie brauchen dort Rechte zum "
                "Bearbeiten der Ressourcen.",
                "Öffnen Sie im Kurs den Course Importer. Finden Sie ihn nicht, muss die itslearning-Administration "
                "Ihrer Schule bzw. Ihres Schulträgers die App für Sie freischalten.",
                f"Wählen Sie „{filename}“ als Datei aus und starten Sie den Import.",
                "Prüfen Sie danach die Ressourcen des Kurses: Der Import legt einen Ordner mit dem Namen der Sammlung "
                "an; jedes Modul wird ein Unterordner.",
            ),
            (
                "Jeder Import legt einen neuen Ordner an – ein zweiter Import ersetzt nichts. Einen älteren Ordner "
                "löschen Sie selbst.",
                "Der Ordner „Über diese Sammlung“ enthält den Überblick und die Lizenzangaben (TULLU).",
                "Die Bezeichnungen im Course Importer können je nach itslearning-Version abweichen.",
            ),
        )
    return Route(
        "course_importer",
        "itslearning",
        lang,
        "Import the collection with itslearning's Course Importer",
        "itslearning imports Common Cartridges (versions 1.1 to 1.3) into an existing course with its Course "
        "Importer. The tool cannot do this through the API: writing content into courses needs itslearning's "
        "Organisation API, which itslearning has to grant.",
        (
            f"Download “{filename}” with the link on this page (version 1.1 works everywhere; itslearning also "
            "reads 1.3).",
            "In itslearning open the course the collection should go into; you need the right to edit its resources.",
            "Open the Course Importer in the course. If you cannot find it, your school's or school authority's "
            "itslearning administrators have to enable the app for you.",
            f"Choose “{filename}” as the file and start the import.",
            "Then look at the course's resources: the import creates a folder named after the collection, every "
            "module becomes a subfolder.",
        ),
        (
            "Every import creates a new folder – importing again replaces nothing. Delete an older folder yourself.",
            "The folder “About this collection” holds the overview and the licence lines (TULLU).",
            "The importer's labels may differ between itslearning versions.",
        ),
    )


def deep_linking_instructions(lms: str, lang: str | None = "de", *, tool_name: str = "LMS Bridge") -> Route:
    """How a teacher adds single OER items as links to the tool's viewer (no file, no plugin)."""
    lms, lang = _lms(lms), _lang(lang)
    if lms == "itslearning":
        if lang == "de":
            steps = (
                "Öffnen Sie den Kurs in itslearning und dort die Ressourcen (bzw. den Plan), in die das Material soll.",
                f"Klicken Sie auf „Hinzufügen“ und wählen Sie das Werkzeug „{tool_name}“.",
                f"{tool_name} öffnet die OER-Bibliothek Ihres Netzwerks: Wählen Sie die Materialien aus und "
                "bestätigen Sie.",
                "itslearning legt für jedes Material einen Link an; er öffnet das Material mit Namensnennung im "
                f"{tool_name}-Viewer.",
            )
            notes = (
                "Voraussetzung: Die itslearning-Administration hat das Werkzeug (LTI 1.3) für Ihre Schule freigegeben.",
                "Die Bezeichnungen können je nach itslearning-Version abweichen.",
            )
            title, intro = (
                "Einzelne Materialien per Deep Linking hinzufügen",
                "Ohne Datei: Sie holen Materialien aus der OER-Bibliothek direkt in den Kurs.",
            )
        else:
            steps = (
                "Open the course in itslearning and its resources (or the plan) where the material should go.",
                f"Click “Add” and choose the tool “{tool_name}”.",
                f"{tool_name} opens your network's OER library: select the materials and confirm.",
                f"itslearning adds a link per material; it opens the material with its attribution in {tool_name}'s "
                "viewer.",
            )
            notes = (
                "Prerequisite: the itslearning administrators have made the tool (LTI 1.3) available to your school.",
                "Labels may differ between itslearning versions.",
            )
            title, intro = (
                "Add single materials with Deep Linking",
                "No file: you pick materials from the OER library straight into the course.",
            )
        return Route("deep_linking", lms, lang, title, intro, steps, notes)
    if lang == "de":
        steps = (
            "Öffnen Sie den Kurs und schalten Sie oben rechts den Bearbeitungsmodus ein.",
            "Klicken Sie im gewünschten Abschnitt auf „Aktivität oder Material anlegen“ (englisch „Add an activity or "
            f"resource“) und wählen Sie „{tool_name}“.",
            "Klicken Sie im Formular auf „Inhalt auswählen“ (englisch „Select content“): Die OER-Bibliothek Ihres "
            "Netzwerks öffnet sich.",
            "Wählen Sie ein oder mehrere Materialien aus und bestätigen Sie; zurück im Formular speichern Sie.",
            f"Jedes Material erscheint als Aktivität im Kurs und öffnet sich mit Namensnennung im {tool_name}-Viewer.",
        )
        notes = (
            f"Voraussetzung: Die Administration hat „{tool_name}“ als externes Tool (LTI 1.3) eingerichtet und für "
            "die Aktivitätsauswahl freigegeben.",
            "Die Beschriftungen können je nach Sprachpaket und Design leicht abweichen.",
        )
        title, intro = (
            "Einzelne Materialien per Deep Linking hinzufügen",
            "Ohne Datei und ohne Plugin: Sie holen Materialien aus der OER-Bibliothek direkt in den Kurs.",
        )
    else:
        steps = (
            "Open the course and switch on “Edit mode” at the top right.",
            f"In the section you want click “Add an activity or resource” and choose “{tool_name}”.",
            "In the form click “Select content”: your network's OER library opens.",
            "Select one or more materials and confirm; back in the form, save.",
            f"Every material appears as an activity in the course and opens with its attribution in {tool_name}'s "
            "viewer.",
        )
        notes = (
            f"Prerequisite: the administrators have set up “{tool_name}” as an external tool (LTI 1.3) and show it "
            "in the activity chooser.",
            "Labels may differ slightly with the language pack and the theme.",
        )
        title, intro = (
            "Add single materials with Deep Linking",
            "No file, no plugin: you pick materials from the OER library straight into the course.",
        )
    return Route("deep_linking", lms, lang, title, intro, steps, notes)


def fallback_routes(
    lms: str,
    lang: str | None = "de",
    *,
    filename: str = "sammlung.imscc",
    section_titles: Sequence[str] = (),
    tool_name: str = "LMS Bridge",
) -> list[Route]:
    """Every route for ``lms`` without the plugin: the file restore/import first, then Deep Linking."""
    return [
        restore_instructions(lms, lang, filename=filename, section_titles=section_titles),
        deep_linking_instructions(lms, lang, tool_name=tool_name),
    ]


__all__ = ["LANGUAGES", "LMS_KINDS", "Route", "deep_linking_instructions", "fallback_routes", "restore_instructions"]
