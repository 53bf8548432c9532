"""Browser tests: the real app under uvicorn, driven by headless Chromium through Playwright.

* Chromium is Debian's (``apt-get install chromium``): ``/usr/lib/chromium/chromium``. Without it (or without
  the ``e2e`` extra) these tests are skipped with the reason; on CI (``CI=true``) that is a failure instead.
* The app runs in a thread on 127.0.0.1:<free port> against a fresh, migrated SQLite file seeded with an owner
  and a little catalog (``seed.py``). pytest-playwright's ``base_url`` points at it.
* Screenshots and axe reports go to ``test-artifacts/e2e/``.
* The app's mail goes to a local SMTP server (aiosmtpd) kept for the session: ``e2e_mailbox``.
"""

from __future__ import annotations

import asyncio
import importlib.util
import os
import socket
import threading
import time
from pathlib import Path

import pytest

from . import seed

CHROMIUM = Path(os.environ.get("OMNIRETAIL_CHROMIUM", "/usr/lib/chromium/chromium"))
ON_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
HAVE_PLAYWRIGHT = all(importlib.util.find_spec(name) is not None
                      for name in ("axe_playwright_python", "playwright", "pytest_playwright"))


def _missing() -> str | None:
    if not HAVE_PLAYWRIGHT:
        return "browser tests need the e2e extra: .venv/bin/pip install -e '.[e2e]'"
    if not CHROMIUM.is_file():
        return (f"browser tests need Chromium at {CHROMIUM}: "
                "apt-get install -y --no-install-recommends chromium")
    return None


def pytest_collection_modifyitems(config, items):
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session", autouse=True)
def _browser_available() -> None:
    why = _missing()
    if why:
        if ON_CI:
            pytest.fail(f"CI=true and {why}", pytrace=False)
        pytest.skip(why)


if not HAVE_PLAYWRIGHT:  # keep collection working; _browser_available skips before these are used
    @pytest.fixture
    def page():
        pytest.skip(_missing())


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _in_thread(fn) -> None:
    """Run an async seed in its own thread and loop (never disturbs pytest-asyncio's loop)."""
    errors: list[BaseException] = []

    def target():
        try:
            asyncio.run(fn())
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if errors:
        raise errors[0]


@pytest.fixture(scope="session")
def e2e_smtp(_browser_available):
    """A real SMTP server on 127.0.0.1 the app under test sends its mail to; yields (port, mailbox)."""
    from aiosmtpd.controller import Controller

    from tests.integration.notifications.conftest import Mailbox

    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    try:
        yield controller.port, mailbox
    finally:
        controller.stop()


@pytest.fixture(scope="session")
def e2e_mailbox(e2e_smtp):
    """What the app under test has sent by email so far (``Mailbox.to(address)``)."""
    return e2e_smtp[1]


@pytest.fixture(scope="session")
def live_server(_browser_available, tmp_path_factory, e2e_smtp) -> str:
    import uvicorn

    from omniretail.api.app import create_app
    from omniretail.platform.config import Settings
    from omniretail.platform.migrate import upgrade

    root = tmp_path_factory.mktemp("e2e")
    database_url = f"sqlite+aiosqlite:///{root / 'e2e.db'}"
    upgrade(database_url)
    port = _free_port()
    base_url = f"http://127.0.0.1:{port}"
    settings = Settings(database_url=database_url, secret_key=seed.SECRET_KEY, var_dir=root,
                        smtp_host="127.0.0.1", smtp_port=e2e_smtp[0], smtp_starttls=False,
                        smtp_from="Kaszub Outdoor <orders@kaszub.example>",
                        public_url=base_url)  # the links in customer messages (the decline link) lead here
    _in_thread(lambda: seed.seed(database_url, base_url=base_url))
    server = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=port,
                                           log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, name="e2e-uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the app under test did not start")
        time.sleep(0.05)
    yield base_url
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="session")
def base_url(live_server) -> str:
    return live_server


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args) -> dict:
    return {**browser_type_launch_args, "executable_path": str(CHROMIUM)}


# Playwright's sync API keeps an asyncio loop marked as running in this thread for as long as it is started,
# which breaks every async test that runs after it in the same process. pytest-playwright starts it once per
# session; here it lives only while this package's tests run (the same fixtures, package-scoped).

@pytest.fixture(scope="package")
def playwright(_pw_api_request_contexts):
    from playwright.sync_api import sync_playwright

    pw = sync_playwright().start()
    if _pw_api_request_contexts:
        _pw_api_request_contexts.instrument(pw)
    yield pw
    pw.stop()


@pytest.fixture(scope="package")
def browser_type(playwright, browser_name):
    return getattr(playwright, browser_name)


@pytest.fixture(scope="package")
def launch_browser(browser_type_launch_args, browser_type):
    return lambda **kwargs: browser_type.launch(**{**browser_type_launch_args, **kwargs})


@pytest.fixture(scope="package")
def browser(launch_browser):
    browser = launch_browser()
    yield browser
    browser.close()


@pytest.fixture(scope="package")
def browser_context_args(base_url) -> dict:
    # A landscape store tablet, English first (the locale tests switch explicitly).
    return {"base_url": base_url, "viewport": {"width": 1180, "height": 820}, "locale": "en-GB"}


@pytest.fixture(scope="session")
def e2e_artifacts(artifacts_dir: Path) -> Path:
    path = artifacts_dir / "e2e"
    path.mkdir(parents=True, exist_ok=True)
    return path
