"""The bytes of a download, streamed or not (a streamed body can be read only once, so it is kept)."""

from __future__ import annotations


def body(response) -> bytes:
    if not hasattr(response, "_test_body"):
        response._test_body = b"".join(response.streaming_content) if response.streaming else response.content
    return response._test_body
