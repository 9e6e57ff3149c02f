"""A local stand-in for the Hugging Face Hub's file endpoints (127.0.0.1 only), so that the real
``huggingface_hub`` client runs end to end in tests: revision info, the file tree, and the ``resolve``
file endpoint (HEAD for metadata, GET for content) with ``X-Repo-Commit`` and ``ETag`` headers."""

from __future__ import annotations

import hashlib
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlparse


class LocalHub:
    """``repos``: ``{repo_id: {revision name: {file name: bytes}}}``; every revision gets a fake commit
    sha. ``requests`` counts the GETs of each file (to see cache hits)."""

    def __init__(self, repos: dict):
        self.commits, self.refs, self.requests = {}, {}, {}
        for repo, revisions in repos.items():
            for name, files in revisions.items():
                commit = hashlib.sha1(f"{repo}@{name}".encode()).hexdigest()
                self.commits[(repo, commit)] = files
                self.refs[(repo, name)] = commit
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self):
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

    def _resolve(self, repo, revision):
        commit = self.refs.get((repo, revision), revision)
        return commit, self.commits.get((repo, commit))

    def _handler(self):
        hub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _send(self, status, body=b"", headers=None, head=False):
                self.send_response(status)
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(body)))
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
                    if what == "revision":
                        return self._json({"id": repo, "sha": commit, "siblings": [{"rfilename": f} for f in files]})
                    if what == "tree":
                        return self._json([
                            {"type": "file", "path": f, "size": len(data), "oid": hashlib.sha1(data).hexdigest()}
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
                    etag = f'"{hashlib.sha1(data).hexdigest()}"'
                    return self._send(200, data, {"X-Repo-Commit": commit, "ETag": etag}, head)
                return self._not_found(head=head)

            def do_GET(self):  # noqa: N802
                self._route(head=False)

            def do_HEAD(self):  # noqa: N802
                self._route(head=True)

        return Handler


def folder_files(folder) -> dict:
    return {p.name: p.read_bytes() for p in Path(folder).iterdir() if p.is_file()}
