"""Summarise a schemathesis NDJSON report: cases, failures, and the statuses each operation
answered. Prints one JSON object on stdout; the Rust test (tests/schema_fuzz.rs) asserts on it.

usage: schemathesis_summary.py REPORT.ndjson
"""
import base64
import collections
import json
import sys


def main(path):
    statuses = collections.defaultdict(collections.Counter)
    failures = []
    scenarios = 0
    cases = 0
    with open(path) as f:
        for line in f:
            event = json.loads(line)
            finished = event.get("ScenarioFinished")
            if not finished:
                continue
            scenarios += 1
            recorder = finished["recorder"]
            cases += len(recorder.get("cases", {}))
            by_case = recorder.get("interactions", {})
            for case_id, interaction in by_case.items():
                response = interaction.get("response") or {}
                status = response.get("status_code")
                if status is None:
                    continue
                # Stateful scenarios carry several operations: name each by its case.
                case = recorder.get("cases", {}).get(case_id, {}).get("value", {})
                if case.get("method") and case.get("path"):
                    op = f'{case["method"].upper()} {case["path"]}'
                else:
                    op = recorder.get("label", "?")
                statuses[op][str(status)] += 1
            for case_id, checks in recorder.get("checks", {}).items():
                for check in checks:
                    if check.get("status") == "failure":
                        failures.append({
                            "operation": recorder.get("label"),
                            "check": check.get("name"),
                            "message": (check.get("failure_info") or {}).get("failure", {}).get("title")
                            or str(check.get("failure_info"))[:300],
                        })
    total = collections.Counter()
    for counter in statuses.values():
        total.update(counter)
    print(json.dumps({
        "scenarios": scenarios,
        "cases": cases,
        # Operations that answered anything but 405 (schemathesis also tries undocumented methods).
        "operations": sum(1 for c in statuses.values() if set(c) != {"405"}),
        "statuses": dict(sorted(total.items())),
        "by_operation": {op: dict(sorted(c.items())) for op, c in sorted(statuses.items())},
        "failures": failures,
    }))


if __name__ == "__main__":
    main(sys.argv[1])
