"""Outbound channels: email over SMTP, and SMS through a provider interface (a logging provider for now).

A sender returns the provider's id for the message, or raises ``SendFailed`` (``permanent=True`` when trying
again cannot help: the server refused the recipient or the message with a 5xx answer; a refused login or
sender is our configuration, and is retried).
"""

from __future__ import annotations

import asyncio
import logging
import smtplib
import ssl
from abc import ABC, abstractmethod
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate

from omniretail.platform.config import Settings

log = logging.getLogger("omniretail.notifications")


class SendFailed(Exception):
    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


@dataclass(frozen=True)
class OutgoingEmail:
    to: str
    subject: str
    text: str
    html: str | None
    message_id: str  # stable per delivery, so a resend after a crash can be recognised as a duplicate


class EmailSender:
    """SMTP with the standard library, run in a thread (one connection per message; STARTTLS and login
    when configured)."""

    provider = "smtp"

    def __init__(self, *, host: str, port: int, sender: str, username: str | None = None,
                 password: str | None = None, starttls: bool = True, timeout: float = 30.0) -> None:
        self.host, self.port, self.sender = host, port, sender
        self.username, self.password, self.starttls, self.timeout = username, password, starttls, timeout

    async def send(self, email: OutgoingEmail) -> str:
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = email.to
        message["Subject"] = email.subject
        message["Date"] = formatdate(localtime=False, usegmt=True)
        message["Message-ID"] = email.message_id
        message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no auto-replies to a notification
        message.set_content(email.text)
        if email.html:
            message.add_alternative(email.html, subtype="html")
        await asyncio.to_thread(self._deliver, message)
        return email.message_id

    def _deliver(self, message: EmailMessage) -> None:
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                smtp.ehlo()
                if self.starttls:
                    smtp.starttls(context=ssl.create_default_context())
                    smtp.ehlo()
                if self.username:
                    smtp.login(self.username, self.password or "")
                smtp.send_message(message)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _msg in exc.recipients.values()]
            raise SendFailed(f"recipient refused: {exc.recipients}",
                             permanent=all(500 <= c < 600 for c in codes)) from exc
        except smtplib.SMTPDataError as exc:  # the message itself was refused
            raise SendFailed(f"SMTP {exc.smtp_code}: {_text(exc.smtp_error)}",
                             permanent=500 <= exc.smtp_code < 600) from exc
        except smtplib.SMTPResponseException as exc:  # login, sender, …: our configuration, fixable
            raise SendFailed(f"SMTP {exc.smtp_code}: {_text(exc.smtp_error)}") from exc
        except (smtplib.SMTPException, OSError) as exc:
            raise SendFailed(f"SMTP {self.host}:{self.port}: {type(exc).__name__}: {exc}") from exc


def _text(value: bytes | str) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


class SmsSender(ABC):
    """An SMS gateway. Implement ``send`` for a real provider and name it in ``OMNIRETAIL_SMS_PROVIDER``."""

    provider: str

    @abstractmethod
    async def send(self, *, to: str, text: str, reference: str) -> str:
        """Send ``text`` to ``to`` (E.164 preferred); ``reference`` is our idempotency key; returns the
        provider's message id."""


class LoggingSmsSender(SmsSender):
    """Writes the message to the log instead of sending it (development, and until a gateway is chosen)."""

    provider = "log"

    async def send(self, *, to: str, text: str, reference: str) -> str:
        log.info("SMS to %s (%s): %s", to, reference, text)
        return f"log-{reference}"


@dataclass
class Senders:
    email: EmailSender | None
    sms: SmsSender | None


def build_senders(settings: Settings) -> Senders:
    email = None
    if settings.smtp_host:
        email = EmailSender(host=settings.smtp_host, port=settings.smtp_port, sender=settings.smtp_from,
                            username=settings.smtp_user, password=settings.smtp_password,
                            starttls=settings.smtp_starttls, timeout=settings.smtp_timeout_s)
    sms: SmsSender | None = None
    if settings.sms_provider == "log":
        sms = LoggingSmsSender()
    elif settings.sms_provider:
        log.error("unknown SMS provider %r: SMS messages will fail until it is configured",
                  settings.sms_provider)
    return Senders(email=email, sms=sms)
