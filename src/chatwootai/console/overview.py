"""The overview: per domain and per day, from the outcomes the service records.

The figures come from :func:`chatwootai.outcomes.read_report` (the outcomes store, the same one
``GET /api/admin/outcomes`` reads); a deployment without that package says so instead of failing.
"""

from __future__ import annotations

import importlib
import inspect
import logging
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

from chatwootai.console.charts import bar_chart
from chatwootai.store.base import Store

log = logging.getLogger(__name__)

OUTCOMES_MODULE = "chatwootai.outcomes"
CHARTS = (
    ("messages", "Messages"),
    ("handoffs", "Handoffs"),
    ("llm_requests", "LLM requests"),
    ("cost_usd", "Estimated cost (USD)"),
    ("turn_ms_p95", "p95 turn time (ms)"),
)


def _reader() -> Any:
    try:
        module = importlib.import_module(OUTCOMES_MODULE)
    except ImportError:
        return None
    return getattr(module, "read_report", None)


def _plain(report: Any) -> dict[str, Any]:
    if hasattr(report, "model_dump"):
        data: dict[str, Any] = report.model_dump(mode="json")
        return data
    return dict(report)


async def overview(store: Store, domains: Sequence[str], *, days: int = 30) -> dict[str, Any]:
    """Each domain's report over the last `days` days (today included), with charts."""
    end = datetime.now(UTC).date()
    start = end - timedelta(days=days - 1)
    result: dict[str, Any] = {
        "available": False,
        "from": start.isoformat(),
        "to": end.isoformat(),
        "domains": [],
    }
    read = _reader()
    if read is None:
        result["reason"] = "outcomes not recorded yet: this deployment has no outcomes store"
        return result
    result["available"] = True
    for domain in domains:
        try:
            report = read(store, domain, start, end)
            if inspect.isawaitable(report):
                report = await report
            data = _plain(report)
        except Exception as exc:  # one domain's figures failing must not hide the others
            log.warning("overview of %s: %s", domain, exc)
            result["domains"].append({"domain": domain, "error": str(exc)})
            continue
        data["domain"] = domain
        data["charts"] = _charts(data.get("days", []), start, end)
        result["domains"].append(data)
    return result


def _charts(rows: list[dict[str, Any]], start: date, end: date) -> list[Any]:
    by_day = {str(row.get("date")): row for row in rows}
    labels: list[str] = []
    day = start
    while day <= end:
        labels.append(day.isoformat())
        day += timedelta(days=1)
    charts = []
    for field, title in CHARTS:
        values = [float(by_day.get(label, {}).get(field) or 0) for label in labels]
        charts.append(bar_chart(title, labels, values))
    return charts
