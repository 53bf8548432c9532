from __future__ import annotations

from omniretail.web.i18n import LOCALE_COOKIE, compile_catalogs, translations_for

from .conftest import HTML, sign_in


async def test_login_page_follows_accept_language(client):
    page = await client.get("/login", headers={**HTML, "Accept-Language": "pl-PL,pl;q=0.9,en;q=0.5"})
    assert '<html lang="pl">' in page.text
    assert "Zaloguj się" in page.text and "Hasło" in page.text


async def test_language_switch_on_the_login_page_is_remembered(client):
    page = await client.get("/login?lang=tr", headers=HTML)
    assert '<html lang="tr">' in page.text and "Şifre" in page.text
    assert client.cookies.get(LOCALE_COOKIE) == "tr"
    again = await client.get("/login", headers={**HTML, "Accept-Language": "en"})
    assert '<html lang="tr">' in again.text


async def test_albanian_login_page(client):
    page = await client.get("/login", headers={**HTML, "Accept-Language": "sq"})
    assert '<html lang="sq">' in page.text and "Fjalëkalimi" in page.text


async def test_profile_locale_wins_and_translates_navigation(client, session):
    await sign_in(client, session, role="manager", locale="pl")
    page = await client.get("/backoffice/locations", headers={**HTML, "Accept-Language": "en"})
    assert '<html lang="pl">' in page.text
    assert ">Lokalizacje<" in page.text and ">Katalog<" in page.text and "Wyloguj" in page.text


async def test_every_locale_translates_the_page_titles():
    for locale in ("pl", "tr", "sq"):
        catalogue = translations_for(locale)
        for message in ("Sign in", "Catalog", "Locations", "Channels", "Overview", "Store app", "Password"):
            assert catalogue.gettext(message) != message, (locale, message)


def test_catalogues_compile_to_mo_files(tmp_path):
    from babel.support import Translations

    written = compile_catalogs(tmp_path)
    assert {p.parent.parent.name for p in written} >= {"pl", "tr", "sq"}
    with (tmp_path / "pl" / "LC_MESSAGES" / "messages.mo").open("rb") as fh:
        assert Translations(fh).gettext("Sign in") == "Zaloguj się"


async def test_an_error_page_says_what_happened_in_the_reader_s_language(client, session):
    await sign_in(client, session, role="manager", locale="pl")
    missing = await client.get("/backoffice/customers/99999999", headers=HTML)
    assert missing.status_code == 404 and '<html lang="pl">' in missing.text
    assert "To, o co prosisz, nie istnieje albo nie możesz tego zobaczyć." in missing.text
    assert '<p class="problem-detail" lang="en">' in missing.text  # the details stay as written, marked English


async def test_a_known_refusal_on_an_error_page_is_said_in_the_reader_s_language(client, session):
    await sign_in(client, session, role="manager", locale="tr")
    gone = await client.get("/backoffice/orders/not-a-number", headers=HTML)  # a path the page cannot read
    assert gone.status_code == 404
    assert '<p class="problem-detail">Listenin bu sayfası artık yok: ilk sayfadan başlayın.</p>' in gone.text
    assert "there is no such page" not in gone.text
