"""The audit trail's rules: who acted, how an event's hash is made, how a chain is checked.

Each event's hash covers the hash of the event before it, so changing or removing any event
changes every hash after it. The database makes the hashes (migration 2026-11-24T09:00); this
module recomputes them from the canonical text the database gives for each event.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

#: What the first event links to.
GENESIS = bytes(32)

#: Actors of events nobody signed in caused (registration, failed sign-ins), and of the CLI.
ANONYMOUS = "anonymous"
CLI = "system:cli"


def account_actor(account_id: int) -> str:
    return f"account:{account_id}"


def event_hash(prev_hash: bytes, canonical: str) -> bytes:
    """SHA-256 of the previous hash followed by the event's canonical text in UTF-8."""
    return hashlib.sha256(prev_hash + canonical.encode("utf-8")).digest()


@dataclass(frozen=True, slots=True)
class ChainHead:
    """The chain as it stood after event `seq`: that event's hash and time.

    Seq 0 is the empty chain: hash GENESIS, no time.
    """

    seq: int
    hash_hex: str
    at: dt.datetime | None


@dataclass(frozen=True, slots=True)
class ChainCheck:
    """What recomputing the chain found; `first_bad_seq` names where it first breaks."""

    ok: bool
    events: int
    first_bad_seq: int | None
    reason: str | None
    head_seq: int
    head_hash_hex: str


class ChainWalker:
    """Checks events fed in seq order, stopping at the first fault, then the head against the
    last event."""

    def __init__(self) -> None:
        self.events = 0
        self.last_seq = 0
        self.last_hash = GENESIS
        self.bad_seq: int | None = None
        self.reason: str | None = None

    def _fail(self, seq: int, reason: str) -> bool:
        self.bad_seq, self.reason = seq, reason
        return False

    def add(self, seq: int, prev_hash: bytes, row_hash: bytes, canonical: str) -> bool:
        """Check one event; False (and stop feeding) at the first fault."""
        expected = self.last_seq + 1
        if seq != expected:
            if seq > expected:
                return self._fail(expected, f"event {expected} is missing")
            return self._fail(seq, f"event {seq} is out of order")
        if prev_hash != self.last_hash:
            return self._fail(seq, f"event {seq} does not link to event {seq - 1}")
        if event_hash(prev_hash, canonical) != row_hash:
            return self._fail(seq, f"event {seq} does not match its hash")
        self.events += 1
        self.last_seq, self.last_hash = seq, row_hash
        return True

    def result(self, head_seq: int | None, head_hash: bytes | None) -> ChainCheck:
        if self.bad_seq is None:
            if head_seq is None or head_hash is None:
                self._fail(self.last_seq + 1, "the head row is missing")
            elif head_seq > self.last_seq:
                first = self.last_seq + 1
                gap = f"event {first} is" if first == head_seq else f"events {first}-{head_seq} are"
                self._fail(first, f"{gap} missing")
            elif head_seq < self.last_seq:
                self._fail(head_seq + 1, f"event {head_seq + 1} is beyond the head")
            elif head_hash != self.last_hash:
                self._fail(head_seq, f"the head's hash differs from event {head_seq}'s")
        return ChainCheck(
            ok=self.bad_seq is None,
            events=self.events,
            first_bad_seq=self.bad_seq,
            reason=self.reason,
            head_seq=head_seq or 0,
            head_hash_hex=(head_hash or b"").hex(),
        )
