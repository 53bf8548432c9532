"""Every page a role can reach from the navigation, and the first record each list links to, passes axe-core
with no serious or critical violation; a screenshot of each is kept in test-artifacts/e2e/."""

from __future__ import annotations

import re

import pytest

from . import seed
from .helpers import check_page, sign_in

pytestmark = pytest.mark.e2e


def _slug(path: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", path.lower()).strip("-") or "root"


def _walk(page, artifacts, prefix: str) -> list[str]:
    """The navigation's links and the home page's own links, then the first record of each list."""
    links = page.locator("nav[aria-label='Main'] a[href^='/'], main a[href^='/']")
    targets = sorted({href for href in links.evaluate_all("links => links.map(a => a.getAttribute('href'))")
                      if "logout" not in href})
    seen = []
    for href in targets:
        page.goto(href)
        check_page(page, artifacts, f"90-{prefix}-{_slug(href)}")
        seen.append(href)
        detail = page.locator("main table tbody a[href^='/']").first
        if detail.count():
            link = detail.get_attribute("href")
            page.goto(link)
            check_page(page, artifacts, f"91-{prefix}-{_slug(link)}")
            seen.append(link)
    return seen


def test_every_back_office_page_passes_axe(page, e2e_artifacts):
    sign_in(page)
    seen = _walk(page, e2e_artifacts, "owner")
    assert {"/backoffice", "/backoffice/orders", "/backoffice/customers", "/backoffice/users",
            "/backoffice/audit", "/backoffice/channels", "/backoffice/stock"} <= set(seen)


def test_every_store_app_page_passes_axe(page, e2e_artifacts):
    sign_in(page, email=seed.ASSOCIATE_EMAIL)
    seen = _walk(page, e2e_artifacts, "associate")
    assert any(href.startswith("/store") for href in seen)
