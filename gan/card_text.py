"""Text from a model card (or a metrics file next to it) as Markdown that renders as the same
plain text: cards come from anywhere (`hf:` repos), so no raw HTML (an <img> is a tracking
pixel), no images or links, no emphasis. "|" and "-" stay, so tables keep working."""

from __future__ import annotations

MARKDOWN_SPECIAL = "\\`*_{}[]()#+!<>~"


def plain(value) -> str:
    """`value` as Markdown that renders as the same plain text: HTML and Markdown syntax escaped."""
    text = str(value).replace("&", "&amp;").replace("\r", " ")
    return "".join(f"\\{c}" if c in MARKDOWN_SPECIAL else c for c in text)
