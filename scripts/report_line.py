"""Parse the REPORT line Lambda writes at the end of each invocation's log.

    REPORT RequestId: <id>\tDuration: 2.58 ms\tBilled Duration: 12 ms\t
    Memory Size: 128 MB\tMax Memory Used: 14 MB\tInit Duration: 8.45 ms

`Init Duration` is there only on a cold start. Used by coldstart-aws.sh:

    python3 scripts/report_line.py < log-tail.txt           # one JSON object
    python3 scripts/report_line.py --summary LABEL < samples.jsonl
        # p50 and p99 of init, duration and memory over those JSON objects
"""

import json
import math
import re
import sys
from dataclasses import asdict, dataclass
from typing import Optional


class ReportLineError(ValueError):
    """The text holds no REPORT line, or one whose fields cannot be read."""


@dataclass(frozen=True)
class Report:
    request_id: str
    duration_ms: float
    billed_duration_ms: float
    memory_size_mb: int
    max_memory_used_mb: int
    init_duration_ms: Optional[float]  # None on a warm start

    @property
    def cold(self) -> bool:
        return self.init_duration_ms is not None


_FIELD = re.compile(r"^\s*([A-Za-z][A-Za-z ]*?):\s*(\S+)(?:\s+(ms|MB))?\s*$")
_REQUIRED = {
    "RequestId": ("request_id", None),
    "Duration": ("duration_ms", "ms"),
    "Billed Duration": ("billed_duration_ms", "ms"),
    "Memory Size": ("memory_size_mb", "MB"),
    "Max Memory Used": ("max_memory_used_mb", "MB"),
}
_OPTIONAL = {"Init Duration": ("init_duration_ms", "ms")}


def parse_report_line(line: str) -> Report:
    """Parse one REPORT line; raise ReportLineError saying what is wrong."""
    text = line.strip()
    if not text.startswith("REPORT "):
        raise ReportLineError(f"not a REPORT line (it should start with 'REPORT '): {line!r}")
    # Fields are tab separated; some log views turn tabs into runs of spaces.
    parts = re.split(r"\t|\s{2,}", text[len("REPORT "):])
    values = {}
    for part in filter(None, (p.strip() for p in parts)):
        m = _FIELD.match(part)
        if not m:
            raise ReportLineError(f"cannot read field {part!r} in REPORT line: {line!r}")
        name, value, unit = m.groups()
        spec = _REQUIRED.get(name) or _OPTIONAL.get(name)
        if spec is None:
            continue  # e.g. XRAY TraceId, Restore Duration: not needed here
        attr, want_unit = spec
        if unit != want_unit:
            raise ReportLineError(f"field {name!r} should be in {want_unit or 'no unit'}, got {part!r}")
        if want_unit is None:
            values[attr] = value
        else:
            try:
                values[attr] = int(value) if want_unit == "MB" else float(value)
            except ValueError:
                raise ReportLineError(f"field {name!r} is not a number: {part!r}") from None
    missing = [name for name, (attr, _) in _REQUIRED.items() if attr not in values]
    if missing:
        raise ReportLineError(f"REPORT line lacks {', '.join(missing)}: {line!r}")
    values.setdefault("init_duration_ms", None)
    return Report(**values)


def find_report(log_text: str) -> Report:
    """Parse the REPORT line found in a log tail (e.g. invoke --log-type Tail)."""
    for line in log_text.splitlines():
        if line.startswith("REPORT "):
            return parse_report_line(line)
    raise ReportLineError("no REPORT line in the log text")


def percentile(values, p: float) -> float:
    """Nearest-rank percentile: the smallest value with at least p% at or below it."""
    if not values:
        raise ValueError("percentile of no values")
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


def summarize(label: str, reports) -> str:
    """One line per measure, p50 and p99, over the given reports."""
    reports = list(reports)
    lines = [f"{label}: {len(reports)} invocations, {sum(r.cold for r in reports)} cold"]
    measures = [
        ("Init Duration", "ms", [r.init_duration_ms for r in reports if r.cold]),
        ("Duration", "ms", [r.duration_ms for r in reports]),
        ("Max Memory Used", "MB", [r.max_memory_used_mb for r in reports]),
    ]
    for name, unit, values in measures:
        if values:
            lines.append(f"  {name:<16} p50 {percentile(values, 50):>8.2f} {unit}   p99 {percentile(values, 99):>8.2f} {unit}")
        else:
            lines.append(f"  {name:<16} no samples")
    return "\n".join(lines)


def main() -> int:
    if len(sys.argv) == 3 and sys.argv[1] == "--summary":
        reports = [Report(**json.loads(line)) for line in sys.stdin if line.strip()]
        if not reports:
            print("report_line.py: error: no samples to summarize", file=sys.stderr)
            return 1
        print(summarize(sys.argv[2], reports))
        return 0
    if len(sys.argv) != 1:
        print("usage: report_line.py [--summary LABEL] < input", file=sys.stderr)
        return 2
    try:
        report = find_report(sys.stdin.read())
    except ReportLineError as e:
        print(f"report_line.py: error: {e}", file=sys.stderr)
        return 1
    print(json.dumps(asdict(report)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
