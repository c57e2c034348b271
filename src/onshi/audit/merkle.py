"""The Merkle tree of the transparency log, as defined by RFC 9162 ("Certificate Transparency
Version 2.0", section 2.1): pure functions, no database.

- leaf hash: SHA-256(0x00 || entry bytes); interior node: SHA-256(0x01 || left || right);
  the empty tree's root is SHA-256 of nothing.
- The tree over n leaves splits at k, the largest power of two smaller than n.
- The right edge ("compact range" of [0, n)) is the list of hashes of the complete subtrees n
  splits into, largest (leftmost) first: one per set bit of n. Appending a leaf merges it with
  the edge's last hashes while the size is odd, so integration is O(log n) per leaf and yields
  each newly completed subtree (stored so proofs can be built for any size later).
- Proofs name the ranges [lo, hi) whose hashes they need (:func:`inclusion_ranges`,
  :func:`consistency_ranges`); :func:`range_blocks` splits a range into the complete aligned
  subtrees whose stored hashes compose it (:func:`fold_blocks`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()


def leaf_hash(entry: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + entry).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def split_point(n: int) -> int:
    """The largest power of two strictly smaller than ``n`` (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


@dataclass(frozen=True)
class NewNode:
    """A complete subtree finished by an append: leaves [index << level, (index + 1) << level)."""

    level: int
    index: int
    hash: bytes


def append_leaf(edge: list[bytes], size: int, leaf: bytes) -> list[NewNode]:
    """Add ``leaf`` at position ``size`` to the right edge (modified in place); returns the
    subtrees (level >= 1) this completes."""
    completed: list[NewNode] = []
    current, level, rest = leaf, 0, size
    while rest & 1:
        current = node_hash(edge.pop(), current)
        level += 1
        rest >>= 1
        completed.append(NewNode(level, size >> level, current))
    edge.append(current)
    return completed


def root_from_edge(edge: Sequence[bytes]) -> bytes:
    if not edge:
        return EMPTY_ROOT
    root = edge[-1]
    for left in reversed(edge[:-1]):
        root = node_hash(left, root)
    return root


def pack_edge(edge: Sequence[bytes]) -> bytes:
    return b"".join(edge)


def unpack_edge(packed: bytes, size: int) -> list[bytes]:
    edge = [packed[i : i + HASH_SIZE] for i in range(0, len(packed), HASH_SIZE)]
    if len(edge) != size.bit_count() or any(len(h) != HASH_SIZE for h in edge):
        raise ValueError("stored right edge does not match the tree size")
    return edge


def range_blocks(lo: int, hi: int) -> list[tuple[int, int]]:
    """The complete aligned subtrees (level, index) that make up [lo, hi), left to right. For
    the ranges proofs use (lo a multiple of a power of two >= hi - lo) they shrink left to
    right, so :func:`fold_blocks` gives the RFC 9162 hash of the range."""
    blocks = []
    while lo < hi:
        level = (lo & -lo).bit_length() - 1 if lo else (hi - lo).bit_length()
        while (1 << level) > hi - lo:
            level -= 1
        blocks.append((level, lo >> level))
        lo += 1 << level
    return blocks


def fold_blocks(hashes: Sequence[bytes]) -> bytes:
    root = hashes[-1]
    for left in reversed(hashes[:-1]):
        root = node_hash(left, root)
    return root


def inclusion_ranges(index: int, size: int) -> list[tuple[int, int]]:
    """The ranges whose hashes form the inclusion proof of leaf ``index`` in a tree of ``size``
    leaves (RFC 9162 2.1.3.1), from the leaf's sibling up to the root's child."""
    if not 0 <= index < size:
        raise ValueError("leaf index outside the tree")
    ranges: list[tuple[int, int]] = []
    lo, hi = 0, size
    while hi - lo > 1:
        k = split_point(hi - lo)
        if index < lo + k:
            ranges.append((lo + k, hi))
            hi = lo + k
        else:
            ranges.append((lo, lo + k))
            lo = lo + k
    ranges.reverse()
    return ranges


def consistency_ranges(first: int, second: int) -> list[tuple[int, int]]:
    """The ranges whose hashes form the consistency proof between sizes ``first`` and
    ``second`` (RFC 9162 2.1.4.1), in proof order. Empty when the sizes are equal."""
    if not 0 < first <= second:
        raise ValueError("consistency proofs need 0 < first <= second")
    ranges: list[tuple[int, int]] = []
    lo, hi, m, whole = 0, second, first, True
    while True:
        n = hi - lo
        if m == n:
            if not whole:
                ranges.append((lo, hi))
            break
        k = split_point(n)
        if m <= k:
            ranges.append((lo + k, hi))
            hi = lo + k
        else:
            ranges.append((lo, lo + k))
            lo, m, whole = lo + k, m - k, False
    ranges.reverse()
    return ranges


def verify_inclusion(
    index: int, size: int, leaf: bytes, proof: Sequence[bytes], root: bytes
) -> bool:
    """RFC 9162 2.1.3.2: does ``proof`` take ``leaf`` at ``index`` to ``root``?"""
    if not 0 <= index < size:
        return False
    fn, sn, result = index, size - 1, leaf
    for sibling in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            result = node_hash(sibling, result)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            result = node_hash(result, sibling)
        fn >>= 1
        sn >>= 1
    return sn == 0 and result == root


def verify_consistency(
    first: int, second: int, first_root: bytes, second_root: bytes, proof: Sequence[bytes]
) -> bool:
    """RFC 9162 2.1.4.2: is the tree of ``second`` leaves an append-only extension of the tree
    of ``first`` leaves?"""
    if not 0 < first <= second:
        return False
    if first == second:
        return not proof and first_root == second_root
    path = list(proof)
    if first & (first - 1) == 0:
        path.insert(0, first_root)
    if not path:
        return False
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return fr == first_root and sr == second_root and sn == 0


def tree_root(leaves: Iterable[bytes]) -> bytes:
    """The root over leaf hashes (used by the verifier and tests)."""
    edge: list[bytes] = []
    for size, leaf in enumerate(leaves):
        append_leaf(edge, size, leaf)
    return root_from_edge(edge)
