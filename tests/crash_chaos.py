"""Crash at any moment, lose nothing: the real desktop app is killed with SIGKILL at a
random point of a typed turn, a settings save, a conversation delete (and its undo) or a
sketch page save, then started again on the same files. After each kill the files are
checked with plain ``sqlite3`` and ``json`` (not the app's own code): the database passes
``PRAGMA integrity_check``, every message the event stream acknowledged is in it, the
settings file is the old or the new valid JSON, every page is whole; and the app, started
again, loads without an error event and lists the earlier conversations.

What counts as acknowledged: the kernel stores the user's message before the first token
of the reply (so a ReplyToken acknowledges it) and the reply before ReplyFinished; the
driver's "ack" of a delete, an undo or a settings save comes after the store or the file
has it; a PageUpdated comes after the page was written. Used by tests/test_crash_chaos.py
and ``python -m tests.benchmarks chaos``."""

from __future__ import annotations

import json
import random
import sqlite3
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from tests.desktop_rig import App, app_env

MOMENTS = ("typed-turn", "settings-save", "delete-undo", "page-save")
LOAD_TIMEOUT_S = 300.0  # generous: models load beside other work; not a measure of speed
STEP_TIMEOUT_S = 180.0


@dataclass
class Acknowledged:
    """What the app said it had stored, up to now (over all runs on these files)."""

    messages: list[tuple[str, str]] = field(default_factory=list)  # (role, content)
    listed: set[int] = field(default_factory=set)  # conversations that must be listed
    unlisted: set[int] = field(default_factory=set)  # deleted, and the delete acknowledged
    in_file: set[int] = field(default_factory=set)  # live in the database after the kill
    instructions: set[str] = field(default_factory=lambda: {""})  # settings allowed now
    pages: set[str] = field(default_factory=set)  # pages written


@dataclass
class Tally:
    kills: Counter = field(default_factory=Counter)
    acknowledged: Counter = field(default_factory=Counter)  # what was acknowledged, by kind
    losses: list[str] = field(default_factory=list)
    integrity_failures: list[str] = field(default_factory=list)
    half_written: list[str] = field(default_factory=list)
    clean_restarts: int = 0
    failed_restarts: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "kills": sum(self.kills.values()),
            "kills_per_moment": dict(self.kills),
            "acknowledged_before_kills": dict(self.acknowledged),
            "losses": len(self.losses),
            "integrity_failures": len(self.integrity_failures),
            "half_written_files": len(self.half_written),
            "restarts": self.clean_restarts + len(self.failed_restarts),
            "clean_restarts": self.clean_restarts,
            "problems": self.losses
            + self.integrity_failures
            + self.half_written
            + self.failed_restarts,
        }


def _drained(app: App) -> list[dict]:
    """Everything the app has said so far (``app.seen`` fills only while waiting)."""
    while not app.lines.empty():
        app.seen.append(app.lines.get_nowait())
    return app.seen


