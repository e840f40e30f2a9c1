"""Moving one model file from the Hugging Face Hub onto this machine: its metadata (size,
checksum, commit) and its bytes, resumable.

The metadata comes from ``huggingface_hub`` (``hf_hub_url``, ``get_hf_file_metadata``: the
same URLs and headers as the Hub's own client, and its offline switch). The bytes are
fetched here, with ``httpx``, so that a transfer can report every chunk, stop between two
chunks (pause, cancel) and continue a partial file with an HTTP Range request.

What the bytes must hash to: the manifest's SHA-256 where it pins one; otherwise the Hub's
ETag of the file's resolve URL, which for a file stored with LFS (weights) is the SHA-256 of
its content (sent as ``X-Linked-Etag`` with the redirect to the CDN), and for a small file
kept in git (a config) the git blob SHA-1 (``sha1(b"blob <size>\\0" + content)``).
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx

from .manifest import HubSource, ModelFile, ModelSpec
from .resolve import ModelError

_CHUNK = 256 * 1024  # bytes per read, and per progress report
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_HEX40 = re.compile(r"^[0-9a-f]{40}$")


class HubUnreachable(ModelError):
    """The Hugging Face Hub cannot be reached (offline, no DNS, refused, HF_HUB_OFFLINE, or
    the Hub answering with server errors). Files already fetched are kept. ``detail``: the
    cause in a few words."""

    def __init__(self, message: str, *, detail: str = ""):
        super().__init__(message)
        self.detail = detail


class NotEnoughSpace(ModelError):
    """The model folder's disk has too little free space for what remains to download."""

    def __init__(self, message: str, *, needed: int, free: int):
        super().__init__(message)
        self.needed = needed
        self.free = free


class ChecksumMismatch(ModelError):
    """A file's bytes do not hash to what they must: the file was deleted, not used."""

    def __init__(self, message: str, *, path: str, expected: str, got: str):
        super().__init__(message)
        self.path = path
        self.expected = expected
        self.got = got


class DownloadInterrupted(ModelError):
    """The connection kept failing; the partial file is kept and a new attempt resumes it."""


class Stopped(Exception):
    """A transfer stopped between two chunks because it was asked to (pause or cancel)."""


@dataclass(frozen=True)
class Checksum:
    """What a file's bytes must hash to: ``algorithm`` "sha256" or "git-sha1"."""

    algorithm: str
    hexdigest: str
    origin: str  # "manifest" or "hub"

    def of(self, path: Path) -> str:
        """The digest of the file at ``path`` with this checksum's algorithm."""
        if self.algorithm == "sha256":
            digest = hashlib.sha256()
        else:
            digest = hashlib.sha1(usedforsecurity=False)
            digest.update(b"blob %d\0" % path.stat().st_size)
        with path.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
        return digest.hexdigest()


@dataclass(frozen=True)
class RemoteFile:
    """One of a model's files as the Hub has it now."""

    path: str  # relative to the model's root (and to the repository)
    url: str  # the Hub's resolve URL (the GET follows its redirect to the CDN)
    size: int | None
    checksum: Checksum
    commit: str | None  # the repository commit the Hub resolved the revision to

    @property
    def version(self) -> str:
        """What identifies these bytes, recorded to tell whether a partial file is of them."""
        return f"{self.checksum.algorithm}:{self.checksum.hexdigest}"


def hub_endpoint(endpoint: str | None = None) -> str:
    """The Hub's address: ``endpoint``, else $HF_ENDPOINT (read now, unlike
    ``huggingface_hub``, which reads it once at import), else huggingface.co."""
    if endpoint:
        return endpoint.rstrip("/")
    from_env = os.environ.get("HF_ENDPOINT", "").strip()
    if from_env:
        return from_env.rstrip("/")
    from huggingface_hub import constants

    return constants.ENDPOINT.rstrip("/")


def hub_offline() -> bool:
    """Whether the Hub must not be contacted ($HF_HUB_OFFLINE, read now or at import)."""
    value = os.environ.get("HF_HUB_OFFLINE", "").strip().upper()
    if value in ("1", "ON", "YES", "TRUE"):
        return True
    try:
        from huggingface_hub import constants
    except ImportError:  # pragma: no cover - a dependency of faster-whisper
        return False
    return bool(getattr(constants, "HF_HUB_OFFLINE", False))


def _transport_errors() -> tuple[type[BaseException], ...]:
    """The exceptions that mean "no connection" in whichever HTTP client huggingface_hub
    uses (requests, httpx or httpx2, by version)."""
    found: list[type[BaseException]] = [httpx.TransportError, OSError]
    try:
        import httpx2

        found.append(httpx2.TransportError)
    except ImportError:
        pass
    try:
        import requests

        found += [requests.ConnectionError, requests.Timeout]
    except ImportError:
        pass
    return tuple(found)


def _unreachable(spec: ModelSpec, detail: str) -> HubUnreachable:
    return HubUnreachable(
        f"cannot download {spec.title}: the Hugging Face Hub cannot be reached ({detail}). "
        "Connect to the internet and try again; finished files are kept.",
        detail=detail,
    )


