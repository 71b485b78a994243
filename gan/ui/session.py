"""Who is asking. A browser gets a random owner token, kept in its localStorage
(`gr.BrowserState`), so a reload still owns the runs it started; an API client (gradio_client
keeps one session across its calls) is its session. Only hashes of either reach the disk
(gan.run_folders)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

import gradio as gr

STORAGE_KEY = "cgan-studio-owner"
# BrowserState encrypts in the page, so this is no secret; fixed, a token survives app restarts.
STORAGE_SECRET = "cgan-studio-owner-token"


@dataclass
class Session:
    """`owner` holds this page's owner token once `ready` (the page-load event) has run; chain
    page-load work that needs it on `ready`."""

    owner: gr.State
    ready: object


def adopt(token):
    """The browser's stored token, or a new one for a first visit."""
    ok = isinstance(token, str) and 20 <= len(token) <= 100
    token = token if ok else secrets.token_urlsafe(24)
    return token, token


def build_session() -> Session:
    token = gr.BrowserState(None, storage_key=STORAGE_KEY, secret=STORAGE_SECRET)
    owner = gr.State(None)
    ready = gr.on(None, adopt, inputs=token, outputs=[token, owner], api_visibility="private")
    return Session(owner, ready)


def who(owner: str | None, request: gr.Request | None) -> str | None:
    """The caller's owner token: the page's, else the API client's session."""
    return owner or (request.session_hash if request is not None else None)
