"""A real HTTP server on loopback standing in for the internet: the saved pages of
``../shared/eval/web`` at ``/PAGE/``, pages built by the caller, and the awkward answers
real sites give (redirects, huge or binary bodies, images)."""

from __future__ import annotations

import html
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

PLACES = ("end of the article", "hidden element", "image alt text")


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format, *args) -> None:  # noqa: A002 - the base class's name
        return

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        self.server.requests.append(self.path)
        path = self.path.split("?")[0]
        if path in self.server.pages:
            kind, body, status = self.server.pages[path]
            return self._send(status, kind, body)
        if path.startswith("/redirect/"):  # /redirect/N: N more hops, then the bbc page
            hops = int(path.rsplit("/", 1)[1] or 0)
            target = f"/redirect/{hops - 1}" if hops > 0 else "/bbc-1/"
            return self._redirect(target)
        if path == "/to-private":
            return self._redirect("http://10.255.255.1/secret")
        if path == "/huge":  # no length announced: the reader must stop on its own
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            chunk = b"<p>" + b"x" * 65_536 + b"</p>"
            try:
                for _ in range(200):  # 13 MB
                    self.wfile.write(chunk)
            except (BrokenPipeError, ConnectionResetError):
                pass
            return None
        if path == "/binary":
            return self._send(200, "text/html", b"\x7fELF\x00\x00\x00" + bytes(range(256)) * 8)
        if path == "/image.png":
            return self._send(200, "image/png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64)
        folder = self.server.eval_web / path.strip("/") if self.server.eval_web else None
        if folder is not None and (folder / "source.html").is_file():
            return self._send(
                200, "text/html; charset=utf-8", (folder / "source.html").read_bytes()
            )
        return self._send(404, "text/plain", b"not found")

    def _send(self, status: int, kind: str, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        with suppress(BrokenPipeError, ConnectionResetError):
            self.wfile.write(body)

    def _redirect(self, target: str) -> None:
        self.send_response(302)
        self.send_header("Location", target)
        self.send_header("Content-Length", "0")
        self.end_headers()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    eval_web: Path | None
    pages: dict[str, tuple[str, bytes, int]]
    requests: list[str]


class WebSite:
    """The running server: ``url(path)``, ``add(path, html)``, the paths requested."""

    def __init__(self, server: _Server) -> None:
        self._server = server
        self.port = server.server_address[1]

    def url(self, path: str = "/") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def add(
        self,
        path: str,
        body: str | bytes,
        kind: str = "text/html; charset=utf-8",
        status: int = 200,
    ) -> str:
        data = body.encode("utf-8") if isinstance(body, str) else body
        self._server.pages[path] = (kind, data, status)
        return self.url(path)

    @property
    def requests(self) -> list[str]:
        return list(self._server.requests)


@contextmanager
def serve(eval_web: Path | None = None, port: int = 0) -> Iterator[WebSite]:
    """A server on loopback for the ``with`` block: on ``port``, or a free one (0); an
    OSError when ``port`` is taken."""
    server = _Server(("127.0.0.1", port), _Handler)
    server.eval_web, server.pages, server.requests = eval_web, {}, []
    thread = threading.Thread(target=server.serve_forever, name="web-server", daemon=True)
    thread.start()
    try:
        yield WebSite(server)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def with_injection(source: str, payload: str, place: str) -> str:
    """A real page with ``payload`` planted in it, where attackers put it (``PLACES``)."""
    text = html.escape(payload)
    if place == "end of the article":
        planted = f"<p>{text}</p>"
    elif place == "hidden element":
        planted = f'<div style="display:none" aria-hidden="true">{text}</div>'
    elif place == "image alt text":
        planted = (
            f'<img src="https://images.example.com/a.png" alt="{html.escape(payload, quote=True)}">'
        )
    else:
        raise ValueError(f"unknown place {place!r}")
    lower = source.lower()
    end = lower.rfind("</article>")
    if end < 0:
        end = lower.rfind("</body>")
    return source + planted if end < 0 else source[:end] + planted + source[end:]
