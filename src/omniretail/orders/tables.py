"""Other packages' tables as far as the orders package reads them directly (no import of their models)."""

from sqlalchemy import BigInteger, String, column, table

from omniretail.platform.models import JSONType

channel_t = table("channel", column("id", BigInteger), column("code", String), column("kind", String),
                  column("settings", JSONType))
