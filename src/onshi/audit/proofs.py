"""Proofs from the stored tree, and the patient's access receipts.

Hashes of ranges come from the stored complete subtrees: ``tlog_leaves`` for level 0 and
``tlog_nodes`` for the tile levels 8, 16 …; a subtree of a level in between is folded from the
at most 128 hashes of the tile level below it. An inclusion or consistency proof for any size up
to the current one costs two queries and at most O(128 log n) hashes.

A receipt (JSON, see docs/transparency-log.md) holds the entry bytes, its leaf index, the
inclusion proof to a signed checkpoint, the checkpoint and the log's verifier key; anyone can
check it offline (:func:`check_receipt`, ``onshi audit verify-receipt``, the access-log page).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Connection, and_, or_, select

from onshi.audit.integrator import ACCESS, AUDIT, CHECKPOINTS, LEAVES, NODES, entry_bytes
from onshi.audit.merkle import (
    consistency_ranges,
    fold_blocks,
    inclusion_ranges,
    leaf_hash,
    node_hash,
    range_blocks,
    verify_inclusion,
)
from onshi.audit.models import TILE_LEVELS, EntryKind
from onshi.audit.note import NoteError, Verifier, open_checkpoint

RECEIPT_VERSION = 1


class ProofUnavailableError(LookupError):
    """The sizes or index asked for are outside the signed tree (or no checkpoint exists)."""


def _stored_block(level: int, index: int) -> tuple[int, int, int]:
    """Where a complete subtree's hash comes from: the tile level at or below it and the range
    of stored hashes there, [first, last], that it folds."""
    base = level - level % TILE_LEVELS
    span = level - base
    return base, index << span, ((index + 1) << span) - 1


def _complete_root(hashes: list[bytes]) -> bytes:
    """The root of a complete subtree from its 2^k hashes of one level."""
    while len(hashes) > 1:
        hashes = [node_hash(hashes[i], hashes[i + 1]) for i in range(0, len(hashes), 2)]
    return hashes[0]


def _hashes(
    connection: Connection, blocks: Iterable[tuple[int, int]]
) -> dict[tuple[int, int], bytes]:
    wanted = {block: _stored_block(*block) for block in set(blocks)}
    leaf_ranges = [(lo, hi) for base, lo, hi in wanted.values() if base == 0]
    node_ranges = [(base, lo, hi) for base, lo, hi in wanted.values() if base > 0]
    stored: dict[tuple[int, int], bytes] = {}
    if leaf_ranges:
        condition = or_(*(LEAVES.c.leaf_index.between(lo, hi) for lo, hi in leaf_ranges))
        for row in connection.execute(
            select(LEAVES.c.leaf_index, LEAVES.c.leaf_hash).where(condition)
        ):
            stored[(0, int(row.leaf_index))] = bytes(row.leaf_hash)
    if node_ranges:
        condition = or_(
            *(
                and_(NODES.c.level == base, NODES.c.node_index.between(lo, hi))
                for base, lo, hi in node_ranges
            )
        )
        for node in connection.execute(
            select(NODES.c.level, NODES.c.node_index, NODES.c.hash).where(condition)
        ):
            stored[(int(node.level), int(node.node_index))] = bytes(node.hash)
    found: dict[tuple[int, int], bytes] = {}
    for block, (base, lo, hi) in wanted.items():
        parts = [stored.get((base, i)) for i in range(lo, hi + 1)]
        if any(part is None for part in parts):
            raise ProofUnavailableError("the tree does not hold the hashes this proof needs")
        found[block] = _complete_root(cast(list[bytes], parts))
    return found


def _range_hashes(connection: Connection, ranges: Sequence[tuple[int, int]]) -> list[bytes]:
    split = [range_blocks(lo, hi) for lo, hi in ranges]
    found = _hashes(connection, (block for blocks in split for block in blocks))
    return [fold_blocks([found[block] for block in blocks]) for blocks in split]


def signed_size(connection: Connection) -> int:
    size = connection.execute(
        select(CHECKPOINTS.c.tree_size).order_by(CHECKPOINTS.c.tree_size.desc()).limit(1)
    ).scalar()
    return int(size or 0)


def latest_checkpoint(connection: Connection) -> str | None:
    note = connection.execute(
        select(CHECKPOINTS.c.note).order_by(CHECKPOINTS.c.tree_size.desc()).limit(1)
    ).scalar()
    return None if note is None else str(note)


def checkpoint_note(connection: Connection, size: int) -> str | None:
    note = connection.execute(
        select(CHECKPOINTS.c.note).where(CHECKPOINTS.c.tree_size == size)
    ).scalar()
    return None if note is None else str(note)


def inclusion_proof(connection: Connection, index: int, size: int) -> list[bytes]:
    if not 0 <= index < size <= signed_size(connection):
        raise ProofUnavailableError("need 0 <= index < size <= the latest checkpoint's size")
    return _range_hashes(connection, inclusion_ranges(index, size))


def consistency_proof(connection: Connection, first: int, second: int) -> list[bytes]:
    if not 0 < first <= second <= signed_size(connection):
        raise ProofUnavailableError("need 0 < first <= second <= the latest checkpoint's size")
    return _range_hashes(connection, consistency_ranges(first, second))


def entry_position(connection: Connection, kind: EntryKind, entry_id: int) -> int | None:
    """The entry's position in the tree, or None while it awaits integration."""
    position = connection.execute(
        select(LEAVES.c.leaf_index).where(
            LEAVES.c.entry_kind == kind, LEAVES.c.entry_id == entry_id
        )
    ).scalar()
    return None if position is None else int(position)


