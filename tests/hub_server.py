"""A local stand-in for the Hugging Face Hub's file endpoints (127.0.0.1 only), so that the real
``huggingface_hub`` client runs end to end in tests: revision info, the file tree, and the ``resolve``
file endpoint (HEAD for metadata, GET for content) with ``X-Repo-Commit`` and ``ETag`` headers; and for
uploads, repo creation, card validation, ``preupload`` (every file a regular, inline one) and ``commit``
(NDJSON).

A hostile Hub is the same server with ``lies``: ``{"commit": sha, "etag": etag, "size": bytes}``, what it says
instead of the truth in revision info, file headers and the file tree."""

from __future__ import annotations

import base64
import hashlib
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlparse


class LocalHub:
    """``repos``: ``{repo_id: {revision name: {file name: bytes}}}``; every revision gets a fake commit
    sha. ``requests`` counts the GETs of each file (to see cache hits)."""

    def __init__(self, repos: dict, lies: dict | None = None):
        self.commits, self.refs, self.requests, self.messages = {}, {}, {}, []
        self.lies = lies or {}
        for repo, revisions in repos.items():
            for name, files in revisions.items():
                commit = hashlib.sha1(f"{repo}@{name}".encode()).hexdigest()
                self.commits[(repo, commit)] = files
                self.refs[(repo, name)] = commit
                if name == "main" and "commit" in self.lies:  # the lie serves main's files too
                    self.commits[(repo, self.lies["commit"])] = files
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self):
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

    def commit(self, repo, revision, added: dict, message: str) -> str:
        """Add files on top of ``revision`` (a new commit); returns its sha. ``messages`` records each."""
        _, files = self._resolve(repo, revision)
        commit = hashlib.sha1(f"{repo}@{revision}:{len(self.commits)}:{message}".encode()).hexdigest()
        self.commits[(repo, commit)] = {**(files or {}), **added}
        self.refs[(repo, revision)] = commit
        self.messages.append((repo, message))
        return commit

    def _resolve(self, repo, revision):
        commit = self.refs.get((repo, revision), revision)
        return commit, self.commits.get((repo, commit))

    def _handler(self):
        hub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _send(self, status, body=b"", headers=None, head=False, size=None):
                self.send_response(status)
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(body) if size is None else size))
                self.end_headers()
                if not head:
                    self.wfile.write(body)

            def _json(self, data):
                self._send(200, json.dumps(data).encode(), {"Content-Type": "application/json"})

            def _not_found(self, code="EntryNotFound", head=False):
                self._send(404, b"{}", {"X-Error-Code": code, "X-Error-Message": code}, head)

            def _route(self, head):
                parts = [unquote(p) for p in urlparse(self.path).path.strip("/").split("/")]
                if parts[:2] == ["api", "models"] and len(parts) >= 6:
                    repo, what, revision = "/".join(parts[2:4]), parts[4], parts[5]
                    commit, files = hub._resolve(repo, revision)
                    if files is None:
                        return self._not_found("RevisionNotFound" if (repo, "main") in hub.refs else "RepoNotFound")
                    commit = hub.lies.get("commit", commit)
                    if what == "revision":
                        return self._json({"id": repo, "sha": commit, "siblings": [{"rfilename": f} for f in files]})
                    if what == "tree":
                        return self._json([
                            {"type": "file", "path": f, "size": hub.lies.get("size", len(data)),
                             "oid": hashlib.sha1(data).hexdigest()}
                            for f, data in files.items()
                        ])
                if len(parts) >= 5 and parts[2] == "resolve":
                    repo, revision, name = "/".join(parts[:2]), parts[3], "/".join(parts[4:])
                    commit, files = hub._resolve(repo, revision)
                    if files is None or name not in files:
                        return self._not_found(head=head)
                    data = files[name]
                    if not head:
                        hub.requests[(repo, name)] = hub.requests.get((repo, name), 0) + 1
                    etag = f'"{hub.lies.get("etag", hashlib.sha1(data).hexdigest())}"'
                    headers = {"X-Repo-Commit": hub.lies.get("commit", commit), "ETag": etag}
                    return self._send(200, data, headers, head, hub.lies.get("size") if head else None)
                return self._not_found(head=head)

            def do_GET(self):
                self._route(head=False)

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                parts = [unquote(p) for p in urlparse(self.path).path.strip("/").split("/")]
                if parts == ["api", "validate-yaml"]:  # a card must open with YAML metadata
                    ok = json.loads(body)["content"].startswith("---\n")
                    return self._json({}) if ok else self._send(400, b'{"error": "no metadata"}')
                if parts == ["api", "repos", "create"]:
                    request = json.loads(body)
                    repo = f"{request['organization']}/{request['name']}"
                    if (repo, "main") in hub.refs:
                        return self._send(409, b'{"error": "exists"}', {"X-Error-Message": "exists"})
                    hub.commit(repo, "main", {}, "initial commit")
                    return self._json({"url": f"{hub.url}/{repo}"})
                if parts[:2] == ["api", "models"] and len(parts) == 6 and parts[4] in ("preupload", "commit"):
                    repo, revision = "/".join(parts[2:4]), parts[5]
                    if (repo, revision) not in hub.refs:
                        return self._not_found("RevisionNotFound")
                    if parts[4] == "preupload":
                        files = json.loads(body)["files"]
                        return self._json({"files": [{"path": f["path"], "uploadMode": "regular", "shouldIgnore": False}
                                                     for f in files]})
                    lines = [json.loads(line) for line in body.splitlines() if line.strip()]
                    header = next(x["value"] for x in lines if x["key"] == "header")
                    added = {x["value"]["path"]: base64.b64decode(x["value"]["content"]) for x in lines if x["key"] == "file"}
                    commit = hub.commit(repo, revision, added, header["summary"])
                    return self._json({"commitUrl": f"{hub.url}/{repo}/commit/{commit}", "commitOid": commit})
                return self._not_found()

            def do_HEAD(self):
                self._route(head=True)

        return Handler


def folder_files(folder) -> dict:
    return {p.name: p.read_bytes() for p in Path(folder).iterdir() if p.is_file()}
