"""The feed URLs with their token, building over the API, the report, and who may do what."""

from __future__ import annotations

from urllib.parse import urlsplit

from omniretail.channels.feeds import service
from tests.factories import TEST_SECRET_KEY, bearer, create_channel, create_user_with_token, problem

from .helpers import TEMPLATE, rss_items, seed_google_channel, tsv_rows


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


async def build_over_api(client, seeded, headers) -> dict:
    response = await client.post(f"/api/v1/channels/{seeded.channel_id}/feeds/build", headers=headers)
    assert response.status_code == 202, response.text
    return response.json()


async def test_build_then_fetch_with_the_token_url(client, session):
    seeded = await seed_google_channel(session)
    _uid, token = await create_user_with_token(session, role="manager")
    accepted = await build_over_api(client, seeded, bearer(token))
    assert accepted["status"] == "accepted" and set(accepted["urls"]) == set(service.MEDIA_TYPES)
    feed_token = service.feed_token(TEST_SECRET_KEY, seeded.channel_id)
    assert accepted["urls"]["products.xml"].endswith(f"/feeds/{seeded.code}/products.xml?token={feed_token}")

    xml = await client.get(path_of(accepted["urls"]["products.xml"]))  # no Authorization: the token is enough
    assert xml.status_code == 200, xml.text
    assert xml.headers["content-type"].startswith("application/xml")
    assert seeded.skus["in_stock"] in rss_items(xml.text)
    tsv = await client.get(path_of(accepted["urls"]["products.tsv"]))
    assert tsv.headers["content-type"].startswith("text/tab-separated-values")
    assert tsv_rows(tsv.text)[0][0] == "id"
    local = await client.get(path_of(accepted["urls"]["local-inventory.tsv"]))
    assert local.status_code == 200 and local.text.startswith("store_code\tid\t")

    report = await client.get(accepted["report_url"], headers=bearer(token))
    assert report.status_code == 200 and report.json()["status"] == "ok"
    assert report.json()["urls"] == accepted["urls"]


async def test_a_wrong_token_is_a_404_like_an_unknown_channel(client, session):
    seeded = await seed_google_channel(session)
    _uid, token = await create_user_with_token(session, role="owner")
    await build_over_api(client, seeded, bearer(token))
    right = service.feed_token(TEST_SECRET_KEY, seeded.channel_id)
    wrong = await client.get(f"/feeds/{seeded.code}/products.xml", params={"token": "0" * 32})
    missing = await client.get(f"/feeds/{seeded.code}/products.xml")
    unknown = await client.get("/feeds/no-such-channel/products.xml", params={"token": right})
    other_file = await client.get(f"/feeds/{seeded.code}/report.json", params={"token": right})
    bodies = []
    for response in (wrong, missing, unknown, other_file):
        assert response.status_code == 404
        bodies.append({k: v for k, v in problem(response).items() if k != "instance"})  # instance: the path asked
    assert all(body == bodies[0] for body in bodies) and bodies[0]["detail"] == "feed not found"
    assert (await client.get(f"/feeds/{seeded.code}/products.xml", params={"token": right})).status_code == 200


async def test_rotating_the_url_version_changes_the_token(client, session):
    seeded = await seed_google_channel(session)
    _uid, token = await create_user_with_token(session, role="owner")
    first = (await build_over_api(client, seeded, bearer(token)))["urls"]["products.xml"]
    patched = await client.patch(f"/api/v1/channels/{seeded.channel_id}", headers=bearer(token), json={
        "settings": {"product_url_template": TEMPLATE, "feed_url_version": 2}})
    assert patched.status_code == 200, patched.text
    assert (await client.get(path_of(first))).status_code == 404
    second = (await build_over_api(client, seeded, bearer(token)))["urls"]["products.xml"]
    assert second != first and (await client.get(path_of(second))).status_code == 200


async def test_report_lists_the_bad_items_that_the_feed_leaves_out(client, session):
    seeded = await seed_google_channel(session)
    _uid, token = await create_user_with_token(session, role="owner")
    accepted = await build_over_api(client, seeded, bearer(token))
    report = (await client.get(accepted["report_url"], headers=bearer(token),
                               params={"severity": "error"})).json()
    bad = {issue["id"]: issue for issue in report["issues"]}
    assert set(bad) == {seeded.skus["long_sku"], seeded.skus["no_image"]}
    assert bad[seeded.skus["long_sku"]]["attribute"] == "id" and "at most 50" in bad[seeded.skus["long_sku"]]["message"]
    assert report["feeds"]["products"]["left_out"] == 2 and report["errors_total"] == 2
    feed = rss_items((await client.get(path_of(accepted["urls"]["products.xml"]))).text)
    assert seeded.skus["long_sku"] not in feed and seeded.skus["no_image"] not in feed


async def test_who_may_build_and_read(client, session):
    seeded = await seed_google_channel(session)
    build = f"/api/v1/channels/{seeded.channel_id}/feeds/build"
    report = f"/api/v1/channels/{seeded.channel_id}/feeds/report"
    _uid, associate = await create_user_with_token(session, role="associate", location_ids=[seeded.store_pickup])
    assert (await client.post(build, headers=bearer(associate))).status_code == 403
    assert (await client.get(report, headers=bearer(associate))).status_code == 403
    other = await create_channel(session, kind="google_merchant", settings={"product_url_template": TEMPLATE})
    _uid, stranger = await create_user_with_token(session, role="integration", channel_ids=[other])
    assert (await client.post(build, headers=bearer(stranger))).status_code == 404
    assert (await client.get(report, headers=bearer(stranger))).status_code == 404
    _uid, own = await create_user_with_token(session, role="integration", channel_ids=[seeded.channel_id])
    assert (await client.post(build, headers=bearer(own))).status_code == 202
    _uid, analyst = await create_user_with_token(session, role="analyst")
    assert (await client.post(build, headers=bearer(analyst))).status_code == 403
    read = await client.get(report, headers=bearer(analyst))
    assert read.status_code == 200 and read.json()["urls"] is None  # the token is for those who may change it
    assert (await client.post(build)).status_code == 401


async def test_build_refused_for_a_channel_without_feeds(client, session):
    _uid, token = await create_user_with_token(session, role="owner")
    webshop = await create_channel(session, kind="webshop")
    response = await client.post(f"/api/v1/channels/{webshop}/feeds/build", headers=bearer(token))
    assert response.status_code == 422 and problem(response)["field"] == "kind"
    no_template = await create_channel(session, kind="google_merchant")
    response = await client.post(f"/api/v1/channels/{no_template}/feeds/build", headers=bearer(token))
    assert response.status_code == 422 and problem(response)["field"] == "settings.product_url_template"
    assert (await client.get(f"/api/v1/channels/{no_template}/feeds/report",
                             headers=bearer(token))).status_code == 404
