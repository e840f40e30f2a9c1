"""Small helpers for benchmark figures and tables."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def summary(values: Sequence[float | None]) -> dict[str, float | int | None]:
    """Median, p95, mean, min and max of the values that are not None."""
    data = np.array([v for v in values if v is not None], dtype=float)
    if data.size == 0:
        return {"n": 0, "median": None, "p95": None, "mean": None, "min": None, "max": None}
    return {
        "n": int(data.size),
        "median": round(float(np.median(data)), 4),
        "p95": round(float(np.percentile(data, 95)), 4),
        "mean": round(float(data.mean()), 4),
        "min": round(float(data.min()), 4),
        "max": round(float(data.max()), 4),
    }


def print_table(rows: list[dict[str, object]], columns: list[str]) -> None:
    """Print rows as an aligned text table."""

    def fmt(value: object) -> str:
        if isinstance(value, float):
            return f"{value:.3f}"
        return "-" if value is None else str(value)

    cells = [[fmt(row.get(c)) for c in columns] for row in rows]
    widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(columns)]
    print("  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)))
    for r in cells:
        print("  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)))
