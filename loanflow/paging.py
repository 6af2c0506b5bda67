"""Paging helpers shared by pages and API classes."""


class CountedQuerySet:
    """A queryset whose size is already known (kept as a counter): a paginator slices it and
    takes its count from here instead of running COUNT(*) over the whole set."""

    def __init__(self, queryset, count: int):
        self.queryset, self._count = queryset, count

    def count(self) -> int:
        return self._count

    def __len__(self) -> int:
        return self._count

    def __getitem__(self, key):
        return self.queryset[key]

    @property
    def ordered(self) -> bool:
        return self.queryset.ordered
