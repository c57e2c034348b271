"""``onshi audit verify [--against FILE]``, ``checkpoint`` and ``verify-receipt``: every way of
changing the log after a checkpoint left the machine is detected against the witness's copy,
even by an attacker who holds the signing key and rebuilds the whole tree and its checkpoints
(so that the stored checkpoints agree with the forgery)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, delete, insert, text
from sqlalchemy.orm import Session

from onshi.audit.integrator import (
    ACCESS,
    AUDIT,
    CHECKPOINTS,
    LEAVES,
    NODES,
    STATE,
    entry_bytes,
)
from onshi.audit.merkle import append_leaf, leaf_hash, pack_edge, root_from_edge
from onshi.audit.models import TREE_STATE_ID, EntryKind
from onshi.audit.note import Checkpoint, sign_checkpoint
from onshi.audit.proofs import access_receipt
from onshi.audit.services import record_audit, record_data_access
from onshi.cli import main
from onshi.clock import FrozenClock
from tests.factories import make_institution, make_person
from tests.tlog_helpers import TEST_IDENTITY, TEST_SIGNER, integrate

TOTAL = 10


@pytest.fixture
def cli_env(db_engine: Engine, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("ONSHI_ENV", "test")
    monkeypatch.setenv("ONSHI_SECRET_KEY", "s" * 40)
    monkeypatch.setenv("ONSHI_MY_NUMBER_KEY", "m" * 40)
    monkeypatch.setenv("ONSHI_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("ONSHI_DATABASE_URL", db_engine.url.render_as_string(hide_password=False))
    monkeypatch.setenv("ONSHI_TLOG_SIGNING_KEY", TEST_SIGNER.encode())
    monkeypatch.setenv("ONSHI_TLOG_ORIGIN", TEST_IDENTITY.origin)


def _log(db: Session, db_engine: Engine, witness: Path) -> None:
    """Ten entries in three checkpoints (sizes 4, 7, 10), each also in the witness file."""
    clock = FrozenClock()
    for batch in ((0, 4), (4, 7), (7, TOTAL)):
        for i in range(*batch):
            clock.advance(timedelta(seconds=1))
            record_audit(
                db,
                clock,
                actor_kind="staff",
                actor_id=3,
                action="qualification.changed",
                object_type="qualification",
                object_id=i,
                details={"n": i},
            )
        db.commit()
        integrate(db_engine, clock, export=witness)


def _forge(db_engine: Engine) -> None:
    """What an attacker with the database and the signing key can do: rebuild positions, tree
    and checkpoints from the entries as they now are: those still named by a position in that
    order, then any without one."""
    with db_engine.begin() as connection:
        placed = {
            (str(leaf.entry_kind), int(leaf.entry_id)): int(leaf.leaf_index)
            for leaf in connection.execute(LEAVES.select())
        }
        entries = []
        for kind, table in ((EntryKind.AUDIT, AUDIT), (EntryKind.ACCESS, ACCESS)):
            for row in connection.execute(table.select()):
                at = placed.get((kind.value, int(row.id)))
                entries.append(((0, at) if at is not None else (1, int(row.id)), kind, row))
        entries.sort(key=lambda item: item[0])
        for table in (LEAVES, NODES, STATE, CHECKPOINTS):
            connection.execute(delete(table))
        edge: list[bytes] = []
        for position, (_order, kind, row) in enumerate(entries):
            leaf = leaf_hash(entry_bytes(kind, row))
            connection.execute(
                insert(LEAVES).values(
                    leaf_index=position, entry_kind=kind, entry_id=row.id, leaf_hash=leaf
                )
            )
            for node in append_leaf(edge, position, leaf):
                connection.execute(
                    insert(NODES).values(level=node.level, node_index=node.index, hash=node.hash)
                )
        size, root = len(entries), root_from_edge(edge)
        now = FrozenClock().now()
        connection.execute(
            insert(STATE).values(
                id=TREE_STATE_ID,
                tree_size=size,
                right_edge=pack_edge(edge),
                root_hash=root,
                updated_at=now,
            )
        )
        note = sign_checkpoint(TEST_SIGNER, Checkpoint(TEST_IDENTITY.origin, size, root))
        connection.execute(
            insert(CHECKPOINTS).values(tree_size=size, root_hash=root, note=note, created_at=now)
        )


_AT = "(SELECT entry_id FROM tlog_leaves WHERE leaf_index = :at)"


def _edit(db: Session) -> None:
    db.execute(
        text(f"""UPDATE audit_events SET details = '{{"n": 99}}' WHERE id = {_AT}"""), {"at": 2}
    )


def _delete(db: Session) -> None:
    db.execute(text(f"DELETE FROM audit_events WHERE id = {_AT}"), {"at": 3})
    db.execute(text("DELETE FROM tlog_leaves WHERE leaf_index = 3"))
    for position in range(4, TOTAL):
        db.execute(
            text("UPDATE tlog_leaves SET leaf_index = :new WHERE leaf_index = :old"),
            {"new": position - 1, "old": position},
        )


def _reorder(db: Session) -> None:
    first, second = (
        db.execute(
            text("SELECT entry_id FROM tlog_leaves WHERE leaf_index = :at"), {"at": at}
        ).scalar_one()
        for at in (1, 4)
    )
    swap = text("UPDATE tlog_leaves SET entry_id = :id WHERE leaf_index = :at")
    db.execute(swap, {"at": 1, "id": -1})
    db.execute(swap, {"at": 4, "id": first})
    db.execute(swap, {"at": 1, "id": second})


def _truncate(db: Session) -> None:
    at_or_after = "(SELECT entry_id FROM tlog_leaves WHERE leaf_index >= :at)"
    db.execute(text(f"DELETE FROM audit_events WHERE id IN {at_or_after}"), {"at": 8})


def _rewrite(db: Session) -> None:
    """Replace everything after the first checkpoint with a different history."""
    at_or_after = "(SELECT entry_id FROM tlog_leaves WHERE leaf_index >= :at)"
    db.execute(text(f"DELETE FROM audit_events WHERE id IN {at_or_after}"), {"at": 4})
    db.execute(text("DELETE FROM tlog_leaves WHERE leaf_index >= 4"))
    clock = FrozenClock()
    for i in range(6):
        record_audit(
            db,
            clock,
            actor_kind="system",
            actor_id=None,
            action="other",
            object_type="x",
            object_id=i,
        )
    db.flush()


TAMPERING: dict[str, Callable[[Session], None]] = {
    "edited": _edit,
    "deleted": _delete,
    "reordered": _reorder,
    "truncated": _truncate,
    "rewritten": _rewrite,
}


def test_an_untouched_log_verifies(
    db: Session,
    db_engine: Engine,
    tmp_path: Path,
    cli_env: None,
    capsys: pytest.CaptureFixture[str],
) -> None:
    witness = tmp_path / "witness.txt"
    _log(db, db_engine, witness)
    assert main(["audit", "verify"]) == 0
    assert main(["audit", "verify", "--against", str(witness)]) == 0
    out = capsys.readouterr().out
    assert "ok: 10 entries, 3 checkpoints" in out
    assert main(["audit", "checkpoint"]) == 0
    assert capsys.readouterr().out.splitlines()[:2] == [TEST_IDENTITY.origin, "10"]


@pytest.mark.parametrize("case", sorted(TAMPERING))
def test_tampering_is_detected_against_the_witness(
    db: Session,
    db_engine: Engine,
    tmp_path: Path,
    cli_env: None,
    capsys: pytest.CaptureFixture[str],
    *,
    case: str,
) -> None:
    witness = tmp_path / "witness.txt"
    _log(db, db_engine, witness)
    TAMPERING[case](db)
    db.commit()
    # Without forging, the stored checkpoints already disagree.
    assert main(["audit", "verify"]) == 1
    _forge(db_engine)
    assert main(["audit", "verify"]) == 0, "the forgery agrees with the stored checkpoints"
    capsys.readouterr()
    assert main(["audit", "verify", "--against", str(witness)]) == 1
    err = capsys.readouterr().err
    assert "FAILED" in err
    expected = "truncated" if case == "truncated" else "root_mismatch"
    assert f"PROBLEM {expected}" in err


def test_a_witness_file_from_another_key_or_cut_short_is_refused(
    db: Session,
    db_engine: Engine,
    tmp_path: Path,
    cli_env: None,
    capsys: pytest.CaptureFixture[str],
) -> None:
    witness = tmp_path / "witness.txt"
    _log(db, db_engine, witness)
    text_ = witness.read_text()
    (tmp_path / "cut.txt").write_text(text_[: len(text_) // 2])
    assert main(["audit", "verify", "--against", str(tmp_path / "cut.txt")]) in (1, 2)
    (tmp_path / "forged.txt").write_text(text_.replace("\n10\n", "\n11\n"))
    assert main(["audit", "verify", "--against", str(tmp_path / "forged.txt")]) == 1
    assert "bad_checkpoint" in capsys.readouterr().err
    assert main(["audit", "verify", "--against", str(tmp_path / "missing.txt")]) == 2


def test_verify_receipt_offline(
    db: Session,
    db_engine: Engine,
    tmp_path: Path,
    cli_env: None,
    capsys: pytest.CaptureFixture[str],
) -> None:
    person = make_person(db)
    institution = make_institution(db)
    clock = FrozenClock()
    access = record_data_access(
        db,
        clock,
        person_id=person.id,
        data_kind="drug",
        purpose="emergency",
        institution_id=institution.id,
    )
    db.commit()
    _log(db, db_engine, tmp_path / "witness.txt")
    with db_engine.connect() as connection:
        receipt = access_receipt(connection, access.id, TEST_IDENTITY.verifier)
    assert receipt is not None
    good = tmp_path / "receipt.json"
    good.write_text(json.dumps(receipt))
    assert main(["audit", "verify-receipt", str(good)]) == 0
    assert main(["audit", "verify-receipt", str(good), "--key", TEST_SIGNER.verifier.encode()]) == 0
    assert "検証済み / VERIFIED" in capsys.readouterr().out
    bad = tmp_path / "altered.json"
    bad.write_text(json.dumps({**receipt, "leaf_index": receipt["leaf_index"] + 1}))
    assert main(["audit", "verify-receipt", str(bad)]) == 1
    (tmp_path / "junk.json").write_text("{not json")
    assert main(["audit", "verify-receipt", str(tmp_path / "junk.json")]) == 1
    assert "NOT VERIFIED" in capsys.readouterr().err
