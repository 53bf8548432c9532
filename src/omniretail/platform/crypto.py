"""Secrets at rest: Fernet (AES-128-CBC + HMAC-SHA256) with a key derived from the instance secret."""

from __future__ import annotations

import base64
import hashlib
import hmac
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken


@lru_cache(maxsize=8)
def _fernet(secret_key: str) -> Fernet:
    derived = hashlib.pbkdf2_hmac("sha256", secret_key.encode(), b"omniretail/secrets/v1", 100_000)
    return Fernet(base64.urlsafe_b64encode(derived))


def encrypt_text(secret_key: str, plaintext: str) -> str:
    return _fernet(secret_key).encrypt(plaintext.encode()).decode()


def decrypt_text(secret_key: str, token: str) -> str:
    try:
        return _fernet(secret_key).decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise ValueError("secret cannot be decrypted with this instance's secret key") from exc


def sha256_hex(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def sign(secret_key: str, message: bytes) -> str:
    return hmac.new(secret_key.encode(), message, hashlib.sha256).hexdigest()
