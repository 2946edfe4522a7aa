"""Tests for report_line.py on REPORT lines as Lambda writes them.

    python3 -m unittest discover -s scripts -p 'test_report_line.py'
"""

import json
import subprocess
import sys
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from report_line import ReportLineError, find_report, parse_report_line, percentile, summarize  # noqa: E402

COLD = (
    "REPORT RequestId: fe5a4a4a-d4a4-4d89-996b-64a9c91d6718\tDuration: 2.58 ms\t"
    "Billed Duration: 12 ms\tMemory Size: 128 MB\tMax Memory Used: 14 MB\tInit Duration: 8.45 ms\t"
)
WARM = (
    "REPORT RequestId: 3b5f7c1e-9a8d-4c2b-8e1f-0a6d2c4b9e77\tDuration: 0.94 ms\t"
    "Billed Duration: 1 ms\tMemory Size: 128 MB\tMax Memory Used: 15 MB\t"
)
# With active tracing Lambda appends X-Ray fields after the memory ones.
XRAY = (
    "REPORT RequestId: 6f1c2d3e-4a5b-4c6d-8e7f-9a0b1c2d3e4f\tDuration: 1.73 ms\t"
    "Billed Duration: 2 ms\tMemory Size: 512 MB\tMax Memory Used: 18 MB\t"
    "Init Duration: 11.02 ms\t\nXRAY TraceId: 1-5e1b4151-5ac6c58f5a6b2e1c4d3e2f1a\t"
    "SegmentId: 3d2c1b0a9f8e7d6c\tSampled: true\t"
)
TAIL = (
    "START RequestId: fe5a4a4a-d4a4-4d89-996b-64a9c91d6718 Version: $LATEST\n"
    "END RequestId: fe5a4a4a-d4a4-4d89-996b-64a9c91d6718\n" + COLD + "\n"
)


class ParseReportLine(unittest.TestCase):
    def test_cold_start_line_has_init_duration(self):
        r = parse_report_line(COLD)
        self.assertEqual(r.request_id, "fe5a4a4a-d4a4-4d89-996b-64a9c91d6718")
        self.assertEqual(r.duration_ms, 2.58)
        self.assertEqual(r.billed_duration_ms, 12)
        self.assertEqual(r.memory_size_mb, 128)
        self.assertEqual(r.max_memory_used_mb, 14)
        self.assertEqual(r.init_duration_ms, 8.45)
        self.assertTrue(r.cold)

    def test_warm_start_line_has_no_init_duration(self):
        r = parse_report_line(WARM)
        self.assertIsNone(r.init_duration_ms)
        self.assertFalse(r.cold)
        self.assertEqual(r.duration_ms, 0.94)
        self.assertEqual(r.max_memory_used_mb, 15)

    def test_xray_fields_are_ignored(self):
        r = find_report(XRAY)
        self.assertEqual(r.init_duration_ms, 11.02)
        self.assertEqual(r.memory_size_mb, 512)

    def test_spaces_instead_of_tabs_are_accepted(self):
        r = parse_report_line(COLD.replace("\t", "    "))
        self.assertEqual(r.init_duration_ms, 8.45)

    def test_report_is_found_in_a_log_tail(self):
        self.assertEqual(find_report(TAIL).duration_ms, 2.58)

    def test_line_that_is_not_a_report_is_refused(self):
        with self.assertRaisesRegex(ReportLineError, "not a REPORT line"):
            parse_report_line("START RequestId: x Version: $LATEST")

    def test_missing_field_is_named(self):
        with self.assertRaisesRegex(ReportLineError, "lacks Max Memory Used"):
            parse_report_line(WARM.replace("Max Memory Used: 15 MB\t", ""))

    def test_non_number_is_refused(self):
        with self.assertRaisesRegex(ReportLineError, "'Duration' is not a number"):
            parse_report_line(WARM.replace("Duration: 0.94 ms", "Duration: fast ms", 1))

    def test_wrong_unit_is_refused(self):
        with self.assertRaisesRegex(ReportLineError, "should be in MB"):
            parse_report_line(WARM.replace("Memory Size: 128 MB", "Memory Size: 128 ms"))

    def test_log_without_report_is_refused(self):
        with self.assertRaisesRegex(ReportLineError, "no REPORT line"):
            find_report("START RequestId: x\nEND RequestId: x\n")


class Percentiles(unittest.TestCase):
    def test_nearest_rank(self):
        values = list(range(1, 101))
        self.assertEqual(percentile(values, 50), 50)
        self.assertEqual(percentile(values, 99), 99)
        self.assertEqual(percentile([7.0], 99), 7.0)
        self.assertEqual(percentile([3, 1, 2], 50), 2)

    def test_summary_counts_cold_starts_and_skips_warm_init(self):
        text = summarize("arm64", [parse_report_line(COLD), parse_report_line(WARM)])
        self.assertIn("arm64: 2 invocations, 1 cold", text)
        self.assertRegex(text, r"Init Duration +p50 +8.45 ms +p99 +8.45 ms")
        self.assertRegex(text, r"Max Memory Used +p50 +14.00 MB +p99 +15.00 MB")


class CommandLine(unittest.TestCase):
    script = str(Path(__file__).resolve().parent / "report_line.py")

    def test_prints_json_for_a_log_tail(self):
        out = subprocess.run([sys.executable, self.script], input=TAIL, capture_output=True, text=True, check=True)
        self.assertEqual(json.loads(out.stdout)["init_duration_ms"], 8.45)

    def test_summary_reads_json_lines(self):
        first = subprocess.run([sys.executable, self.script], input=TAIL, capture_output=True, text=True, check=True)
        out = subprocess.run([sys.executable, self.script, "--summary", "x86_64"], input=first.stdout * 3,
                             capture_output=True, text=True, check=True)
        self.assertIn("x86_64: 3 invocations, 3 cold", out.stdout)

    def test_exits_non_zero_with_a_message_on_a_malformed_tail(self):
        out = subprocess.run([sys.executable, self.script], input="garbage\n", capture_output=True, text=True)
        self.assertEqual(out.returncode, 1)
        self.assertIn("no REPORT line", out.stderr)


if __name__ == "__main__":
    unittest.main()
