from __future__ import annotations

from omniretail.api.authentication import CSRF_COOKIE, SESSION_COOKIE
from tests.factories import create_location, create_user_with_token

from .conftest import HTML, PASSWORD, csrf_from, sign_in


async def test_root_sends_signed_out_visitors_to_the_login_form(client):
    response = await client.get("/", headers=HTML)
    assert response.status_code == 303
    assert response.headers["location"] == "/login"


async def test_root_sends_each_role_to_its_home(client, session):
    await sign_in(client, session, role="manager")
    assert (await client.get("/", headers=HTML)).headers["location"] == "/backoffice"


async def test_root_sends_an_associate_to_the_store_app(client, session):
    store = await create_location(session)
    await sign_in(client, session, role="associate", location_ids=[store])
    assert (await client.get("/", headers=HTML)).headers["location"] == "/store"


async def test_login_form_sets_a_strict_httponly_csrf_cookie(client):
    page = await client.get("/login", headers=HTML)
    assert page.status_code == 200
    cookie = page.headers["set-cookie"]
    assert cookie.startswith(f"{CSRF_COOKIE}=") and "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert 'autocomplete="current-password"' in page.text and '<label for="f-email">' in page.text
    assert "content-security-policy" in page.headers


async def test_sign_in_sets_session_cookie_and_goes_to_next(client, session):
    _uid, _tok = await create_user_with_token(session, role="manager", email="ola@example.com")
    form = await client.get("/login?next=/backoffice/locations", headers=HTML)
    assert 'name="next" value="/backoffice/locations"' in form.text
    response = await client.post("/login", data={
        "email": "OLA@example.com", "password": PASSWORD, "next": "/backoffice/locations",
        "csrf_token": csrf_from(form)}, headers=HTML)
    assert response.status_code == 303
    assert response.headers["location"] == "/backoffice/locations"
    session_cookie = next(c for c in response.headers.get_list("set-cookie") if c.startswith(SESSION_COOKIE))
    assert "HttpOnly" in session_cookie and "SameSite=lax" in session_cookie.replace("Lax", "lax")
    assert "Secure" not in session_cookie  # settings.secure_cookies is off in tests
    assert (await client.get("/backoffice/locations", headers=HTML)).status_code == 200


async def test_next_never_leaves_the_site(client, session):
    await create_user_with_token(session, role="manager", email="eve@example.com")
    form = await client.get("/login", headers=HTML)
    response = await client.post("/login", data={"email": "eve@example.com", "password": PASSWORD,
                                                 "next": "//evil.example/x", "csrf_token": csrf_from(form)})
    assert response.headers["location"] == "/backoffice"


async def test_wrong_password_shows_the_form_again_without_saying_which_part_was_wrong(client, session):
    await create_user_with_token(session, role="manager", email="jan@example.com")
    form = await client.get("/login", headers=HTML)
    wrong_password = await client.post("/login", data={"email": "jan@example.com", "password": "nope",
                                                       "csrf_token": csrf_from(form)}, headers=HTML)
    unknown_user = await client.post("/login", data={"email": "nobody@example.com", "password": "nope",
                                                      "csrf_token": csrf_from(form)}, headers=HTML)
    assert wrong_password.status_code == unknown_user.status_code == 400
    assert SESSION_COOKIE not in client.cookies
    assert 'id="f-password-error"' in wrong_password.text
    assert 'aria-describedby="f-password-error"' in wrong_password.text
    assert 'aria-invalid="true"' in wrong_password.text
    assert 'value="jan@example.com"' in wrong_password.text
    error = wrong_password.text.split('id="f-password-error"')[1].split("</p>")[0]
    assert error == unknown_user.text.split('id="f-password-error"')[1].split("</p>")[0]


async def test_empty_fields_get_their_own_errors(client):
    form = await client.get("/login", headers=HTML)
    response = await client.post("/login", data={"csrf_token": csrf_from(form)}, headers=HTML)
    assert response.status_code == 400
    assert 'id="f-email-error"' in response.text and 'id="f-password-error"' in response.text


async def test_post_without_csrf_token_is_refused(client, session):
    await create_user_with_token(session, role="manager", email="kasia@example.com")
    await client.get("/login", headers=HTML)  # has the cookie, but does not send the field
    response = await client.post("/login", data={"email": "kasia@example.com", "password": PASSWORD},
                                 headers=HTML)
    assert response.status_code == 403
    assert "text/html" in response.headers["content-type"]
    assert SESSION_COOKIE not in client.cookies
    forged = await client.post("/login", data={"email": "kasia@example.com", "password": PASSWORD,
                                               "csrf_token": "forged"}, headers=HTML)
    assert forged.status_code == 403


async def test_logout_needs_csrf_and_ends_the_session(client, session):
    await sign_in(client, session, role="manager")
    page = await client.get("/backoffice", headers=HTML)
    assert (await client.post("/logout", data={}, headers=HTML)).status_code == 403
    assert (await client.get("/backoffice", headers=HTML)).status_code == 200
    response = await client.post("/logout", data={"csrf_token": csrf_from(page)}, headers=HTML)
    assert response.status_code == 303 and response.headers["location"] == "/login"
    after = await client.get("/backoffice", headers=HTML)
    assert after.status_code == 303 and after.headers["location"] == "/login?next=/backoffice"


async def test_signed_out_page_visit_redirects_to_login_with_next(client):
    response = await client.get("/backoffice/catalog?q=boot", headers=HTML)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/backoffice/catalog%3Fq%3Dboot"


async def test_api_docs_keep_their_own_headers(client):
    docs = await client.get("/docs", headers=HTML)
    assert docs.status_code == 200
    assert "content-security-policy" not in docs.headers and "set-cookie" not in docs.headers


async def test_static_assets_are_served(client):
    css = await client.get("/static/omniretail.css")
    assert css.status_code == 200 and "text/css" in css.headers["content-type"]


async def test_unknown_address_is_an_html_404_page(client):
    page = await client.get("/no-such-page", headers={**HTML, "Accept-Language": "pl"})
    assert page.status_code == 404 and "text/html" in page.headers["content-type"]
    assert "<h1>Nie znaleziono</h1>" in page.text and 'href="/login"' in page.text
