"""Small inline SVG charts rendered on the server (no JavaScript, no chart library)."""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

WIDTH = 360
HEIGHT = 110
PAD = 18


def _number(value: float) -> str:
    if value >= 100 or value == int(value):
        return f"{value:,.0f}"
    return f"{value:,.2f}" if value >= 1 else f"{value:.4f}"


def bar_chart(title: str, labels: Sequence[str], values: Sequence[float]) -> Markup:
    """A bar per label (a day), the highest value marked; every text escaped."""
    count = max(1, len(values))
    top = max([*values, 0.0])
    step = (WIDTH - 2 * PAD) / count
    width = max(1.0, step * 0.8)
    bars: list[str] = []
    for index, (label, value) in enumerate(zip(labels, values, strict=True)):
        height = 0.0 if top <= 0 else (HEIGHT - 2 * PAD) * value / top
        x = PAD + index * step
        y = HEIGHT - PAD - height
        bars.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{width:.1f}" height="{height:.1f}">'
            f"<title>{escape(label)}: {escape(_number(value))}</title></rect>"
        )
    first = escape(labels[0]) if labels else ""
    last = escape(labels[-1]) if labels else ""
    svg = (
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">'
        f'<text x="{PAD}" y="12" class="chart-title">{escape(title)} '
        f"(max {escape(_number(top))})</text>"
        + "".join(bars)
        + f'<line x1="{PAD}" y1="{HEIGHT - PAD}" x2="{WIDTH - PAD}" y2="{HEIGHT - PAD}"/>'
        f'<text x="{PAD}" y="{HEIGHT - 4}" class="chart-axis">{first}</text>'
        f'<text x="{WIDTH - PAD}" y="{HEIGHT - 4}" text-anchor="end" class="chart-axis">'
        f"{last}</text></svg>"
    )
    return Markup(svg)
