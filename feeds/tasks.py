"""Worker tasks of the feeds app: ids in, nothing personal in the payload."""

from __future__ import annotations

import uuid

from feeds.models import FeedSource
from feeds.services.sources import feed_source_poll


def poll_feed_source(source_id: str) -> str:
    source = FeedSource.objects.filter(pk=uuid.UUID(source_id), enabled=True).first()
    if source is None:
        return "gone"  # deleted or disabled since the schedule fired
    result = feed_source_poll(source=source)
    if result.summary is None:
        return f"failed: {result.failure}"
    return "not modified" if not result.changed else "read"