class Chaos:
    """Runs on one set of user files (``home``), one kill after another."""

    def __init__(self, display: str, home: Path, seed: int, sketch: Path | None = None):
        self.home, self.rng, self.sketch = home, random.Random(seed), sketch
        self.env = app_env(display, home, {"settings.json": {"welcomed": True}})
        self.db = home / "conversations.db"
        self.ack = Acknowledged()
        self.tally = Tally()
        self.runs = 0
        self.shown: list[int] = []  # the conversations the app listed as it started

    # --- the app --------------------------------------------------------------------------
    def start(self) -> App:
        """Start the app on the files and check it comes up cleanly with what was there."""
        self.runs += 1
        app = App(self.env, self.db, self.home / f"app-{self.runs}.log")
        try:
            app.event("ModelsReady", timeout=LOAD_TIMEOUT_S)
            listed = set()
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                listed = {i for i, _ in app.request("sidebar", "sidebar")["items"]}
                if self.ack.listed | self.ack.in_file <= listed:
                    break
                time.sleep(0.5)
        except AssertionError as exc:
            self.tally.failed_restarts.append(f"run {self.runs}: {exc}")
            self.kill(app)
            raise
        errors = [i["message"] for i in app.seen if i.get("type") == "EngineError"]
        missing = (self.ack.listed | self.ack.in_file) - listed
        self.shown = sorted(listed)
        resurrected = self.ack.unlisted & listed
        if errors or missing or resurrected:
            self.tally.failed_restarts.append(
                f"run {self.runs}: errors {errors}, not listed {sorted(missing)}, "
                f"deleted but listed {sorted(resurrected)}"
            )
        elif self.runs > 1:
            self.tally.clean_restarts += 1
        return app

    @staticmethod
    def kill(app: App) -> None:
        if app.proc.poll() is None:
            app.proc.kill()  # SIGKILL
        app.proc.wait(30)

    # --- the moments ----------------------------------------------------------------------
    def one_kill(self, moment: str | None = None) -> str:
        """Start the app, do something, kill it at a random point, check the files."""
        app = self.start()
        moment = moment or self._next_moment()
        try:
            getattr(self, "_" + moment.replace("-", "_"))(app)
        finally:
            self.kill(app)
        self.tally.kills[moment] += 1
        self.check_files()
        return moment

    def _next_moment(self) -> str:
        """One of the moments killed least so far (at random among those)."""
        moments = [m for m in MOMENTS if m != "page-save" or self.sketch is not None]
        if not self.shown:
            moments.remove("delete-undo")
        fewest = min(self.tally.kills[m] for m in moments)
        return self.rng.choice([m for m in moments if self.tally.kills[m] == fewest])

    def _typed_turn(self, app: App) -> None:
        name = f"Chaos{self.runs}x{self.rng.randint(0, 9999)}"
        text = f"Tell me a short story about a cat called {name}."
        kill_after_tokens = self.rng.randint(1, 40)
        start = len(app.seen)
        app.do("type", text=text)
        tokens, turn = 0, None
        deadline = time.monotonic() + STEP_TIMEOUT_S
        while time.monotonic() < deadline:
            item = app.wait(
                lambda i: i.get("type") in ("ReplyToken", "ReplyFinished", "ConversationOpened"),
                STEP_TIMEOUT_S,
                "the reply",
                after=start,
            )
            start = app.seen.index(item) + 1
            if item["type"] == "ConversationOpened" and item.get("conversation_id"):
                self.ack.listed.add(item["conversation_id"])  # (the reply was stored)
            elif item["type"] == "ReplyToken":
                if turn is None:
                    turn = item["turn_id"]
                    self.ack.messages.append(("user", text))
                    self.tally.acknowledged["user message"] += 1
                tokens += 1
                if tokens >= kill_after_tokens:
                    return
            elif item["type"] == "ReplyFinished":
                if item["text"] and not item["interrupted"]:
                    self.ack.messages.append(("assistant", item["text"]))
                    self.tally.acknowledged["reply"] += 1
                time.sleep(self.rng.uniform(0, 0.5))
                return

    def _settings_save(self, app: App) -> None:
        filler = "".join(self.rng.choice("abcdefgh ") for _ in range(self.rng.randint(10, 3900)))
        text = f"chaos {self.runs} {filler}".strip()[:4000]
        self.ack.instructions.add(text)
        start = len(app.seen)
        app.do("save_settings", instructions=text)
        if self.rng.random() < 0.3:  # after the save was acknowledged
            app.wait(lambda i: i.get("do") == "save_settings", 30, "the save", after=start)
            self.ack.instructions = {text}
            self.tally.acknowledged["settings save"] += 1
        else:
            time.sleep(self.rng.uniform(0, 0.05))

    def _delete_undo(self, app: App) -> None:
        victim = self.rng.choice(self.shown)
        start = len(app.seen)
        app.do("delete_conversation", id=victim)
        if self.rng.random() < 0.25:  # while the delete is under way
            time.sleep(self.rng.uniform(0, 0.03))
            return
        app.wait(lambda i: i.get("do") == "delete_conversation", 30, "the delete", after=start)
        self.ack.listed.discard(victim)
        self.ack.unlisted.add(victim)
        self.tally.acknowledged["delete"] += 1
        if self.rng.random() < 0.35:  # in the undo window
            time.sleep(self.rng.uniform(0, 1.0))
            return
        start = len(app.seen)
        app.do("undo_delete")
        if self.rng.random() < 0.5:  # while the undo is under way
            time.sleep(self.rng.uniform(0, 0.03))
            self.ack.unlisted.discard(victim)  # either way is right now
            return
        app.wait(lambda i: i.get("do") == "undo_delete", 30, "the undo", after=start)
        self.ack.unlisted.discard(victim)
        self.ack.listed.add(victim)
        self.tally.acknowledged["undo"] += 1

    def _page_save(self, app: App) -> None:
        start = len(app.seen)
        app.do("drop", path=str(self.sketch))
        app.do("click_sketch")
        if self.rng.random() < 0.5:  # while the page is made
            time.sleep(self.rng.uniform(0, 20))
            for item in _drained(app)[start:]:
                self._note_page(item)
            return
        page = app.event("PageUpdated", timeout=STEP_TIMEOUT_S)
        self._note_page(page)
        time.sleep(self.rng.uniform(0, 0.2))

    def _note_page(self, item: dict) -> None:
        if item.get("type") == "PageUpdated":
            self.ack.pages.add(item["path"])
            self.tally.acknowledged["page"] += 1

    # --- the checks -----------------------------------------------------------------------
    def check_files(self) -> None:
        where = f"after kill {sum(self.tally.kills.values())}"
        with sqlite3.connect(self.db) as db:
            try:
                verdict = db.execute("PRAGMA integrity_check").fetchall()
            except sqlite3.DatabaseError as exc:  # "file is not a database"
                verdict = [(str(exc),)]
            if verdict != [("ok",)]:
                self.tally.integrity_failures.append(f"{where}: {str(verdict)[:300]}")
                return
            stored = set(db.execute("SELECT role, content FROM messages").fetchall())
            live = {r[0] for r in db.execute("SELECT id FROM conversations WHERE deleted IS NULL")}
            everything = {r[0] for r in db.execute("SELECT id FROM conversations")}
        db.close()
        self.ack.in_file = live
        for role, content in self.ack.messages:
            if (role, content) not in stored:
                self.tally.losses.append(f"{where}: the {role} message {content[:60]!r}")
        for conversation in self.ack.listed - live:
            self.tally.losses.append(f"{where}: conversation {conversation} not live")
        for conversation in self.ack.unlisted - everything:  # deleted, kept for an undo
            self.tally.losses.append(f"{where}: deleted conversation {conversation} purged")
        self._check_settings(where)
        self._check_pages(where)

    def _check_settings(self, where: str) -> None:
        path = self.home / "config" / "vistavox" / "settings.json"
        try:
            saved = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            self.tally.half_written.append(f"{where}: settings.json: {exc}")
            return
        value = saved.get("custom_instructions", "")
        if value not in self.ack.instructions:
            self.tally.half_written.append(f"{where}: settings hold {value[:40]!r}, not old/new")
        self.ack.instructions = {value}
        devices = path.with_name("audio-devices.json")
        if devices.exists():
            try:
                json.loads(devices.read_text(encoding="utf-8"))
            except ValueError as exc:
                self.tally.half_written.append(f"{where}: audio-devices.json: {exc}")

    def _check_pages(self, where: str) -> None:
        for path in self.ack.pages:
            if not Path(path).is_file():
                self.tally.losses.append(f"{where}: page {path} gone")
        pages = self.home / "data" / "vistavox" / "workspace" / "pages"
        for page in pages.glob("*.html") if pages.is_dir() else []:
            text = page.read_text(encoding="utf-8", errors="replace")
            if "</html>" not in text.lower():
                self.tally.half_written.append(f"{where}: page {page.name} is cut short")

    def finish(self) -> dict:
        """Start the app once more (the restart after the last kill) and quit it."""
        app = self.start()
        app.do("quit")
        app.proc.wait(90)
        self.kill(app)
        return self.tally.as_dict()
