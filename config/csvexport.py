"""CSV for Excel, shared by the counter's money reports (counter/report_views.py) and its exports
(counter/export_views.py).

What Excel needs to open a file cleanly with a double click:
- UTF-8 with a byte-order mark: without it, Japanese Excel reads the file in Shift_JIS and names become mojibake;
- CRLF line ends, as Excel writes them (the csv module's default), quoting only where needed;
- yen as plain integers (no separators, no 円), so Excel sees numbers;
- text that Excel would run as a formula quoted with a leading apostrophe (OWASP "CSV injection"): names and
  reasons are typed in by residents and clerks.
"""

import csv
import datetime as dt

from django.http import HttpResponse, StreamingHttpResponse
from django.utils import translation

from config import clock

BOM = "\ufeff"
CONTENT_TYPE = "text/csv; charset=utf-8"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def cell(value):
    """Integers stay numbers; None is an empty cell; text starting like a formula gets an apostrophe."""
    if value is None:
        return ""
    if isinstance(value, int):
        return value
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def when(moment: dt.datetime | None) -> str:
    """An instant as Japan-time "YYYY-MM-DD HH:MM" (Excel reads it as a date and time); empty for None."""
    return clock.localtime(moment).strftime("%Y-%m-%d %H:%M") if moment else ""


class _Line:
    """A file-like object whose write() hands the formatted line back, so csv.writer can feed a generator."""

    def write(self, text: str) -> str:
        return text


def _lines(header, rows):
    writer = csv.writer(_Line())  # quotes as needed; lines end in CRLF
    yield BOM + writer.writerow([str(name) for name in header])
    for row in rows:
        yield writer.writerow([cell(value) for value in row])


def _attach(response, filename: str):
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def csv_response(filename: str, header, rows) -> HttpResponse:
    """The whole file at once: for reports of a bounded size (a day's takings, a month's fees)."""
    return _attach(HttpResponse("".join(_lines(header, rows)), content_type=CONTENT_TYPE), filename)


def streaming_csv_response(filename: str, header, rows) -> StreamingHttpResponse:
    """Line by line as the rows are read: a month of a city's lottery can be tens of thousands of rows, and a
    streamed file never holds them all in memory. The rows are produced after the view has returned, so the
    request's language is kept for them (state names, outcomes)."""
    language = translation.get_language()

    def content():
        with translation.override(language):
            yield from _lines(header, rows)

    return _attach(StreamingHttpResponse(content(), content_type=CONTENT_TYPE), filename)
