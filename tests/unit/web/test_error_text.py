"""``web.error_text``: the services' fixed refusals as the page's sentence in each language."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from starlette.requests import Request

import omniretail
from omniretail.inventory.errors import InsufficientStock
from omniretail.orders.states import IllegalTransition
from omniretail.platform.errors import Conflict, InvalidInput
from omniretail.web.error_text import DETAILS, ILLEGAL, describe
from omniretail.web.i18n import translations_for
from omniretail.web.order_labels import RETURN_STATES

SOURCE = Path(omniretail.__file__).parent


def _request(locale: str) -> Request:
    return Request({"type": "http", "method": "GET", "path": "/", "headers": [], "query_string": b"",
                    "state": {"locale": locale}})


def test_every_wording_is_still_raised_by_a_service():
    """A service reworded: its refusal would fall back to English unnoticed."""
    raised = set()
    for path in SOURCE.rglob("*.py"):
        if path.name == "error_text.py":
            continue
        raised |= set(re.findall(r'raise \w+\(\s*"([^"]+)"', path.read_text()))
    assert sorted(set(DETAILS) - raised) == []


@pytest.mark.parametrize("locale", ["pl", "tr", "sq"])
def test_every_sentence_is_translated(locale):
    catalogue = translations_for(locale)
    for sentence in {*DETAILS.values(), ILLEGAL}:
        assert catalogue.gettext(sentence) != sentence, (locale, sentence)


def test_a_refusal_reads_in_the_readers_language_and_an_unknown_one_keeps_the_services_words():
    polish = _request("pl")
    assert describe(polish, InvalidInput("say where the return was received")) == \
        "Wybierz sklep, który przyjmuje towar z powrotem."
    assert describe(_request("en"), InvalidInput("say where the return was received")) == \
        "Choose the store that takes the goods back."
    moved = IllegalTransition(entity="return", entity_id=1, current="refunded", requested="received", allowed=())
    label = translations_for("pl").gettext(RETURN_STATES["refunded"])
    assert describe(polish, moved) == f"To już nie jest możliwe: stan to teraz „{label}”. Odśwież stronę."
    assert label != "refunded"  # the state's own name in Polish, not its code
    short = InsufficientStock(sku="BOOT-42", location_id=1, requested=3, available=1)
    assert "BOOT-42" in describe(polish, short) and "Not enough" not in describe(polish, short)
    assert describe(polish, Conflict("something nobody foresaw")) == "something nobody foresaw"
