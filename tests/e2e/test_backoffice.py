"""Sign in and walk the back office as a manager would, checking each page with axe-core."""

from __future__ import annotations

import re

import pytest

from . import seed
from .helpers import assert_accessible, check_page, expect, sign_in, snapshot

pytestmark = pytest.mark.e2e


def test_signed_out_visitor_lands_on_sign_in_and_reaches_the_back_office(page, e2e_artifacts):
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/login$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
    check_page(page, e2e_artifacts, "01-login")
    sign_in(page)
    expect(page).to_have_url(re.compile(r"/backoffice$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Overview")
    expect(page.get_by_text("8 products")).to_be_visible()
    check_page(page, e2e_artifacts, "02-backoffice-overview")


def test_wrong_password_is_explained_next_to_the_field(page, e2e_artifacts):
    sign_in(page, password="not-the-password")
    expect(page).to_have_url(re.compile(r"/login$"))
    password = page.get_by_label("Password")
    expect(password).to_have_attribute("aria-invalid", "true")
    expect(password).to_have_attribute("aria-describedby", "f-password-error")
    expect(page.locator("#f-password-error")).to_contain_text("The email address or password is not right.")
    check_page(page, e2e_artifacts, "03-login-error")


def test_catalog_search_and_product_detail(page, e2e_artifacts):
    sign_in(page)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Catalog").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Catalog")
    expect(page.get_by_role("row")).to_have_count(9)  # header + 8 products
    check_page(page, e2e_artifacts, "04-catalog")
    page.get_by_label("Search", exact=True).fill("5901234123457")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("link", name="Trail boot")).to_be_visible()
    expect(page.get_by_role("link", name="Tent 1-person")).to_have_count(0)
    page.get_by_role("link", name="Trail boot").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Trail boot")
    expect(page.get_by_role("img", name="Trail boot, side view")).to_be_visible()
    expect(page.get_by_role("rowheader", name="BOOT-TRAIL-42")).to_be_visible()
    check_page(page, e2e_artifacts, "05-product")


def test_locations_list_and_detail(page, e2e_artifacts):
    sign_in(page)
    page.goto("/backoffice/locations")
    expect(page.get_by_role("link", name="Centrum dystrybucyjne Stryków")).to_be_visible()
    check_page(page, e2e_artifacts, "06-locations")
    page.get_by_role("link", name="Warszawa Złote Tarasy").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Warszawa Złote Tarasy")
    expect(page.get_by_role("heading", name="Opening hours")).to_be_visible()
    expect(page.get_by_text("52.23010, 21.00250")).to_be_visible()
    check_page(page, e2e_artifacts, "07-location")


def test_channels_list_and_detail_never_show_secrets(page, e2e_artifacts):
    sign_in(page)
    page.goto("/backoffice/channels")
    expect(page.get_by_role("link", name="Amazon.de")).to_be_visible()
    check_page(page, e2e_artifacts, "08-channels")
    page.get_by_role("link", name="Allegro – oficjalny sklep").click()
    expect(page.get_by_text("kaszub-42")).to_be_visible()
    expect(page.get_by_text("client_secret")).to_be_visible()
    assert seed.CHANNEL_SECRET not in page.content()
    check_page(page, e2e_artifacts, "09-channel")


def test_store_app_home(page, e2e_artifacts):
    sign_in(page)
    page.goto("/store")
    expect(page.get_by_role("heading", level=1)).to_have_text("Store app")
    expect(page.get_by_role("link", name="Kraków Galeria Krakowska")).to_be_visible()
    check_page(page, e2e_artifacts, "10-store")


def test_associate_works_in_polish_and_sees_only_their_store(page, e2e_artifacts):
    sign_in(page, email=seed.ASSOCIATE_EMAIL)
    expect(page).to_have_url(re.compile(r"/store$"))
    expect(page.locator("html")).to_have_attribute("lang", "pl")
    expect(page.get_by_role("heading", level=1)).to_have_text("Aplikacja sklepu")
    expect(page.get_by_role("link", name="Warszawa Złote Tarasy")).to_be_visible()
    expect(page.get_by_role("link", name="Kraków Galeria Krakowska")).to_have_count(0)
    check_page(page, e2e_artifacts, "11-store-associate-pl")


def test_skip_link_and_sign_out_work_from_the_keyboard(page):
    sign_in(page)
    page.goto("/backoffice/catalog")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to main content")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"#main$"))
    page.get_by_role("button", name="Sign out").focus()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/login$"))
    page.goto("/backoffice")
    expect(page).to_have_url(re.compile(r"/login\?next=/backoffice$"))


def test_the_accessibility_check_catches_a_real_violation(page, e2e_artifacts):
    """Guards the guard: an image without alt text on an otherwise clean page must fail the check."""
    page.goto("/login")
    page.evaluate("""() => {
        const img = document.createElement('img');
        img.src = '/static/favicon.svg';
        document.querySelector('main').appendChild(img);
    }""")
    with pytest.raises(AssertionError, match="image-alt"):
        assert_accessible(page, e2e_artifacts, "self-test-missing-alt")


@pytest.mark.parametrize("path", ["/backoffice/catalog", "/backoffice/locations", "/backoffice/channels"])
def test_pages_fit_a_portrait_tablet(page, e2e_artifacts, path):
    page.set_viewport_size({"width": 768, "height": 1024})
    sign_in(page)
    page.goto(path)
    overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{path} scrolls sideways by {overflow}px at 768px"
    snapshot(page, e2e_artifacts, "tablet-portrait" + path.replace("/", "-"))