def entry_at(connection: Connection, index: int) -> tuple[EntryKind, Any] | None:
    """The entry at a position (its kind and row), or None."""
    leaf = connection.execute(select(LEAVES).where(LEAVES.c.leaf_index == index)).one_or_none()
    if leaf is None:
        return None
    kind = EntryKind(leaf.entry_kind)
    table = AUDIT if kind is EntryKind.AUDIT else ACCESS
    row = connection.execute(select(table).where(table.c.id == leaf.entry_id)).one_or_none()
    return None if row is None else (kind, row)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def access_receipt(
    connection: Connection, access_id: int, verifier: Verifier
) -> dict[str, Any] | None:
    """The receipt of one access-log row, or None while it awaits integration."""
    row = connection.execute(select(ACCESS).where(ACCESS.c.id == access_id)).one_or_none()
    position = None if row is None else entry_position(connection, EntryKind.ACCESS, access_id)
    if row is None or position is None:
        return None
    note = connection.execute(
        select(CHECKPOINTS.c.note, CHECKPOINTS.c.tree_size)
        .order_by(CHECKPOINTS.c.tree_size.desc())
        .limit(1)
    ).one_or_none()
    if note is None or note.tree_size <= position:
        return None
    size = int(note.tree_size)
    proof = _range_hashes(connection, inclusion_ranges(position, size))
    return {
        "version": RECEIPT_VERSION,
        "entry": b64(entry_bytes(EntryKind.ACCESS, row)),
        "leaf_index": position,
        "tree_size": size,
        "inclusion_proof": [b64(h) for h in proof],
        "checkpoint": str(note.note),
        "log_key": verifier.encode(),
    }


class ReceiptError(ValueError):
    """A receipt that is malformed or does not verify."""


@dataclass(frozen=True)
class CheckedReceipt:
    entry: dict[str, Any]
    leaf_index: int
    tree_size: int
    origin: str


def check_receipt(receipt: Any, trusted_key: str | None = None) -> CheckedReceipt:
    """Verify a receipt offline: the checkpoint's signature by the log key (``trusted_key`` if
    given, else the one in the receipt, which must then be compared with the published key),
    and the entry's inclusion at ``leaf_index`` under the checkpoint's root."""
    try:
        if not isinstance(receipt, dict) or receipt.get("version") != RECEIPT_VERSION:
            raise ReceiptError("not a version 1 receipt")
        key = Verifier.decode(trusted_key or str(receipt["log_key"]))
        if trusted_key and receipt.get("log_key") != key.encode():
            raise ReceiptError("the receipt names another log key")
        note = str(receipt["checkpoint"])
        origin = note.split("\n", 1)[0]
        checkpoint = open_checkpoint(note, key, origin)
        entry = base64.b64decode(str(receipt["entry"]), validate=True)
        proof = [base64.b64decode(str(h), validate=True) for h in receipt["inclusion_proof"]]
        index, size = int(receipt["leaf_index"]), int(receipt["tree_size"])
    except (KeyError, TypeError, ValueError, binascii.Error) as exc:
        if isinstance(exc, ReceiptError):
            raise
        raise ReceiptError(f"malformed receipt: {exc}") from None
    if size != checkpoint.size:
        raise ReceiptError("the receipt's tree size is not the checkpoint's")
    if not verify_inclusion(index, size, leaf_hash(entry), proof, checkpoint.root_hash):
        raise ReceiptError("the entry is not included in the signed tree at that position")
    try:
        decoded = json.loads(entry.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise ReceiptError("the entry is not JSON") from None
    return CheckedReceipt(decoded, index, size, checkpoint.origin)


__all__ = ["NoteError", "ProofUnavailableError", "ReceiptError"]
