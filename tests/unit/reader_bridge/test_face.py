"""The SIMULATED face matcher, and that face images are never written nor sent."""

from __future__ import annotations

import builtins
import json
import os
from pathlib import Path
from typing import Any

import pytest
from bridge_fakes import FakePortal

from reader_bridge import face
from reader_bridge.face import SimulatedCamera, SimulatedFaceMatcher, simulated_card_photo
from reader_bridge.flow import KioskFlow, Step
from reader_bridge.portal import b64u
from reader_bridge.readers.inprocess import InProcessReader
from reader_bridge.virtual_card import VirtualJpkiCard


def test_simulated_matcher_is_deterministic() -> None:
    matcher = SimulatedFaceMatcher()
    photo = simulated_card_photo(b"certificate")
    same = SimulatedCamera.capture(photo, same_person=True)
    assert same == SimulatedCamera.capture(photo, same_person=True)
    assert matcher.match(same, photo).matched
    assert matcher.match(same, photo).score == 0.93
    other = SimulatedCamera.capture(photo, same_person=False)
    assert not matcher.match(other, photo).matched
    assert not matcher.match(same, simulated_card_photo(b"another card")).matched
    assert matcher.name == "simulated-v1"


def test_face_images_are_neither_written_nor_sent(
    card: VirtualJpkiCard, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    captured: list[bytes] = []
    real_capture = SimulatedCamera.capture

    def spy(card_photo: bytes, *, same_person: bool) -> bytes:
        image = real_capture(card_photo, same_person=same_person)
        captured.extend([image, card_photo])
        return image

    monkeypatch.setattr(face.SimulatedCamera, "capture", staticmethod(spy))
    writes: list[str] = []
    real_open, real_os_open = builtins.open, os.open

    def open_spy(file: Any, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        if any(flag in mode for flag in "wax+"):
            writes.append(str(file))
        return real_open(file, mode, *args, **kwargs)

    def os_open_spy(path: Any, flags: int, *args: Any, **kwargs: Any) -> int:
        if flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT):
            writes.append(str(path))
        return real_os_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", open_spy)
    monkeypatch.setattr(os, "open", os_open_spy)
    monkeypatch.chdir(tmp_path)

    reader = InProcessReader(["R"])
    portal = FakePortal(linked={card.certificate_der})
    flow = KioskFlow(reader, portal, SimulatedFaceMatcher())
    reader.insert(card, "R")
    flow.handle_event(reader.wait_for_event(1))  # type: ignore[arg-type]
    flow.choose("face")
    flow.capture_face(same_person=False)
    flow.capture_face(same_person=True)
    flow.set_consents({"health_check": True, "drug": True, "clinical": True, "surgery": True})
    flow.set_limit(True)
    assert flow.snapshot().step is Step.DONE

    assert captured
    assert writes == []
    assert list(tmp_path.iterdir()) == []
    sent = json.dumps(portal.submissions)
    for image in captured:
        assert b64u(image) not in sent
        assert image.hex() not in sent
    assert set(portal.submissions[0]["proof"]["face"]) == {"matcher", "matched", "score"}
