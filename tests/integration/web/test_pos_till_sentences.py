"""The till's "no shift" notice is one sentence per language, with the link where that language puts it: in
Turkish the purpose comes first ("Ödeme almak için vardiya açın"), not the English word order."""

from __future__ import annotations

import re

import pytest

from tests.integration.pos.test_shifts import _till

from .conftest import HTML, sign_in


@pytest.mark.parametrize(("locale", "sentence"), [
    ("en", '<a href="/store/pos/shift?location_id={id}">Open a shift</a> to take payments.'),
    ("pl", '<a href="/store/pos/shift?location_id={id}">Otwórz zmianę</a>, aby przyjmować płatności.'),
    ("tr", 'Ödeme almak için <a href="/store/pos/shift?location_id={id}">vardiya açın</a>.'),
    ("sq", '<a href="/store/pos/shift?location_id={id}">Hapni një turn</a> për të marrë pagesa.'),
])
async def test_the_no_shift_notice_reads_as_one_sentence(client, session, locale, sentence):
    shop, _pos = await _till(session)
    await sign_in(client, session, role="associate", location_ids=[shop.store_a], locale=locale)
    till = await client.get("/store/pos", headers=HTML)
    assert till.status_code == 200
    notice = re.search(r'<p class="warning">(.*?)</p>', till.text, flags=re.S).group(1)
    assert sentence.format(id=shop.store_a) in notice, notice