def remote_file(
    spec: ModelSpec, entry: ModelFile, *, endpoint: str | None = None, timeout: float = 15.0
) -> RemoteFile:
    """The Hub's metadata of one of ``spec``'s files: its size and what it must hash to.

    Raises HubUnreachable, or ModelError when the Hub has no such file or it differs from
    the one the manifest pins (checked here, before any byte is fetched)."""
    if not isinstance(spec.source, HubSource):
        raise ModelError(f"{spec.title} is not downloaded: it comes with {spec.install_hint}")
    if hub_offline():
        raise _unreachable(spec, "offline mode: HF_HUB_OFFLINE is set")
    try:
        from huggingface_hub import get_hf_file_metadata, hf_hub_url
        from huggingface_hub.errors import HfHubHTTPError, OfflineModeIsEnabled
    except ImportError as exc:  # pragma: no cover - a dependency of faster-whisper
        raise ModelError("huggingface_hub is needed to download models") from exc

    base = hub_endpoint(endpoint)
    source = spec.source
    where = f"{base}/{source.repo_id} ({source.revision})"
    url = hf_hub_url(source.repo_id, entry.path, revision=source.revision, endpoint=base)
    try:
        meta = get_hf_file_metadata(url, token=False, timeout=timeout, endpoint=base)
    except OfflineModeIsEnabled as exc:
        raise _unreachable(spec, "offline mode is set") from exc
    except HfHubHTTPError as exc:
        status = getattr(getattr(exc, "response", None), "status_code", None)
        if status is not None and (status >= 500 or status == 429):
            raise _unreachable(spec, f"it answered HTTP {status}") from exc
        if status in (401, 403):
            raise ModelError(
                f"cannot download {spec.title}: {where} refuses access to {entry.path} "
                f"(HTTP {status}: a gated or private repository)"
            ) from exc
        raise ModelError(
            f"cannot download {spec.title}: {entry.path} is not in {where} (HTTP {status}); "
            "the manifest may be out of date"
        ) from exc
    except _transport_errors() as exc:
        raise _unreachable(spec, f"{base}: {type(exc).__name__}: {exc}") from exc

    size = meta.size
    if entry.size is not None and size is not None and size != entry.size:
        raise ModelError(
            f"the Hub's {entry.path} of {spec.title} has {size} bytes, not the {entry.size} "
            f"this version of Vistavox knows ({where}): not downloaded"
        )
    etag = (meta.etag or "").lower()
    if entry.sha256:
        if _HEX64.match(etag) and etag != entry.sha256:
            raise ModelError(
                f"the Hub's {entry.path} of {spec.title} is not the file this version of "
                f"Vistavox knows (its SHA-256 differs; {where}): not downloaded"
            )
        checksum = Checksum("sha256", entry.sha256, "manifest")
    elif _HEX64.match(etag):
        checksum = Checksum("sha256", etag, "hub")
    elif _HEX40.match(etag):
        checksum = Checksum("git-sha1", etag, "hub")
    else:
        raise ModelError(
            f"cannot download {spec.title}: {where} gives no checksum for {entry.path} "
            f"(ETag {meta.etag!r}), so it could not be verified"
        )
    return RemoteFile(
        path=entry.path,
        url=url,
        size=entry.size if entry.size is not None else size,
        checksum=checksum,
        commit=meta.commit_hash,
    )


OnBytes = Callable[[int], None]  # bytes of the file on disk so far


def fetch(
    client: httpx.Client,
    remote: RemoteFile,
    target: Path,
    *,
    on_bytes: OnBytes,
    stopping: Callable[[], bool],
) -> None:
    """One attempt at bringing ``target`` up to ``remote``'s full content, continuing what
    is already there with a Range request (a server that ignores it sends the whole file,
    which then replaces it). Raises Stopped when ``stopping()`` turns true between two
    chunks, httpx.TransportError when the connection fails, DownloadInterrupted when the
    body ends short, ModelError for answers that retrying will not change."""
    have = target.stat().st_size if target.exists() else 0
    if remote.size is not None and have > remote.size:
        target.unlink()
        have = 0
    if remote.size is not None and have == remote.size:
        on_bytes(have)
        return
    headers = {"Accept-Encoding": "identity"}
    if have:
        headers["Range"] = f"bytes={have}-"
    with client.stream("GET", remote.url, headers=headers) as response:
        status = response.status_code
        if status == 416 and have:  # nothing after ``have``: the partial file is not ours
            target.unlink()
            raise DownloadInterrupted(f"{remote.path}: the server refused the range; restarting")
        if status >= 500 or status == 429:
            raise DownloadInterrupted(f"{remote.path}: the server answered HTTP {status}")
        if status not in (200, 206):
            raise ModelError(f"{remote.path}: the server answered HTTP {status} to the download")
        if status == 206:
            start = _range_start(response.headers.get("Content-Range", ""))
            if start != have:
                target.unlink(missing_ok=True)
                raise DownloadInterrupted(
                    f"{remote.path}: the server resumed at byte {start}, not {have}; restarting"
                )
            mode = "ab"
        else:
            have, mode = 0, "wb"  # the whole file from the start
        target.parent.mkdir(parents=True, exist_ok=True)
        on_bytes(have)
        with target.open(mode) as out:
            for block in response.iter_raw(_CHUNK):
                out.write(block)
                have += len(block)
                on_bytes(have)
                if stopping():
                    out.flush()
                    raise Stopped()
            out.flush()
            os.fsync(out.fileno())
    if remote.size is not None and have < remote.size:
        raise DownloadInterrupted(f"{remote.path}: the connection ended after {have} bytes")


def _range_start(content_range: str) -> int | None:
    match = re.match(r"\s*bytes\s+(\d+)-\d+/(\d+|\*)", content_range)
    return int(match.group(1)) if match else None
