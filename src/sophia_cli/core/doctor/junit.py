"""Render a doctor report as JUnit XML, the format CI systems display natively."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from sophia_cli.core.doctor.models import DoctorReport, Status


def render_junit(report: DoctorReport) -> str:
    """One testsuite, one testcase per check; warnings pass with a note in system-out."""
    summary = report.summary
    suite = ET.Element(
        "testsuite",
        name="sophia doctor",
        tests=str(len(report.checks)),
        failures=str(summary.fail),
        skipped=str(summary.skip),
        errors="0",
        time=f"{summary.duration_ms / 1000:.3f}",
    )
    for result in report.checks:
        case = ET.SubElement(
            suite,
            "testcase",
            classname=f"doctor.{result.category}",
            name=result.name,
            time=f"{result.duration_ms / 1000:.3f}",
        )
        if result.status is Status.FAIL:
            ET.SubElement(case, "failure", message=result.detail).text = result.detail
        elif result.status is Status.SKIP:
            ET.SubElement(case, "skipped", message=result.detail)
        elif result.status is Status.WARN:
            ET.SubElement(case, "system-out").text = f"warning: {result.detail}"
    suites = ET.Element("testsuites", name="sophia", tests=str(len(report.checks)))
    suites.append(suite)
    ET.indent(suites)
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"
    )
