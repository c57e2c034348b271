"""The intake end to end on the database: outcomes of the 5-item check, the links and their
audit events, idempotency, resuming after a crash, the result file, and the CLI."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from onshi.audit.models import AuditEvent
from onshi.clock import FrozenClock
from onshi.identifiers import my_number_hash
from onshi.identity.models import Person
from onshi.qualification.models import LinkStatus, MemberLink, Qualification
from onshi.qualification.visibility import shown_member_ids
from onshi.registration import cli as registration_cli
from onshi.registration.jobs import result_lines
from onshi.registration.models import (
    JobStatus,
    NoticeState,
    RegistrationJob,
    RegistrationNotice,
    RegistrationResult,
)
from onshi.registration.residents import SimulatedResidentLookup
from onshi.settings import Settings
from tests.factories import make_insurer
from tests.integration.registration.registration_helpers import (
    HANAKO,
    KEY,
    NAMESAKE,
    TARO,
    csv_bytes,
    family,
    import_bytes,
    row,
    write,
)


def _outcomes(db: Session, job_id: int) -> dict[int, tuple[str, str]]:
    return {
        r.line: (r.outcome.value, r.reason_code)
        for r in db.scalars(select(RegistrationResult).where(RegistrationResult.job_id == job_id))
    }


@pytest.fixture
def insurer_number(db: Session) -> str:
    insurer = make_insurer(db)
    family(db)
    db.commit()
    return insurer.number


MIXED = [
    row(),  # 2: Taro with his own number → linked
    row(number="2", kanji_name="山田 花子", kana_name="ﾔﾏﾀﾞ ﾊﾅｺ", birth_date="1955-06-07",
        sex="F", my_number="", relationship="2",
        address="東京都千代田区霞ヶ関一丁目二番地二号"),  # 3: variations, no number
    row(number="3", kanji_name="山田 次郎", kana_name="ヤマダ ジロウ", birth_date="1982-01-01",
        my_number=HANAKO),  # 4: another person's valid number (seed failure) → held
    row(number="4", birth_date="1980/04/01"),  # 5: rejected
    row(event="lose", number="99", lost_on="2026-03-30", loss_reason="03"),  # 6: unknown member
    row(number="5", my_number="", address=""),  # 7: missing address: 4 items only → held
]  # fmt: skip


def test_outcomes_links_and_audit(
    db: Session, db_engine: Engine, clock: FrozenClock, insurer_number: str
) -> None:
    job_id = import_bytes(db_engine, clock, insurer_number, csv_bytes(MIXED))
    outcomes = _outcomes(db, job_id)
    assert outcomes == {
        2: ("linked", "five_items.match"),
        3: ("linked_confirm", "five_items.variant"),
        4: ("held", "my_number.mismatch"),
        5: ("rejected", "registration.row.date_format"),
        6: ("rejected", "registration.member_not_found"),
        7: ("held", "five_items.mismatch"),
    }
    job = db.get(RegistrationJob, job_id)
    assert job is not None
    assert (job.status, job.processed_rows, job.linked_rows, job.held_rows) == (
        JobStatus.DONE, 6, 1, 2,
    )  # fmt: skip
    taro = db.scalar(select(Person).where(Person.my_number_hash == my_number_hash(KEY, TARO)))
    assert taro is not None
    links = db.scalars(
        select(MemberLink)
        .join(Qualification, Qualification.id == MemberLink.qualification_id)
        .order_by(Qualification.number)
    ).all()
    assert [link.status for link in links] == [
        LinkStatus.LINKED,
        LinkStatus.LINKED_CONFIRM,
        LinkStatus.HELD,
    ]
    # the held member names the holder of the number given (Hanako), and is shown to nobody
    hanako = db.scalar(select(Person).where(Person.my_number_hash == my_number_hash(KEY, HANAKO)))
    assert hanako is not None
    held_member = db.scalar(select(Qualification.id).where(Qualification.number == "3"))
    assert links[2].person_id == hanako.id
    assert held_member not in set(db.scalars(shown_member_ids(hanako.id)))
    assert set(db.scalars(shown_member_ids(hanako.id))) == {
        db.scalar(select(Qualification.id).where(Qualification.number == "2"))
    }
    # every link change audited
    actions = db.scalars(
        select(AuditEvent.action).where(AuditEvent.action.like("member_link.%"))
    ).all()
    assert sorted(actions) == [
        "member_link.held",
        "member_link.linked",
        "member_link.linked_confirm",
    ]
    # the namesake is never linked (same name, birth date and sex, another address)
    namesake = db.scalar(
        select(Person).where(Person.my_number_hash == my_number_hash(KEY, NAMESAKE))
    )
    assert namesake is None
    notices = db.scalars(select(RegistrationNotice).order_by(RegistrationNotice.line)).all()
    assert [n.state for n in notices] == [
        NoticeState.REGISTERED, NoticeState.REGISTERED, NoticeState.HELD, NoticeState.HELD,
    ]  # fmt: skip


def test_the_same_file_twice_changes_nothing(
    db: Session, db_engine: Engine, clock: FrozenClock, insurer_number: str
) -> None:
    data = csv_bytes(MIXED)
    import_bytes(db_engine, clock, insurer_number, data)
    before = (
        db.scalar(select(func.count()).select_from(MemberLink)),
        db.scalar(select(func.count()).select_from(AuditEvent)),
        db.scalar(select(func.count()).select_from(Qualification)),
    )
    second = import_bytes(db_engine, clock, insurer_number, data)
    db.expire_all()
    outcomes = _outcomes(db, second)
    assert {line: o for line, (o, _) in outcomes.items()} == {
        2: "unchanged", 3: "unchanged", 4: "unchanged", 5: "rejected", 6: "rejected",
        7: "unchanged",
    }  # fmt: skip
    after = (
        db.scalar(select(func.count()).select_from(MemberLink)),
        db.scalar(select(func.count()).select_from(AuditEvent)),
        db.scalar(select(func.count()).select_from(Qualification)),
    )
    assert after == before


def test_a_crash_mid_file_resumes_after_the_last_committed_chunk(
    db: Session, db_engine: Engine, clock: FrozenClock, insurer_number: str, tmp_path: Path
) -> None:
    rows = [row(number=str(n), my_number="", kanji_name="山田 太郎") for n in range(10, 16)]
    data = csv_bytes(rows)

    calls = {"n": 0}

    class Crashing(SimulatedResidentLookup):
        def by_birth_and_sex(self, keys):  # type: ignore[no-untyped-def]
            calls["n"] += 1
            if calls["n"] == 2:
                raise RuntimeError("the process died")
            return super().by_birth_and_sex(keys)

    with pytest.raises(RuntimeError):
        import_bytes(db_engine, clock, insurer_number, data, residents=Crashing, chunk_rows=2)
    job = db.scalars(select(RegistrationJob)).one()
    assert (job.status, job.processed_rows) == (JobStatus.RUNNING, 2)
    # the CLI finds the unfinished job of the same file and resumes it
    path = tmp_path / "resume.csv"
    path.write_bytes(data)
    code = registration_cli.run(
        argparse.Namespace(insurer=insurer_number, file=path, results=None),
        Settings(database_url=str(db_engine.url.render_as_string(hide_password=False)),
                 my_number_key=KEY, secret_key="s" * 40),
        clock,
    )  # fmt: skip
    assert code == 0
    db.expire_all()
    job = db.scalars(select(RegistrationJob)).one()
    assert (job.status, job.processed_rows) == (JobStatus.DONE, 6)
    lines = [
        r.line for r in db.scalars(select(RegistrationResult).order_by(RegistrationResult.line))
    ]
    assert lines == [2, 3, 4, 5, 6, 7]
    # each row is a distinct member (記号番号 differ) of the same person: 6 links, no duplicate
    assert db.scalar(select(func.count()).select_from(MemberLink)) == 6


def test_result_file_is_neutralised(
    db: Session, db_engine: Engine, clock: FrozenClock, insurer_number: str
) -> None:
    job_id = import_bytes(db_engine, clock, insurer_number, csv_bytes([row(event="=cmd")]))
    text = "".join(result_lines(db_engine, job_id))
    header, line = text.splitlines()
    assert header == "line,outcome,reason_code,message"
    assert line.startswith("2,rejected,registration.row.event.choice,")
    assert "\"'=cmd" not in text or "'=cmd" in text  # the echoed value is neutralised
    assert ",=" not in text


def _settings(engine: Engine) -> Settings:
    return Settings(
        database_url=engine.url.render_as_string(hide_password=False),
        my_number_key=KEY,
        secret_key="s" * 40,
    )


def test_cli(  # noqa: PLR0917
    db: Session,
    db_engine: Engine,
    clock: FrozenClock,
    insurer_number: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = write(tmp_path, MIXED)
    out = tmp_path / "results.csv"
    args = argparse.Namespace(insurer=insurer_number, file=path, results=out)
    assert registration_cli.run(args, _settings(db_engine), clock) == 0
    lines = out.read_text("utf-8").splitlines()
    assert lines[0] == "line,outcome,reason_code,message"
    assert [line.split(",")[1] for line in lines[1:]] == [
        "linked", "linked_confirm", "held", "rejected", "rejected", "held",
    ]  # fmt: skip
    assert "linked 1" in capsys.readouterr().out
    unknown = argparse.Namespace(insurer="99999999", file=path, results=None)
    assert registration_cli.run(unknown, _settings(db_engine), clock) == 1
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n", encoding="utf-8")
    assert registration_cli.run(argparse.Namespace(insurer=insurer_number, file=bad, results=None),
                                _settings(db_engine), clock) == 1  # fmt: skip
    missing = argparse.Namespace(insurer=insurer_number, file=tmp_path / "none.csv", results=None)
    assert registration_cli.run(missing, _settings(db_engine), clock) == 1
    err = capsys.readouterr().err
    assert "見出し" in err
    assert "header" in err


def test_japanese_header_cp932(
    db: Session, db_engine: Engine, clock: FrozenClock, insurer_number: str
) -> None:
    from onshi.registration.rows import COLUMNS, JAPANESE_HEADER

    r = row()
    text = ",".join(JAPANESE_HEADER) + "\r\n" + ",".join(r[c] for c in COLUMNS) + "\r\n"
    job_id = import_bytes(db_engine, clock, insurer_number, text.encode("cp932"))
    assert _outcomes(db, job_id) == {2: ("linked", "five_items.match")}


def test_insurer_change_compares_birth_date_and_kana(
    db: Session, db_engine: Engine, clock: FrozenClock, insurer_number: str
) -> None:
    import_bytes(db_engine, clock, insurer_number, csv_bytes([row()]))
    other = make_insurer(db)
    db.commit()
    # the new insurer registered Taro with his number, but the kana differs from the existing
    # member record at the first insurer (and so from J-LIS: held by the 5-item check too)
    job = import_bytes(db_engine, clock, other.number, csv_bytes([row(kana_name="ヤマダ タロ")]))
    assert _outcomes(db, job)[2][0] == "held"
