"""`repair-coach run --webhook` worker processes on a throwaway PostgreSQL schema, for tests."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fake_telegram import TOKEN, FakeTelegram
from pg import temporary_schema

PG_URL = os.environ.get("REPAIR_COACH_TEST_POSTGRES_URL", "")
SECRET = "worker-secret"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def pg_schema() -> Iterator[str]:
    if not PG_URL:
        pytest.skip("REPAIR_COACH_TEST_POSTGRES_URL is not set (.ci/run sets it)")
    with temporary_schema(PG_URL, "w") as url:
        yield url


class Worker:
    """One `repair-coach run --webhook` process."""

    def __init__(
        self, fake: FakeTelegram, url: str, tmp: Path, env: dict[str, str] | None = None,
        wait: bool = True,
    ) -> None:  # fmt: skip
        self.port, self.tmp = free_port(), tmp
        self.env = {**os.environ, "TELEGRAM_BOT_TOKEN": TOKEN,
                    "TELEGRAM_API_BASE_URL": fake.base_url, "REPAIR_COACH_DATABASE_URL": url,
                    "REPAIR_COACH_WEBHOOK_SECRET": SECRET,
                    "REPAIR_COACH_DATABASE": str(tmp / "unused.db"), **(env or {})}  # fmt: skip
        self.proc: subprocess.Popen[bytes] | None = None
        self.start(wait)

    def start(self, wait: bool = True) -> None:
        """Start the process; with `wait`, return once it listens (else call `ready`)."""
        command = [str(Path(sys.executable).parent / "repair-coach"), "run", "--webhook",
                   "--port", str(self.port)]  # fmt: skip
        with (self.tmp / f"worker-{self.port}.log").open("ab") as log:  # read when a test fails
            self.proc = subprocess.Popen(command, env=self.env, stdout=subprocess.DEVNULL,
                                         stderr=log)  # fmt: skip
        if wait:
            self.ready()

    def ready(self, timeout: float = 60.0) -> None:
        """Wait until the process listens (a busy machine starts it in tens of seconds)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", self.port), 0.2),
            ):
                return
            time.sleep(0.05)
        raise RuntimeError("worker did not start")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/telegram"

    def kill(self) -> None:
        assert self.proc
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
