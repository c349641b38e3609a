"""Example content of the demo network: a filled board, the network year, a planned barcamp, a working group.

Runs once per network (it checks for existing goals). German texts, as the
people in a network write them.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool.demo import seed_network
from lti_tool.workspaces.barcamp.models import (
    Barcamp,
    BarcampHost,
    BarcampInterest,
    BarcampRoom,
    BarcampSession,
    BarcampSlot,
)
from lti_tool.workspaces.board.models import BoardGoal, BoardIndicator, BoardMeasure, BoardNote
from lti_tool.workspaces.groups.models import Group, GroupMaterial, GroupMembership, GroupPost
from lti_tool.workspaces.meetings.models import Meeting, MeetingDecision, MeetingTask
from lti_tool.workspaces.models import MemberSchool, Network, NetworkMember, Person

BERLIN = ZoneInfo("Europe/Berlin")


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), BERLIN).astimezone(UTC)


def seed_parts(s: Session, network: Network, manager: Person, members: dict[int, NetworkMember]) -> None:
    if s.scalar(select(BoardGoal.id).where(BoardGoal.network_id == network.id)) is not None:
        return
    schools = {sc.school_type: sc for sc in s.scalars(select(MemberSchool).where(MemberSchool.network_id == network.id))}
    gesamt, gym = schools["Gesamtschule"], schools["Gymnasium"]
    by_role: dict[tuple[str, int | None], NetworkMember] = {(m.role, m.school_id): m for m in members.values()}
    leader_ge = by_role.get(("leader", gesamt.id))
    teacher_ge = by_role.get(("teacher", gesamt.id))
    leader_gy = by_role.get(("leader", gym.id))
    today = date.today()

    # -- Zukunftswerkstatt --------------------------------------------------------
    notes = [
        ("bestand", gesamt.id, "WLAN in allen Klassenräumen", "<p>Seit den Sommerferien stabil; im Altbau noch Funklöcher.</p>", "nutzung", False),
        ("bestand", gesamt.id, "Medienkonzept von 2022", "<p>Muss überarbeitet werden; Verantwortliche fehlen.</p>", "medienkonzept", True),
        ("bestand", gym.id, "Tablet-Klassen in Jahrgang 7", "<p>Gute Erfahrungen, aber wenig Austausch zwischen den Fachschaften.</p>", "unterrichtsentwicklung", False),
        ("utopie", None, "Lernen ohne Medienbrüche", "<p>Material, Aufgaben und Feedback an einem Ort – für alle Schulen im Netzwerk.</p>", "nutzung", False),
        ("utopie", None, "Fortbildung von Kolleg*innen für Kolleg*innen", "<p>Jede Schule bietet einmal im Halbjahr einen Praxisnachmittag an.</p>", "fortbildung", False),
    ]
    for phase, school_id, title, body, feld, internal in notes:
        s.add(BoardNote(network_id=network.id, phase=phase, school_id=school_id, title=title, body=body,
                        handlungsfeld=feld, internal=internal, author_id=manager.id))
    goal = BoardGoal(network_id=network.id, title="Medienkonzepte aller Schulen aktualisieren",
                     description="<p>Bis zum Sommer hat jede Schule ein aktuelles, im Kollegium abgestimmtes Medienkonzept.</p>",
                     handlungsfeld="medienkonzept", school_id=None, created_by=manager.id)
    s.add(goal)
    s.flush()
    for text in ("Alle Schulen haben eine Steuergruppe benannt", "Entwurf in der Schulkonferenz vorgestellt"):
        s.add(BoardIndicator(goal_id=goal.id, text=text))
    owner = leader_ge.person_id if leader_ge else manager.id
    s.add(BoardMeasure(goal_id=goal.id, title="Steuergruppe Gesamtschule einsetzen", owner_id=owner,
                       due=today + timedelta(days=21), status="done"))
    s.add(BoardMeasure(goal_id=goal.id, title="Vorlage für Medienkonzepte im Netzwerk teilen", owner_id=manager.id,
                       due=today + timedelta(days=35), status="in_progress"))
    s.add(BoardMeasure(goal_id=goal.id, title="Entwurf Gymnasium Beispielburg",
                       owner_id=leader_gy.person_id if leader_gy else manager.id, due=today + timedelta(days=60), status="open"))

    # -- working group --------------------------------------------------------------
    group = Group(network_id=network.id, title="AG Feedback mit digitalen Werkzeugen",
                  description="<p>Wir sammeln Erfahrungen mit digitalem Feedback im Unterricht und teilen Material.</p>",
                  handlungsfeld="unterrichtsentwicklung",
                  coordinator_member_id=teacher_ge.id if teacher_ge else None, created_by=manager.id)
    s.add(group)
    s.flush()
    for m in (teacher_ge, leader_gy):
        if m is not None:
            s.add(GroupMembership(group_id=group.id, member_id=m.id))
    s.add(GroupMaterial(group_id=group.id, kind="link", title="Checkliste Feedback-Tools", author="AG Feedback",
                        licence="CC-BY-4.0", link_url="https://example.org/feedback-checkliste",
                        added_by=teacher_ge.person_id if teacher_ge else manager.id))
    s.add(GroupPost(group_id=group.id, author_id=teacher_ge.person_id if teacher_ge else manager.id,
                    body="<p>Nächstes Treffen: Wer bringt ein Beispiel aus dem eigenen Unterricht mit?</p>"))

    # -- network year -----------------------------------------------------------------
    kickoff = today - timedelta(days=30)
    meetings = [
        (Meeting(network_id=network.id, title="Zukunftswerkstatt – Auftakt", body="netzwerktreffen",
                 starts_at=_at(kickoff, 9), ends_at=_at(kickoff, 15), place="Gesamtschule Musterstadt, Aula",
                 agenda="<p>Bestandsaufnahme, Utopiephase, Umsetzungsphase</p>",
                 minutes="<p>Fünf Schulen, 38 Teilnehmende. Drei Ziele vereinbart.</p>", created_by=manager.id),
         ["Die AG Feedback startet im nächsten Monat."]),
        (Meeting(network_id=network.id, title="Lenkungsrunde", body="lenkungsrunde",
                 starts_at=_at(today + timedelta(days=10), 14), ends_at=_at(today + timedelta(days=10), 16),
                 place="Rathaus Musterstadt, Raum 2.14", agenda="<p>Budget Fortbildungen; Termine Netzwerkjahr</p>",
                 created_by=manager.id), []),
        (Meeting(network_id=network.id, title="Schulleitungsrunde", body="schulleitungsrunde",
                 starts_at=_at(today + timedelta(days=17), 15), ends_at=_at(today + timedelta(days=17), 16, 30),
                 video_url="https://video.example.org/lernen25-sl", agenda="<p>Stand der Medienkonzepte</p>",
                 created_by=manager.id), []),
        (Meeting(network_id=network.id, title="Netzwerktreffen als Barcamp", body="netzwerktreffen",
                 starts_at=_at(today + timedelta(days=28), 9), ends_at=_at(today + timedelta(days=28), 14),
                 place="Gymnasium Beispielburg", agenda="<p>Sessionplanung vor Ort, Dokumentation im Arbeitsbereich</p>",
                 created_by=manager.id), []),
    ]
    for meeting, decisions in meetings:
        s.add(meeting)
        s.flush()
        for i, text in enumerate(decisions):
            s.add(MeetingDecision(meeting_id=meeting.id, position=i, text=text))
    if leader_ge is not None:
        s.add(MeetingTask(meeting_id=meetings[0][0].id, title="Protokoll an das Kollegium weitergeben",
                          assignee_member_id=leader_ge.id, due=today + timedelta(days=7)))

    # -- a planned barcamp --------------------------------------------------------------
    camp_day = today + timedelta(days=28)
    camp = Barcamp(network_id=network.id, title="Netzwerktreffen Frühjahr", day=camp_day,
                   location="Gymnasium Beispielburg", meeting_id=meetings[3][0].id, created_by=manager.id)
    s.add(camp)
    s.flush()
    rooms = [BarcampRoom(barcamp_id=camp.id, name=n, capacity=c) for n, c in (("Aula", 60), ("Raum 101", 25), ("Bibliothek", 15))]
    slots = [BarcampSlot(barcamp_id=camp.id, starts=time(h, 0), ends=time(h, 45), label=label)
             for h, label in ((10, "Session 1"), (11, "Session 2"))]
    s.add_all([*rooms, *slots])
    s.flush()
    proposals = [
        ("Feedback mit Kahoot & Co. – was bleibt hängen?", "unterrichtsentwicklung", teacher_ge),
        ("Medienkonzept in 90 Tagen", "medienkonzept", leader_gy),
        ("Tablets verwalten ohne Stress", "nutzung", None),
    ]
    voters = [m.person_id for m in members.values()]
    for i, (title, feld, host) in enumerate(proposals):
        session = BarcampSession(barcamp_id=camp.id, title=title, handlungsfeld=feld,
                                 description="<p>Kurzer Input, dann Austausch.</p>",
                                 proposed_by=(host.person_id if host else manager.id))
        s.add(session)
        s.flush()
        s.add(BarcampHost(session_id=session.id, person_id=host.person_id if host else manager.id))
        for person_id in voters[: len(voters) - i]:
            s.add(BarcampInterest(session_id=session.id, person_id=person_id))
    s.flush()


def _register() -> None:
    if seed_parts not in seed_network.PART_SEEDERS:
        seed_network.PART_SEEDERS.append(seed_parts)


_register()
