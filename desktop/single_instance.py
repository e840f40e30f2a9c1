"""One desktop app per user: a second start asks the running app to bring its window
forward, and ends, instead of loading the models a second time.

The first app holds a lock file (QLockFile) and listens on a local socket (QLocalServer);
both live in $XDG_RUNTIME_DIR (else the temporary folder) under a name made from the user
and their config folder, so tests and a second user's config never meet the real app. A
later start that finds the lock held connects (QLocalSocket), sends one line and waits for
the answer. A crashed app leaves its lock and its socket behind: the lock is then stale (its
process is gone) and is taken over, and the dead socket is removed before listening.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from pathlib import Path

from PySide6.QtCore import QDeadlineTimer, QLockFile, QObject, QThread, Signal, Slot
from PySide6.QtNetwork import QLocalServer, QLocalSocket

from vistavox.pipelines.app_settings import config_dir

_log = logging.getLogger(__name__)

ANSWER_WITHIN_MS = 30_000  # a first app still starting up answers once its window is built
MAX_SOCKET_PATH = 100  # sockaddr_un holds 108 bytes on Linux


def instance_key() -> str:
    """This user's and this config folder's key (the same for every start of theirs)."""
    user = os.getuid() if hasattr(os, "getuid") else os.environ.get("USERNAME", "")
    digest = hashlib.sha256(f"{user}\0{config_dir().resolve()}".encode()).hexdigest()[:16]
    return f"vistavox-{user}-{digest}"


def _folder() -> Path:
    runtime = os.environ.get("XDG_RUNTIME_DIR", "")
    if runtime and Path(runtime).is_absolute() and Path(runtime).is_dir():
        return Path(runtime)
    return Path(tempfile.gettempdir())


class SingleInstance(QObject):
    """``claim()`` in every start: True for the first (which then emits ``activated`` each
    time a later start asks for the window), False for a later one, which then calls
    ``activate_running()``."""

    activated = Signal(dict)  # what the later start sent (its activation token, if any)

    def __init__(self, key: str | None = None, parent: QObject | None = None):
        super().__init__(parent)
        key = key or instance_key()
        folder = _folder()
        socket = folder / f"{key}.socket"
        if len(str(socket)) > MAX_SOCKET_PATH:
            folder = Path(tempfile.gettempdir())  # a shorter path
            socket = folder / f"{key}.socket"
        self.server_name = str(socket)
        self.lock_path = folder / f"{key}.lock"
        self._lock = QLockFile(str(self.lock_path))
        self._lock.setStaleLockTime(0)  # stale only when its process is gone, never by age
        self.server: QLocalServer | None = None

    def claim(self) -> bool:
        """Whether this is the first start (then it listens for later ones from here on)."""
        if not self._lock.tryLock(0):
            if self._lock.error() == QLockFile.LockError.LockFailedError:
                return False
            _log.warning(
                "cannot create %s (%s): a second start will not find this one",
                self.lock_path,
                self._lock.error().name,
            )
            return True
        # Ours alone now: a socket still there is a crashed app's (listening with
        # UserAccessOption would replace it too, but not without that option).
        QLocalServer.removeServer(self.server_name)
        server = QLocalServer(self)
        server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        if not server.listen(self.server_name):
            _log.warning("cannot listen on %s: %s", self.server_name, server.errorString())
            return True
        server.newConnection.connect(self._accept)
        self.server = server
        _log.info("single instance: listening on %s", self.server_name)
        return True

    def release(self) -> None:
        if self.server is not None:
            self.server.close()
            self.server = None
        self._lock.unlock()

    def holder_pid(self) -> int | None:
        """The process id of the app holding the lock, where it can be read."""
        info = self._lock.getLockInfo()  # PySide6: (pid, host name, app name)
        try:
            pid = int(info[0])
        except (TypeError, ValueError, IndexError):
            return None
        return pid if pid > 0 else None

    @Slot()
    def _accept(self) -> None:
        while self.server is not None and self.server.hasPendingConnections():
            connection = self.server.nextPendingConnection()
            connection.setParent(self)
            connection.readyRead.connect(lambda c=connection: self._read(c))
            connection.disconnected.connect(connection.deleteLater)
            if connection.bytesAvailable():
                self._read(connection)

    def _read(self, connection: QLocalSocket) -> None:
        """One message a connection: a JSON line {"do": "activate", …}, answered with
        {"done": "activate"} once the window was asked forward."""
        if not connection.canReadLine():
            return  # the rest of the line is still on its way
        line = bytes(connection.readLine().data()).strip()
        try:
            message = json.loads(line)
        except ValueError:
            message = None
        if isinstance(message, dict) and message.get("do") == "activate":
            self.activated.emit(message)
            connection.write(b'{"done": "activate"}\n')
            connection.flush()
        else:
            _log.warning("single instance: ignored a message %r", line[:80])
        connection.disconnectFromServer()

    def activate_running(self, within_ms: int = ANSWER_WITHIN_MS) -> bool:
        """Ask the first app to bring its window forward; whether it said it did. Retries
        while that app is still between taking the lock and listening."""
        deadline = QDeadlineTimer(within_ms)
        message = {"do": "activate", "pid": os.getpid()}
        token = os.environ.get("XDG_ACTIVATION_TOKEN")  # Wayland: lets it take the focus
        if token:
            message["activation_token"] = token
        while not deadline.hasExpired():
            socket = QLocalSocket()
            socket.connectToServer(self.server_name)
            if not socket.waitForConnected(max(1, min(1000, deadline.remainingTime()))):
                socket.abort()
                QThread.msleep(50)  # not listening yet: ask again
                continue
            socket.write(json.dumps(message).encode() + b"\n")
            socket.flush()
            answer = b""
            while b"\n" not in answer and not deadline.hasExpired():
                if socket.bytesAvailable() or socket.waitForReadyRead(
                    max(1, deadline.remainingTime())
                ):
                    answer += bytes(socket.readAll().data())
                elif socket.state() != QLocalSocket.LocalSocketState.ConnectedState:
                    break
            socket.abort()
            try:
                return json.loads(answer.split(b"\n")[0]).get("done") == "activate"
            except (ValueError, AttributeError):
                return False
        return False
