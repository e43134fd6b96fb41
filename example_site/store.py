"""A helper module the example site imports: a small thread-safe in-memory store."""

from __future__ import annotations

import itertools
import threading
from dataclasses import asdict, dataclass, field


@dataclass
class Member:
    id: int
    name: str
    email: str
    tags: list[str] = field(default_factory=list)


class MemberStore:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._members: dict[int, Member] = {}

    def add(self, name: str, email: str, tags: list[str] | None = None) -> Member:
        with self._lock:
            member = Member(next(self._ids), name, email, tags or [])
            self._members[member.id] = member
            return member

    def get(self, member_id: int) -> Member | None:
        return self._members.get(member_id)

    def replace(self, member_id: int, name: str, email: str) -> Member | None:
        with self._lock:
            if member_id not in self._members:
                return None
            self._members[member_id] = Member(member_id, name, email)
            return self._members[member_id]

    def remove(self, member_id: int) -> bool:
        with self._lock:
            return self._members.pop(member_id, None) is not None

    def all(self) -> list[dict[str, object]]:
        return [asdict(m) for m in self._members.values()]


members = MemberStore()
members.add("Ada Lovelace", "ada@example.com", ["admin"])
