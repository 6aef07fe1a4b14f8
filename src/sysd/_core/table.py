"""format-table.c's column widths (systemd 252), shared by every table sysd prints."""

from __future__ import annotations

__all__ = ["column_widths"]


def column_widths(requested: list[int], width: int | None) -> list[int]:
    """table_print()'s column widths: what each column asks for when the table fits (or
    ``width`` is None); else each gets its minimum (1) plus a share of what is left by
    weight (all 100), a column whose share covers its request getting that request first."""
    n = len(requested)
    minimum = [1] * n
    weight = [100] * n
    total_requested = sum(requested) + n - 1
    if width is None or width >= total_requested:
        return list(requested)
    effective = max(width, sum(minimum) + n - 1)
    extra = effective - (sum(minimum) + n - 1)
    weight_sum = sum(weight)
    out: list[int | None] = [None] * n
    finalize = False
    while True:
        restart = False
        for j in range(n):
            if out[j] is not None:
                continue
            if weight_sum == 0:
                w = minimum[j] + extra // (n - j)
            else:
                w = minimum[j] + (extra * weight[j]) // weight_sum
            if w >= requested[j]:
                w = requested[j]
                restart = True
            elif not finalize:
                continue
            out[j] = w
            extra -= w - minimum[j]
            weight_sum -= weight[j]
            if restart and not finalize:
                break
        if finalize:
            break
        if not restart:
            finalize = True
    return [w if w is not None else minimum[j] for j, w in enumerate(out)]
