"""Allegro OAuth: keep the seller's access token fresh with the refresh token.

What Allegro documents (developer.allegro.pl/auth, "Authorization Code flow" and "Przedłużenie ważności tokena" /
token refresh):

* the token endpoint is ``POST https://allegro.pl/auth/oauth/token`` (sandbox:
  ``https://allegro.pl.allegrosandbox.pl/auth/oauth/token``) — the auth host, not ``api.allegro.pl`` — with HTTP
  Basic authentication ``client_id:client_secret`` and ``grant_type=refresh_token&refresh_token=…&redirect_uri=…``;
* the answer is ``{access_token, token_type: "bearer", refresh_token, expires_in, scope, allegro_api, jti}``; the
  access token is a JWT valid ``expires_in`` seconds (12 hours: 43199), the refresh token 3 months;
* the refresh token **rotates**: every refresh returns a new one and the old one cannot be used again
  (``400 {"error": "invalid_grant"}``), so two workers must never refresh with the same one — the refresh runs
  under the channel row's lock and a worker that finds a newer pair stored adopts it instead;
* an API call with an expired or revoked token answers ``401 {"error": "invalid_token"}``.

Getting the first pair (authorization code or device flow, with the seller's consent) is out of scope: an operator
stores ``access_token``, ``refresh_token`` (and ``access_token_expires_at``, epoch seconds, if known) as the
channel's secrets with ``client_id`` and ``client_secret``; from then on the connector refreshes ``REFRESH_MARGIN_S``
before expiry and on a 401, and stores the new pair encrypted (``platform/crypto`` via ``channels.service``).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

import httpx

from ..base import ChannelRejected, ChannelUnavailable
from ..http import body_of, error_text, send

DEFAULT_AUTH_URL = "https://allegro.pl"
REFRESH_MARGIN_S = 300.0  # refresh this long before the access token expires
ACCESS = "access_token"
REFRESH = "refresh_token"
EXPIRES_AT = "access_token_expires_at"  # epoch seconds, stored with the tokens


class SecretStore(Protocol):
    async def update(self, change: Callable[[dict[str, str]], Awaitable[dict[str, str] | None]]
                     ) -> dict[str, str]:
        """Run ``change(current secrets)`` while no one else may change them; store what it returns (None: keep);
        return the secrets as stored."""
        ...


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_at: float

    def as_secrets(self) -> dict[str, str]:
        return {ACCESS: self.access_token, REFRESH: self.refresh_token, EXPIRES_AT: f"{self.expires_at:.0f}"}


def expires_at(secrets: dict[str, str]) -> float | None:
    try:
        return float(secrets[EXPIRES_AT])
    except (KeyError, TypeError, ValueError):
        return None


def due_for_refresh(secrets: dict[str, str], *, now: float | None = None, margin: float = REFRESH_MARGIN_S) -> bool:
    """True when a refresh token is there and the access token is missing or expires within ``margin``."""
    if not secrets.get(REFRESH):
        return False
    at = expires_at(secrets)
    if not secrets.get(ACCESS):
        return True
    return at is not None and (now if now is not None else time.time()) >= at - margin


async def refresh(http: httpx.AsyncClient, *, auth_url: str, client_id: str, client_secret: str,
                  refresh_token: str, redirect_uri: str | None = None) -> TokenPair:
    """Exchange the refresh token for a new pair (the old refresh token is spent)."""
    params: dict[str, Any] = {"grant_type": "refresh_token", "refresh_token": refresh_token}
    if redirect_uri:
        params["redirect_uri"] = redirect_uri
    what = "Allegro token refresh"
    try:
        response = await send(http, "POST", auth_url.rstrip("/") + "/auth/oauth/token", what=what, data=params,
                              auth=(client_id, client_secret), headers={"Accept": "application/json"})
    except ChannelRejected as exc:  # 401: the client id / secret are wrong
        raise ChannelRejected(f"{what}: the client credentials were refused ({error_text(exc.answer)}); check "
                              f"the channel's client_id and client_secret", status=exc.status,
                              answer=exc.answer) from exc
    body = body_of(response)
    if response.status_code == 400:  # invalid_grant: spent, revoked or expired refresh token
        raise ChannelRejected(f"{what}: {body.get('error', 'invalid_grant')} — the seller must authorize the "
                              f"application again", status=400, answer=body)
    if response.status_code != 200 or not isinstance(body, dict) or not body.get("access_token"):
        raise ChannelUnavailable(f"{what}: unexpected answer {response.status_code}", status=response.status_code,
                                 answer=body)
    return TokenPair(access_token=str(body["access_token"]),
                     refresh_token=str(body.get("refresh_token") or refresh_token),
                     expires_at=time.time() + float(body.get("expires_in") or 43199))


class InMemorySecrets:
    """A store for connectors built without a database (tests, one-off scripts): changes live in the dict."""

    def __init__(self, secrets: dict[str, str]) -> None:
        self.secrets = secrets

    async def update(self, change):
        new = await change(dict(self.secrets))
        if new is not None:
            self.secrets.clear()
            self.secrets.update(new)
        return dict(self.secrets)
