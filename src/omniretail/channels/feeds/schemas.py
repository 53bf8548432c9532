"""Feed payloads: the answer to a build request and the build report."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, Field


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


class FeedBuildRead(BaseModel):
    channel_id: int
    channel_code: str
    status: str = Field(description="`accepted`: the build runs now; read the report when it is done")
    report_url: str
    urls: dict[str, str] = Field(description="Feed file name → URL with its token (give these to Google)")


class FeedStatsRead(BaseModel):
    files: list[str]
    items: int = Field(description="Items written to the feed")
    left_out: int = Field(description="Items with errors, not written")
    warnings: int
    seconds: float
    stores: list[str] | None = None


class FeedIssueRead(BaseModel):
    feed: str
    id: str = Field(description="The item id (SKU)")
    store_code: str | None = None
    attribute: str
    message: str
    severity: Severity


class FeedReportRead(BaseModel):
    channel_id: int
    channel_code: str
    status: str = Field(description="`ok` or `failed` (the previous files are still served)")
    built_at: str
    seconds: float | None = None
    error: str | None = None
    last_success_at: str | None = None
    feeds: dict[str, FeedStatsRead] = Field(default_factory=dict)
    issue_counts: dict[str, dict[str, dict[str, int]]] = Field(
        default_factory=dict, description="feed → severity → attribute → number of issues")
    issues_total: int = 0
    errors_total: int = 0
    issues_truncated: bool = Field(default=False, description="More issues were found than are listed")
    issues: list[FeedIssueRead] = Field(default_factory=list)
    urls: dict[str, str] | None = Field(default=None, description="Feed URLs with their token "
                                                                  "(shown to those who may change the channel)")
