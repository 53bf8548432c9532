"""Steps and checks shared by the browser tests."""

from __future__ import annotations

import json
from pathlib import Path

from . import seed

try:
    from playwright.sync_api import expect
except ImportError:  # no e2e extra: conftest skips every browser test (or fails them on CI) before use
    expect = None  # type: ignore[assignment]

__all__ = ["assert_accessible", "check_page", "expect", "sign_in", "snapshot"]

BLOCKING_IMPACTS = ("serious", "critical")


def sign_in(page, *, email: str = seed.OWNER_EMAIL, password: str = seed.PASSWORD) -> None:
    page.goto("/login")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(password)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()


def snapshot(page, artifacts: Path, name: str) -> Path:
    path = artifacts / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def assert_accessible(page, artifacts: Path, name: str) -> list[dict]:
    """axe-core on the page as it is now: no serious or critical violations. The full report is kept."""
    from axe_playwright_python.sync_playwright import Axe

    violations = Axe().run(page).response["violations"]
    (artifacts / f"{name}.axe.json").write_text(json.dumps(violations, indent=2))
    blocking = [v for v in violations if v.get("impact") in BLOCKING_IMPACTS]
    assert not blocking, "\n".join(
        f"{v['impact']}: {v['id']} — {v['help']} ({len(v['nodes'])} node(s): "
        f"{', '.join(n['target'][0] for n in v['nodes'][:3])})" for v in blocking
    )
    return violations


def check_page(page, artifacts: Path, name: str) -> None:
    snapshot(page, artifacts, name)
    assert_accessible(page, artifacts, name)
