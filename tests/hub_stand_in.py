"""A stand-in Hugging Face Hub for tests: a small `http.server` answering what huggingface_hub
asks (a model's info with file sizes, HEAD and GET of its files) for repos held in memory, and
recording every request's method, path and Authorization header. Point an app at it with
`HF_ENDPOINT=<url>` and `HF_HUB_OFFLINE=0`."""

from __future__ import annotations

import hashlib
import json
import sys
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

COMMIT = "0123456789abcdef0123456789abcdef01234567"


@dataclass
class Repo:
    files: dict[str, bytes]
    private: bool = False  # only the owner's token sees it; anyone else gets "not found"
    slow_s: float = 0.0  # the info request answers this late
    claimed: dict[str, int] = field(default_factory=dict)  # sizes the metadata claims instead


@dataclass
class Request:
    method: str
    path: str
    authorization: str | None


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        # a client that gave up (the slow repo after its timeout) is expected, not a test failure
        # printed into whichever test runs when the late answer is written
        if not isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            super().handle_error(request, client_address)


class StandInHub:
    def __init__(self, owner_token: str):
        self.owner_token = owner_token
        self.repos: dict[str, Repo] = {}
        self.requests: list[Request] = []
        self.server = _QuietServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def add(self, repo_id: str, folder: Path | None = None, **kwargs) -> None:
        files = {p.name: p.read_bytes() for p in sorted(folder.iterdir())} if folder else {}
        self.repos[repo_id] = Repo({**files, **kwargs.pop("files", {})}, **kwargs)

    def seen(self, repo_id: str) -> list[Request]:
        return [r for r in self.requests if f"/{repo_id}/" in r.path or r.path.endswith(f"/{repo_id}")]

    def __enter__(self) -> "StandInHub":
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    # ------------------------------------------------------------ HTTP

    def _handler(self):
        hub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_HEAD(self):
                hub._answer(self, head=True)

            def do_GET(self):
                hub._answer(self, head=False)

        return Handler

    def _answer(self, h: BaseHTTPRequestHandler, head: bool) -> None:
        path = unquote(urlsplit(h.path).path)
        self.requests.append(Request(h.command, path, h.headers.get("Authorization")))
        if path.startswith("/api/models/"):
            repo_id = path[len("/api/models/"):].split("/revision/")[0]
            return self._info(h, repo_id)
        repo_id, sep, rest = path.lstrip("/").partition("/resolve/")
        name = rest.partition("/")[2]
        repo = self._visible(h, repo_id) if sep else None
        if repo is None or name not in repo.files:
            return self._send(h, 404, b"", {"X-Error-Code": "EntryNotFound" if repo else "RepoNotFound"})
        data = repo.files[name]
        headers = {"X-Repo-Commit": COMMIT, "ETag": f'"{hashlib.sha256(data).hexdigest()}"',
                   "Content-Length": str(len(data))}
        self._send(h, 200, b"" if head else data, headers)

    def _visible(self, h, repo_id: str) -> Repo | None:
        repo = self.repos.get(repo_id)
        if repo and repo.private and h.headers.get("Authorization") != f"Bearer {self.owner_token}":
            return None  # the Hub answers a private repo like a missing one
        return repo

    def _info(self, h, repo_id: str) -> None:
        repo = self._visible(h, repo_id)
        if repo is None:
            return self._send(h, 401, b'{"error": "Repository Not Found"}', {"X-Error-Code": "RepoNotFound"})
        time.sleep(repo.slow_s)
        siblings = [{"rfilename": n, "size": repo.claimed.get(n, len(d)),
                     "blobId": hashlib.sha1(d).hexdigest()} for n, d in repo.files.items()]
        body = json.dumps({"id": repo_id, "modelId": repo_id, "sha": COMMIT, "private": repo.private,
                           "siblings": siblings, "tags": [], "downloads": 0, "likes": 0}).encode()
        self._send(h, 200, body, {"Content-Type": "application/json"})

    @staticmethod
    def _send(h, status: int, body: bytes, headers: dict) -> None:
        h.send_response(status)
        for k, v in headers.items():
            h.send_header(k, v)
        if "Content-Length" not in headers:
            h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        if body and h.command != "HEAD":
            h.wfile.write(body)
