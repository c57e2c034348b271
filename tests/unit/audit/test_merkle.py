"""The Merkle tree against a direct transcription of RFC 9162's recursive definitions (MTH,
PATH, PROOF) for every size up to 40, and proofs that fail when anything changes."""

from __future__ import annotations

import hashlib

import pytest

from onshi.audit.merkle import (
    EMPTY_ROOT,
    append_leaf,
    consistency_ranges,
    fold_blocks,
    inclusion_ranges,
    leaf_hash,
    node_hash,
    range_blocks,
    root_from_edge,
    split_point,
    tree_root,
    verify_consistency,
    verify_inclusion,
)

ENTRIES = [f"entry {i}".encode() for i in range(40)]


def mth(entries: list[bytes]) -> bytes:
    n = len(entries)
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return hashlib.sha256(b"\x00" + entries[0]).digest()
    k = split_point(n)
    return hashlib.sha256(b"\x01" + mth(entries[:k]) + mth(entries[k:])).digest()


def path(m: int, entries: list[bytes]) -> list[bytes]:
    n = len(entries)
    if n == 1:
        return []
    k = split_point(n)
    if m < k:
        return [*path(m, entries[:k]), mth(entries[k:])]
    return [*path(m - k, entries[k:]), mth(entries[:k])]


def subproof(m: int, entries: list[bytes], whole: bool) -> list[bytes]:
    n = len(entries)
    if m == n:
        return [] if whole else [mth(entries)]
    k = split_point(n)
    if m <= k:
        return [*subproof(m, entries[:k], whole), mth(entries[k:])]
    return [*subproof(m - k, entries[k:], False), mth(entries[:k])]


def from_ranges(ranges: list[tuple[int, int]]) -> list[bytes]:
    return [mth(ENTRIES[lo:hi]) for lo, hi in ranges]


def test_split_point_and_empty_root() -> None:
    assert [split_point(n) for n in (2, 3, 4, 5, 8, 9)] == [1, 2, 2, 4, 4, 8]
    assert EMPTY_ROOT == mth([]) == tree_root([])
    assert leaf_hash(b"a") == hashlib.sha256(b"\x00a").digest()
    assert node_hash(b"l", b"r") == hashlib.sha256(b"\x01lr").digest()


@pytest.mark.parametrize("size", range(1, 41))
def test_incremental_tree_matches_the_definition(size: int) -> None:
    edge: list[bytes] = []
    nodes = {}
    for i, entry in enumerate(ENTRIES[:size]):
        for node in append_leaf(edge, i, leaf_hash(entry)):
            nodes[(node.level, node.index)] = node.hash
    assert len(edge) == size.bit_count()
    assert root_from_edge(edge) == mth(ENTRIES[:size])
    for (level, index), digest in nodes.items():
        assert digest == mth(ENTRIES[index << level : (index + 1) << level])


@pytest.mark.parametrize("size", range(1, 41))
def test_inclusion_proofs(size: int) -> None:
    root = mth(ENTRIES[:size])
    for index in range(size):
        proof = from_ranges(inclusion_ranges(index, size))
        assert proof == path(index, ENTRIES[:size])
        leaf = leaf_hash(ENTRIES[index])
        assert verify_inclusion(index, size, leaf, proof, root)
        assert not verify_inclusion(index, size, leaf_hash(b"forged"), proof, root)
        if size > 1:
            assert not verify_inclusion((index + 1) % size, size, leaf, proof, root)
        if proof:
            assert not verify_inclusion(index, size, leaf, proof[:-1], root)


@pytest.mark.parametrize("second", range(1, 41))
def test_consistency_proofs(second: int) -> None:
    second_root = mth(ENTRIES[:second])
    for first in range(1, second + 1):
        proof = from_ranges(consistency_ranges(first, second))
        assert proof == subproof(first, ENTRIES[:second], True)
        first_root = mth(ENTRIES[:first])
        assert verify_consistency(first, second, first_root, second_root, proof)
        assert not verify_consistency(first, second, leaf_hash(b"x"), second_root, proof)
        rewritten = mth([*ENTRIES[: first - 1], b"rewritten", *ENTRIES[first:second]])
        assert not verify_consistency(first, second, first_root, rewritten, proof)


@pytest.mark.parametrize(("lo", "hi"), [(0, 13), (8, 13), (12, 13), (16, 23), (0, 32)])
def test_range_blocks_compose_the_range_hash(lo: int, hi: int) -> None:
    blocks = range_blocks(lo, hi)
    hashes = [mth(ENTRIES[i << lv : (i + 1) << lv]) for lv, i in blocks]
    assert fold_blocks(hashes) == mth(ENTRIES[lo:hi])


def test_bad_proof_arguments() -> None:
    with pytest.raises(ValueError, match="outside the tree"):
        inclusion_ranges(3, 3)
    with pytest.raises(ValueError, match="0 < first"):
        consistency_ranges(0, 3)
    assert not verify_consistency(0, 3, EMPTY_ROOT, EMPTY_ROOT, [])
    assert not verify_inclusion(5, 3, EMPTY_ROOT, [], EMPTY_ROOT)
