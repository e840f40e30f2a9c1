"""A Hugging Face Hub on loopback for tests: a real HTTP server that serves real files in
the Hub's layout (``/{repo}/resolve/{revision}/{path}``: HEAD and GET, LFS files redirected
to a "CDN" server on another port with the SHA-256 as X-Linked-Etag, small files with their
git blob SHA-1 as ETag, Range requests answered 206), and can drop a connection part-way,
send wrong bytes, or trickle bytes slowly. ``hub`` is the fixture (HF_ENDPOINT points at
it; the models and settings folders are fresh)."""

from __future__ import annotations

import hashlib
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from vistavox.models.manifest import get_spec
from vistavox.models.resolve import ModelError, resolve

COMMIT = "0123456789abcdef0123456789abcdef01234567"
LFS_FROM = 1_000_000  # files this big are served as LFS files (redirect, SHA-256 ETag)
BLOCK = 64 * 1024


def embedded_root(name: str) -> Path:
    try:
        return resolve(name).root
    except ModelError as exc:
        pytest.skip(f"the embedded model is absent: {exc}")


@dataclass
class Served:
    source: Path  # the real file whose bytes are served
    size: int
    sha256: str
    git_sha1: str

    @classmethod
    def of(cls, path: Path) -> Served:
        data = path.read_bytes()
        return cls(
            source=path,
            size=len(data),
            sha256=hashlib.sha256(data).hexdigest(),
            git_sha1=hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest(),
        )

    @property
    def lfs(self) -> bool:
        return self.size >= LFS_FROM


@dataclass
class FakeHub:
    """What the server serves and how it misbehaves; every request is logged."""

    files: dict[tuple[str, str], Served] = field(default_factory=dict)
    # method, URL path, Range header, status: every request
    log: list[tuple[str, str, str | None, int]] = field(default_factory=list)
    drop_once: dict[str, int] = field(default_factory=dict)  # file path → bytes, then close
    unavailable: bool = False  # answer 503 to everything
    down_after_drop: bool = False  # a dropped connection makes the server unavailable
    ignore_ranges: bool = False  # answer Range requests with the whole file (200)
    corrupt: set[str] = field(default_factory=set)  # file paths served with a byte flipped
    trickle: float = 0.0  # seconds between 64 KiB blocks
    lock: threading.Lock = field(default_factory=threading.Lock)
    hub_url: str = ""
    cdn_url: str = ""

    def add(self, repo: str, path: str, real: Path) -> Served:
        served = Served.of(real)
        self.files[(repo, path)] = served
        return served

    def gets(self, path: str) -> list[str | None]:
        """The Range headers of the GETs that sent a file's bytes (None: no Range)."""
        with self.lock:
            return [
                r
                for m, p, r, status in self.log
                if m == "GET" and status in (200, 206) and p.endswith("/" + path)
            ]

    def heads(self) -> list[str]:
        with self.lock:
            return [p for m, p, _, _ in self.log if m == "HEAD"]


