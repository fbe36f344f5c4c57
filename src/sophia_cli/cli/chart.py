"""Terminal bar charts for series and rankings: plain Unicode blocks, no colours.

plotext 6.1 (pinned) changed its API and did not draw bars in our trials, so answers use
this small renderer instead: one bar per row, scaled to the largest value.
"""

from __future__ import annotations

from collections.abc import Sequence

_EIGHTHS = " ▏▎▍▌▋▊▉"


def bar(value: float, largest: float, width: int) -> str:
    """A bar of `width` cells at most, in eighths of a cell."""
    if largest <= 0 or value <= 0:
        return ""
    eighths = round(value / largest * width * 8)
    return "█" * (eighths // 8) + (_EIGHTHS[eighths % 8] if eighths % 8 else "")


def bars(
    title: str,
    labels: Sequence[str],
    values: Sequence[float],
    shown: Sequence[str],
    width: int = 40,
) -> str:
    """A titled horizontal bar chart; `shown` are the formatted values printed after bars."""
    largest = max((v for v in values if v is not None), default=0.0)
    pad = max((len(label) for label in labels), default=0)
    lines = [title]
    for label, value, text in zip(labels, values, shown, strict=True):
        lines.append(f"{label.rjust(pad)} │{bar(value, largest, width)} {text}")
    return "\n".join(lines)
