"""Signed checkpoints: the C2SP formats, Ed25519 key IDs, tampering and foreign keys."""

from __future__ import annotations

import base64
import hashlib

import pytest

from onshi.audit.note import (
    Checkpoint,
    NoteError,
    Signer,
    Verifier,
    open_checkpoint,
    sign_checkpoint,
    split_notes,
)

SIGNER = Signer("example.org/log", bytes(range(32)))
ORIGIN = "example.org/log"
ROOT = hashlib.sha256(b"root").digest()


def test_note_layout_and_key_id() -> None:
    note = sign_checkpoint(SIGNER, Checkpoint(ORIGIN, 7, ROOT))
    body, signature = note.split("\n\n")
    assert body == f"{ORIGIN}\n7\n{base64.b64encode(ROOT).decode()}"
    assert signature.startswith("\u2014 example.org/log ")
    raw = base64.b64decode(signature.split(" ")[2])
    public = SIGNER.verifier.public_key
    expected_id = hashlib.sha256(b"example.org/log\n\x01" + public).digest()[:4]
    assert raw[:4] == expected_id
    assert SIGNER.verifier.verify((body + "\n").encode(), raw[4:])
    assert open_checkpoint(note, SIGNER.verifier, ORIGIN) == Checkpoint(ORIGIN, 7, ROOT)


def test_keys_round_trip() -> None:
    assert Signer.decode(SIGNER.encode()) == SIGNER
    assert Verifier.decode(SIGNER.verifier.encode()) == SIGNER.verifier
    generated = Signer.generate("x.test/log")
    assert Signer.decode(generated.encode()) == generated
    broken = SIGNER.verifier.encode().replace("+", "+00", 1)
    with pytest.raises(NoteError):
        Verifier.decode(broken)
    with pytest.raises(NoteError):
        Signer.generate("has space")


@pytest.mark.parametrize(
    "tamper",
    [
        lambda n: n.replace("\n7\n", "\n8\n"),
        lambda n: n.replace(ORIGIN, "other.org/log", 1),
        lambda n: n[:-6] + ("A" if n[-6] != "A" else "B") + n[-5:],
        lambda n: n.split("\n\n")[0] + "\n\n",
        lambda n: n.replace("\u2014", "-"),
    ],
)
def test_tampered_notes_fail(tamper: object) -> None:
    note = sign_checkpoint(SIGNER, Checkpoint(ORIGIN, 7, ROOT))
    with pytest.raises(NoteError):
        open_checkpoint(tamper(note), SIGNER.verifier, ORIGIN)  # type: ignore[operator]


def test_a_note_by_another_key_fails_and_cosignatures_are_ignored() -> None:
    other = Signer("example.org/log", bytes(range(1, 33)))
    note = sign_checkpoint(other, Checkpoint(ORIGIN, 7, ROOT))
    with pytest.raises(NoteError, match="not signed"):
        open_checkpoint(note, SIGNER.verifier, ORIGIN)
    witness = Signer("witness.example", bytes(range(2, 34)))
    mine = sign_checkpoint(SIGNER, Checkpoint(ORIGIN, 7, ROOT))
    cosigned = mine + sign_checkpoint(witness, Checkpoint(ORIGIN, 7, ROOT)).split("\n\n")[1]
    assert open_checkpoint(cosigned, SIGNER.verifier, ORIGIN).size == 7


def test_export_file_splits_into_notes() -> None:
    notes = [sign_checkpoint(SIGNER, Checkpoint(ORIGIN, n, ROOT)) for n in (1, 2, 3)]
    assert split_notes("".join(note + "\n" for note in notes)) == notes
    with pytest.raises(NoteError):
        split_notes(notes[0].split("\n\n")[0])