def _handler(hub: FakeHub, role: str):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args) -> None:  # quiet
            pass

        def do_HEAD(self) -> None:  # noqa: N802
            self._serve(body=False)

        def do_GET(self) -> None:  # noqa: N802
            self._serve(body=True)

        def _find(self):
            path = self.path.split("?")[0]
            if role == "cdn":
                for (repo, name), served in hub.files.items():
                    if path == f"/{repo}/{name}":
                        return repo, name, served
                return None
            for (repo, name), served in hub.files.items():
                for revision in ("main", COMMIT):
                    if path == f"/{repo}/resolve/{revision}/{name}":
                        return repo, name, served
            return None

        def _status(self, status: int) -> None:
            with hub.lock:
                hub.log.append((self.command, self.path, self.headers.get("Range"), status))
            self.send_response(status)

        def _serve(self, body: bool) -> None:
            found = self._find()
            if found is None or hub.unavailable:
                self._status(404 if found is None else 503)
                self.send_header("X-Error-Code", "EntryNotFound")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            repo, name, served = found
            if role == "hub" and served.lfs:  # as the Hub: LFS files live on the CDN
                self._status(302)
                self.send_header("Location", f"{hub.cdn_url}/{repo}/{name}")
                self.send_header("X-Linked-Etag", f'"{served.sha256}"')
                self.send_header("X-Linked-Size", str(served.size))
                self.send_header("X-Repo-Commit", COMMIT)
                self.send_header("ETag", f'"{served.git_sha1}"')  # the pointer's
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            start = 0
            wanted = self.headers.get("Range")
            if wanted and wanted.startswith("bytes=") and not hub.ignore_ranges:
                start = int(wanted[6:].split("-")[0])
                if start >= served.size:
                    self._status(416)
                    self.send_header("Content-Range", f"bytes */{served.size}")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self._status(206)
                self.send_header("Content-Range", f"bytes {start}-{served.size - 1}/{served.size}")
            else:
                self._status(200)
            etag = served.sha256 if served.lfs else served.git_sha1
            self.send_header("ETag", f'"{etag}"')
            self.send_header("X-Repo-Commit", COMMIT)
            self.send_header("Accept-Ranges", "bytes")
            self.send_header("Content-Length", str(served.size - start))
            self.end_headers()
            if not body:
                return
            with hub.lock:
                cut = hub.drop_once.pop(name, None)
            end = served.size if cut is None else max(start, cut)
            with served.source.open("rb") as fh:
                fh.seek(start)
                at = start
                while at < end:
                    block = fh.read(min(BLOCK, end - at))
                    if name in hub.corrupt and at == start:
                        block = bytes([block[0] ^ 0xFF]) + block[1:]
                    try:
                        self.wfile.write(block)
                    except (BrokenPipeError, ConnectionResetError):
                        return
                    at += len(block)
                    if hub.trickle:
                        time.sleep(hub.trickle)
            if cut is not None:  # drop the connection with the body unfinished
                hub.unavailable = hub.down_after_drop
                self.close_connection = True
                self.wfile.flush()
                self.connection.shutdown(socket.SHUT_RDWR)

    return Handler


@pytest.fixture
def hub(tmp_path, monkeypatch):
    """A fake Hub on loopback (HF_ENDPOINT points at it), an empty models folder and
    settings folder."""
    state = FakeHub()
    servers = []
    for role in ("hub", "cdn"):
        server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state, role))
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
    state.hub_url = f"http://127.0.0.1:{servers[0].server_address[1]}"
    state.cdn_url = f"http://127.0.0.1:{servers[1].server_address[1]}"
    monkeypatch.setenv("HF_ENDPOINT", state.hub_url)
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setenv("VISTAVOX_MODELS_DIR", str(tmp_path / "models"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    yield state
    for server in servers:
        server.shutdown()
        server.server_close()


WHISPER = "whisper-base.en"  # its Hub repository serves tiny.en's files here
VOICE = "piper-en-us-lessac-medium"  # its Hub paths serve the joe voice here


def serve_whisper(hub: FakeHub) -> dict[str, Served]:
    """The embedded Whisper tiny.en's files, as whisper-base.en's on the Hub."""
    root = embedded_root("whisper-tiny.en")
    spec = get_spec(WHISPER)
    return {f.path: hub.add(spec.source.repo_id, f.path, root / f.path) for f in spec.files}


def serve_voice(hub: FakeHub) -> dict[str, Served]:
    """The embedded joe voice's files, as the lessac voice's on the Hub."""
    root = embedded_root("piper-en-us-joe-medium")
    spec = get_spec(VOICE)
    joe = ("en_US-joe-medium.onnx", "en_US-joe-medium.onnx.json")
    pairs = zip(spec.files, joe, strict=True)
    return {f.path: hub.add(spec.source.repo_id, f.path, root / j) for f, j in pairs}
