"""Schemathesis hooks for .ci/fuzz-api (loaded through SCHEMATHESIS_HOOKS).

One extra check: every 4xx answer is an RFC 9457 problem document, as ARCHITECTURE.md
promises ("Errors"), so a client can always read what went wrong the same way.
"""

import json

import schemathesis

PROBLEM_JSON = "application/problem+json"


@schemathesis.check
def problem_details_for_client_errors(ctx, response, case):
    """A 4xx response is application/problem+json with `type`, `title` and `status`,
    and its `status` is the HTTP status."""
    status = response.status_code
    if not 400 <= status < 500:
        return None
    content_types = response.headers.get("content-type", [])
    media_type = content_types[0].split(";")[0].strip().lower() if content_types else ""
    if media_type != PROBLEM_JSON:
        raise AssertionError(
            f"{status} answered with content type {media_type or '(none)'!r}, not {PROBLEM_JSON}"
        )
    try:
        body = json.loads(response.content)
    except ValueError as error:
        raise AssertionError(f"{status} problem document is not JSON: {error}") from None
    if not isinstance(body, dict):
        raise AssertionError(f"{status} problem document is not a JSON object")
    missing = [field for field in ("type", "title", "status") if field not in body]
    if missing:
        raise AssertionError(f"{status} problem document lacks {', '.join(missing)}")
    if not isinstance(body["type"], str) or not isinstance(body["title"], str):
        raise AssertionError(f"{status} problem document's type and title are not strings")
    if body["status"] != status:
        raise AssertionError(
            f"problem document says status {body['status']!r} but the response is {status}"
        )
    return None
