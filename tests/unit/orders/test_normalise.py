from omniretail.customers.normalise import identity_key, normalise_email, normalise_phone


def test_email_is_trimmed_and_lower_cased():
    assert normalise_email("  Anna.Nowak@Example.COM ") == "anna.nowak@example.com"
    assert normalise_email("not an address") is None
    assert normalise_email(None) is None


def test_phones_become_e164_with_poland_as_default_region():
    assert normalise_phone("501 234 567") == "+48501234567"
    assert normalise_phone("+48 501-234-567") == "+48501234567"
    assert normalise_phone("0048501234567") == "+48501234567"
    assert normalise_phone("+90 532 123 45 67") == "+905321234567"
    assert normalise_phone("12") is None
    assert normalise_phone("call me") is None


def test_identity_key_prefers_the_channel_id():
    assert identity_key(" A-1 ", "a@b.c", "+48501234567") == "A-1"
    assert identity_key(None, "a@b.c", "+48501234567") == "email:a@b.c"
    assert identity_key(None, None, "+48501234567") == "phone:+48501234567"
    assert identity_key(None, None, None) is None
