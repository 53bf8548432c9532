"""Run an ASGI app with uvicorn in a background thread on 127.0.0.1 (a free port), for tests and the benchmark."""

from __future__ import annotations

import asyncio
import threading
import time
from contextlib import contextmanager

import uvicorn


class ServerThread:
    def __init__(self, app, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self.config = uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="off",
                                     access_log=False, loop="asyncio", http="h11")
        self.server = uvicorn.Server(self.config)
        self.thread = threading.Thread(target=self._run, daemon=True, name="channel-server")
        self.port: int | None = None

    def _run(self) -> None:
        asyncio.run(self.server.serve())

    def start(self) -> str:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("channel server did not start")
            time.sleep(0.01)
        self.port = self.server.servers[0].sockets[0].getsockname()[1]
        return f"http://{self.config.host}:{self.port}"

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@contextmanager
def serve(app):
    """``with serve(app) as base_url: …``"""
    thread = ServerThread(app)
    url = thread.start()
    try:
        yield url
    finally:
        thread.stop()
