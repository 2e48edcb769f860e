"""One chart renderer for pages and PDFs: server-side SVG drawn by pygal, text kept as text.

The same SVG is shown on a report page and printed in its PDF (and in the nightly report). It is
embedded as an <img> with a data: URI: the page's Content-Security-Policy refuses inline <style>,
which an inline <svg> would need, while an image keeps its own styles. Every chart carries its title
as alternative text, and every report shows the table of the same figures beside it.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Sequence
from decimal import Decimal

import pygal
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from pygal.style import Style

KINDS = ("line", "bar", "stacked_bar", "hbar", "pie")
# The same faces as the PDF base template: a CJK face first, which also carries Latin letters and digits.
FONT_STACK = (
    "'Noto Sans CJK SC', 'Noto Sans SC', 'Source Han Sans SC', 'WenQuanYi Micro Hei', 'Microsoft YaHei', "
    "'PingFang SC', 'Noto Sans', 'DejaVu Sans', sans-serif"
)
COLOURS = ("#2f6fb0", "#e07b39", "#3a9d5d", "#c0392b", "#8e6bbf", "#8c6d46", "#d35f9c", "#6b7b8c", "#b5a531", "#2aa5b8")
STYLE = Style(
    font_family=FONT_STACK,
    background="transparent",
    plot_background="transparent",
    foreground="#333",
    foreground_strong="#111",
    foreground_subtle="#999",
    colors=COLOURS,
    title_font_size=15,
    label_font_size=11,
    major_label_font_size=11,
    legend_font_size=11,
    value_font_size=10,
    tooltip_font_size=11,
)
_CLASSES = {
    "line": pygal.Line,
    "bar": pygal.Bar,
    "stacked_bar": pygal.StackedBar,
    "hbar": pygal.HorizontalBar,
    "pie": pygal.Pie,
}
Number = Decimal | int | float | None
# pygal always writes its configuration as a <script> for its optional JavaScript; the charts here are static.
# (Text inside the element is XML-escaped, so the first closing tag is its end.)
_SCRIPT = re.compile(r"<script\b[^>]*>.*?</script>|<script\b[^>]*/>", re.DOTALL)


def _static(svg: str) -> SafeString:
    return mark_safe(_SCRIPT.sub("", svg))  # noqa: S308 - pygal escapes the labels it writes


def _plotted(value: Number) -> float | None:
    """A value's position on the chart (drawing only: every figure shown as text comes from the table)."""
    return None if value is None else float(value)


def _formatter(money: bool):
    if money:
        return lambda value: "" if value is None else f"{value:,.2f}"
    return lambda value: "" if value is None else (f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}")


def chart_svg(
    *,
    kind: str,
    title: str,
    labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[Number]]],
    money: bool = False,
    height: int = 280,
    width: int = 720,
) -> SafeString:
    """An SVG chart (markup) of one or more series over the labels; `pie` takes one value per label in one series."""
    if kind not in KINDS:
        raise ValueError(f"unknown chart kind {kind!r}; one of {', '.join(KINDS)}")
    chart = _CLASSES[kind](
        style=STYLE,
        js=[],  # no script: nothing is fetched, the image is static
        disable_xml_declaration=True,
        explicit_size=True,
        width=width,
        height=height,
        title=str(title),
        value_formatter=_formatter(money),
        show_legend=kind == "pie" or len(series) > 1,
        legend_at_bottom=True,
        legend_at_bottom_columns=min(max(len(series), 1), 4) if kind != "pie" else 4,
        truncate_legend=40,
        truncate_label=24,
        x_label_rotation=30 if kind != "hbar" and len(labels) > 12 else 0,
        show_minor_x_labels=len(labels) <= 31,
        x_labels_major_every=max(1, len(labels) // 12) if len(labels) > 31 else None,
        no_data_text=_("No data for this period"),
        margin=8,
        print_values=False,
        max_scale=6,  # a few round figures on the value axis, not one every few pixels
    )
    if kind == "pie":
        values = series[0][1] if series else []
        for label, value in zip(labels, values, strict=False):
            chart.add(str(label), [_plotted(value)])
    else:
        chart.x_labels = [str(label) for label in labels]
        for name, values in series:
            chart.add(str(name), [_plotted(value) for value in values])
    return _static(chart.render(is_unicode=True))


def chart_img(svg: str, title: str) -> SafeString:
    """The SVG as an image for a page or a PDF, with its title as the alternative text."""
    data = base64.b64encode(svg.encode("utf-8")).decode("ascii")
    return format_html('<img class="chart" src="data:image/svg+xml;base64,{}" alt="{}">', data, title)


def sparkline_svg(values: Sequence[Number], *, width: int = 160, height: int = 40) -> SafeString:
    """A small line without axes or labels, for a figure on the dashboard."""
    chart = pygal.Line(
        style=STYLE,
        js=[],
        disable_xml_declaration=True,
        explicit_size=True,
        width=width,
        height=height,
        show_legend=False,
        show_x_labels=False,
        show_y_labels=False,
        show_dots=False,
        margin=2,
        spacing=0,
        fill=True,
        no_data_text="",
    )
    chart.add("", [_plotted(value) for value in values])
    return _static(chart.render(is_unicode=True))
