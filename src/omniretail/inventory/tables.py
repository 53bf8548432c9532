"""Other packages' tables as far as inventory's queries read them (no import of their models)."""

from sqlalchemy import BigInteger, String, column, table

variant_t = table("variant", column("id", BigInteger), column("sku", String))
location_t = table("location", column("id", BigInteger), column("code", String))
