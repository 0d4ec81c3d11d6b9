"""One summary line from a Schemathesis NDJSON report (for .ci/fuzz-api):
operations tested, test cases (examples) run, responses by class, failed checks."""

import collections
import json
import re
import sys

OPERATION = re.compile(r"^(GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS) /")

operations = set()
cases = 0
responses = collections.Counter()
failed = collections.Counter()
for path in sys.argv[1:]:
    with open(path, encoding="utf-8") as report:
        for line in report:
            event = json.loads(line)
            finished = event.get("ScenarioFinished")
            if not finished:
                continue
            recorder = finished["recorder"]
            if OPERATION.match(recorder.get("label", "")):
                operations.add(recorder["label"])
            cases += len(recorder.get("cases", {}))
            for interaction in recorder.get("interactions", {}).values():
                response = interaction.get("response")
                if response:
                    responses[f"{response['status_code'] // 100}xx"] += 1
            for checks in recorder.get("checks", {}).values():
                for check in checks:
                    if check.get("status") != "success":
                        failed[check["name"]] += 1

by_class = ", ".join(f"{n} {c}" for c, n in sorted(responses.items()))
findings = ", ".join(f"{n} {name}" for name, n in sorted(failed.items())) or "none"
print(
    f"{len(operations)} operations, {cases} examples ({by_class}); failed checks: {findings}"
)
