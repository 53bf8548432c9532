import pytest

from omniretail.platform.crypto import decrypt_text, encrypt_text
from omniretail.platform.errors import InvalidInput, NotFound
from omniretail.platform.i18n import best_locale, normalise_locale
from omniretail.platform.pagination import decode_cursor, encode_cursor


def test_cursor_round_trip_and_garbage():
    assert decode_cursor(encode_cursor(["abc", 7])) == ["abc", 7]
    with pytest.raises(InvalidInput):
        decode_cursor("not-a-cursor!!")


@pytest.mark.parametrize(("header", "expected"), [
    ("pl-PL,pl;q=0.9,en;q=0.8", "pl"), ("de-DE,tr;q=0.5", "tr"), ("sq", "sq"), ("fr", "en"), (None, "en"),
])
def test_best_locale(header, expected):
    assert best_locale(header) == expected


def test_normalise_locale():
    assert normalise_locale("pl_PL") == "pl"
    assert normalise_locale("xx") == "en"


def test_secrets_round_trip_and_wrong_key():
    token = encrypt_text("key-one", "s3cr3t")
    assert "s3cr3t" not in token
    assert decrypt_text("key-one", token) == "s3cr3t"
    with pytest.raises(ValueError):
        decrypt_text("key-two", token)


def test_problem_body_shape():
    body = NotFound("product 5 not found", product_id=5).to_problem("/api/v1/products/5")
    assert body == {"type": "urn:omniretail:problem:not-found", "title": "Not found", "status": 404,
                    "detail": "product 5 not found", "instance": "/api/v1/products/5", "product_id": 5}
