"""The per-item report of a feed build: counts for everything, the issues themselves up to a bound.

Memory stays flat in the item count: issues beyond ``MAX_ISSUES`` are counted (per feed, severity and
attribute) but not kept, and the report says it was truncated.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

from .validation import ERROR, WARNING, Issue

MAX_ISSUES = 10_000


@dataclass
class FeedStats:
    files: list[str] = field(default_factory=list)
    items: int = 0  # written to the feed
    left_out: int = 0  # items with errors
    warnings: int = 0
    seconds: float = 0.0
    stores: list[str] | None = None  # local inventory: the store codes written


class FeedReport:
    def __init__(self, *, max_issues: int = MAX_ISSUES) -> None:
        self.max_issues = max_issues
        self.issues: list[dict[str, Any]] = []
        self.counts: Counter[tuple[str, str, str]] = Counter()  # (feed, severity, attribute)
        self.stats: dict[str, FeedStats] = {}

    def add(self, feed: str, issues: list[Issue], **extra: str) -> None:
        for issue in issues:
            self.counts[(feed, issue.severity, issue.attribute)] += 1
            if len(self.issues) < self.max_issues:
                self.issues.append({"feed": feed, **extra, **issue.as_dict()})

    def warnings(self, feed: str) -> int:
        return sum(n for (f, severity, _a), n in self.counts.items() if f == feed and severity == WARNING)

    def set_stats(self, feed: str, stats: FeedStats) -> None:
        self.stats[feed] = stats

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def as_dict(self) -> dict[str, Any]:
        by_attribute: dict[str, dict[str, dict[str, int]]] = {}
        for (feed, severity, attribute), n in sorted(self.counts.items()):
            by_attribute.setdefault(feed, {}).setdefault(severity, {})[attribute] = n
        return {
            "feeds": {name: {k: v for k, v in asdict(s).items() if v is not None} for name, s in self.stats.items()},
            "issue_counts": by_attribute,
            "issues_total": self.total,
            "errors_total": sum(n for (_f, severity, _a), n in self.counts.items() if severity == ERROR),
            "issues_truncated": self.total > len(self.issues),
            "issues": self.issues,
        }
