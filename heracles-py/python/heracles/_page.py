"""One page of a list: its items and where it lies in the whole list."""

from __future__ import annotations

from typing import Any, Dict, Generic, Iterator, List, Mapping, Sequence, TypeVar, overload

__all__ = ["Page"]

T = TypeVar("T")


class Page(Sequence[T], Generic[T]):
    """One page of a list answer: ``data`` (the items, as models), ``total`` (matches in all
    pages — only those the caller may read), ``limit``, ``offset`` and ``has_more``. A page is
    a sequence of its items: iterate it, index it, ``len()`` it."""

    __slots__ = ("data", "total", "limit", "offset", "has_more")

    data: List[T]
    total: int
    limit: int
    offset: int
    has_more: bool

    def __init__(
        self, data: List[T], total: int, limit: int, offset: int, has_more: bool
    ) -> None:
        self.data = data
        self.total = total
        self.limit = limit
        self.offset = offset
        self.has_more = has_more

    @classmethod
    def _from_answer(cls, answer: Mapping[str, Any], wrap: Any) -> "Page[T]":
        p = answer["pagination"]
        return cls(
            [wrap(item) for item in answer["data"]],
            p["total"],
            p["limit"],
            p["offset"],
            p["has_more"],
        )

    @property
    def next_offset(self) -> int:
        """The offset of the next page."""
        return self.offset + len(self.data)

    def __iter__(self) -> Iterator[T]:
        return iter(self.data)

    def __len__(self) -> int:
        return len(self.data)

    @overload
    def __getitem__(self, index: int) -> T: ...

    @overload
    def __getitem__(self, index: slice) -> List[T]: ...

    def __getitem__(self, index: Any) -> Any:
        return self.data[index]

    def __bool__(self) -> bool:
        return bool(self.data)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Page):
            return NotImplemented
        return (self.data, self.total, self.limit, self.offset, self.has_more) == (
            other.data,
            other.total,
            other.limit,
            other.offset,
            other.has_more,
        )

    __hash__ = None  # type: ignore[assignment]

    def to_dict(self) -> Dict[str, Any]:
        """The REST API's list answer: ``{"data": [...], "pagination": {...}}``."""
        return {
            "data": [getattr(item, "to_dict", lambda: item)() for item in self.data],
            "pagination": {
                "total": self.total,
                "limit": self.limit,
                "offset": self.offset,
                "has_more": self.has_more,
            },
        }

    def __repr__(self) -> str:
        return (
            f"Page({len(self.data)} items, total={self.total}, limit={self.limit}, "
            f"offset={self.offset}, has_more={self.has_more})"
        )
