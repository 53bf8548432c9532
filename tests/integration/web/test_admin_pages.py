"""Users and roles (owners and administrators only) and the audit log (filters by actor, action and date)."""

from __future__ import annotations

from datetime import timedelta

from omniretail.auth import service as auth_service
from omniretail.platform import clock
from tests.factories import create_location, unique
from tests.integration.web.conftest import HTML, PASSWORD, csrf_from, sign_in


async def test_create_change_role_and_deactivate_a_user(client, session):
    store = await create_location(session, name="Store North")
    await session.commit()
    admin_email = await sign_in(client, session, role="admin")
    listing = await client.get("/backoffice/users", headers=HTML)
    assert listing.status_code == 200 and admin_email in listing.text
    form = await client.get("/backoffice/users/new", headers=HTML)
    token = csrf_from(form)
    email = f"{unique('new')}@example.com"
    base = {"csrf_token": token, "email": email, "full_name": "Nowy Sprzedawca", "role": "associate",
            "locale": "pl", "password": PASSWORD}
    no_store = await client.post("/backoffice/users/new", data=base, headers=HTML)
    assert no_store.status_code == 400 and 'id="f-location_ids-error"' in no_store.text
    short = await client.post("/backoffice/users/new", data={**base, "password": "short",
                                                              "location_ids": str(store)}, headers=HTML)
    assert short.status_code == 400 and 'id="f-password-error"' in short.text
    created = await client.post("/backoffice/users/new", data={**base, "location_ids": str(store)}, headers=HTML)
    assert created.status_code == 303, created.text
    user_url = created.headers["location"].split("?")[0]
    user_id = int(user_url.rsplit("/", 1)[1])
    user = await auth_service.get_user(session, user_id)
    assert (user.role, [x.location_id for x in user.locations], user.locale) == ("associate", [store], "pl")
    dup = await client.post("/backoffice/users/new", data={**base, "location_ids": str(store)}, headers=HTML)
    assert dup.status_code == 400 and 'id="f-email-error"' in dup.text
    promoted = await client.post(user_url, data={"csrf_token": token, "full_name": "Kierownik", "role": "manager",
                                                 "locale": "pl"}, headers=HTML)
    assert promoted.status_code == 303
    session.expire_all()
    assert (await auth_service.get_user(session, user_id)).role == "manager"
    off = await client.post(f"{user_url}/deactivate", data={"csrf_token": token}, headers=HTML)
    assert off.status_code == 303
    session.expire_all()
    assert not (await auth_service.get_user(session, user_id)).is_active
    shown = await client.get(off.headers["location"], headers=HTML)
    assert "The user was deactivated and signed out." in shown.text and "Let this user sign in again" in shown.text


async def test_only_owners_and_admins_manage_users(client, session):
    await sign_in(client, session, role="manager")
    assert (await client.get("/backoffice/users", headers=HTML)).status_code == 403
    assert (await client.get("/backoffice/audit", headers=HTML)).status_code == 200  # managers read the log
    nav = (await client.get("/backoffice/audit", headers=HTML)).text
    assert 'href="/backoffice/users"' not in nav and 'href="/backoffice/audit"' in nav


async def test_audit_log_filters_by_actor_action_and_date(client, session):
    admin_email = await sign_in(client, session, role="owner")
    token = csrf_from(await client.get("/backoffice/users/new", headers=HTML))
    email = f"{unique('aud')}@example.com"
    created = await client.post("/backoffice/users/new", data={
        "csrf_token": token, "email": email, "role": "analyst", "locale": "en", "password": PASSWORD}, headers=HTML)
    assert created.status_code == 303
    log = await client.get("/backoffice/audit", params={"actor": admin_email, "action": "create_user"},
                           headers=HTML)
    assert log.status_code == 200 and "create_user" in log.text and admin_email in log.text
    other = await client.get("/backoffice/audit", params={"actor": unique("ghost")}, headers=HTML)
    assert "Nothing matches these filters." in other.text
    tomorrow = (clock.now() + timedelta(days=1)).date()
    later = await client.get("/backoffice/audit", params={"actor": admin_email, "since": str(tomorrow)},
                             headers=HTML)
    assert "create_user" not in later.text
    bad = await client.get("/backoffice/audit", params={"since": "soon"}, headers=HTML)
    assert bad.status_code == 400 and 'id="f-since-error"' in bad.text
