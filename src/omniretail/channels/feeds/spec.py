"""What Google Merchant Center accepts: attribute names, limits and allowed values, with their sources.

Sources (checked 2026-11 against the published pages; ``answer/N`` is https://support.google.com/merchants/answer/N):

* product data specification, answer/7052112 (overview: id max 50 characters, required attributes);
* title answer/6324415 (1–150 characters), description (1–5,000 characters, listed in answer/7052112);
* additional image link answer/6324370 (URL with http or https, ≤ 2,000 characters, up to 10 images; in text
  feeds separated by commas, commas inside a URL encoded as ``%2C``);
* availability date answer/6324470 (required for ``preorder`` and ``backorder``, up to 1 year ahead, ISO 8601
  ``YYYY-MM-DDThh:mm[±hhmm]`` or ``…Z``, 1–25 characters);
* sale price answer/6324471 (number plus ISO 4217 currency, lower than the price);
  sale price effective date answer/6324460 (two ISO 8601 date-times separated by ``/``, ≤ 51 characters);
* GTIN answer/6324461 (8, 12, 13 or 14 digits with a valid GS1 check digit); MPN answer/6324482 (1–70);
  identifier exists answer/6324478 (``no`` for new products without GTIN and without brand + MPN);
* brand 1–70, item_group_id 1–50, product_type ≤ 750, color/size ≤ 100 characters, condition
  ``new | refurbished | used``, shipping_weight ``<number> <lb|oz|g|kg>`` (the attribute pages listed in
  answer/7052112);
* local product inventory data specification, answer/3061342, and the Merchant API definition
  ``google/shopping/merchant/inventories/v1/inventories_common.proto`` (googleapis/googleapis):
  availability ``in_stock | limited_availability | on_display_to_order | out_of_stock``; quantity ≥ 0;
  ``sale_price`` mandatory when ``sale_price_effective_date`` is set; ``pickup_method`` must come with
  ``pickup_sla`` unless ``not_supported`` (and ``pickup_sla`` with ``pickup_method``);
  ``instore_product_location`` at most 20 bytes; pickup SLA values answer/14154452
  (``same_day``, ``next_day``, ``2-day`` … ``7-day``, ``multi-week``).
* RSS 2.0 with ``xmlns:g="http://base.google.com/ns/1.0"``; a full feed replaces the previous one and items
  expire 30 days after their last refresh (answer/160589, answer/14987622; see reference/channels.md).
"""

from __future__ import annotations

G_NAMESPACE = "http://base.google.com/ns/1.0"

# answer/7052112, answer/6324415, listed limits (characters unless said otherwise)
MAX_ID = 50
MAX_TITLE = 150
MAX_DESCRIPTION = 5000
MAX_URL = 2000
MAX_ADDITIONAL_IMAGES = 10  # answer/6324370
MAX_BRAND = 70
MAX_MPN = 70  # answer/6324482
MAX_ITEM_GROUP_ID = 50
MAX_PRODUCT_TYPE = 750
MAX_COLOR = 100
MAX_SIZE = 100
MAX_AVAILABILITY_DATE = 25  # answer/6324470
MAX_SALE_PRICE_EFFECTIVE_DATE = 51  # answer/6324460
MAX_INSTORE_PRODUCT_LOCATION_BYTES = 20  # inventories_common.proto, field 8
GTIN_LENGTHS = (8, 12, 13, 14)  # answer/6324461

AVAILABILITY = ("in_stock", "out_of_stock", "preorder", "backorder")  # product data specification
NEEDS_AVAILABILITY_DATE = ("preorder", "backorder")  # answer/6324470
CONDITIONS = ("new", "refurbished", "used")
IDENTIFIER_EXISTS = ("yes", "no", "true", "false")  # answer/6324478
WEIGHT_UNITS = ("lb", "oz", "g", "kg")

# answer/3061342 and inventories_common.proto (enum Availability, PickupMethod, PickupSla)
LOCAL_AVAILABILITY = ("in_stock", "limited_availability", "on_display_to_order", "out_of_stock")
PICKUP_METHODS = ("buy", "reserve", "ship_to_store", "not_supported")
PICKUP_SLAS = ("same_day", "next_day", "2-day", "3-day", "4-day", "5-day", "6-day", "7-day", "multi-week")
# The Merchant API's enum names, accepted in channel settings and written in the feed spelling.
PICKUP_SLA_ALIASES = {
    "same day": "same_day", "next day": "next_day", "two_day": "2-day", "three_day": "3-day",
    "four_day": "4-day", "five_day": "5-day", "six_day": "6-day", "seven_day": "7-day",
    "multi_week": "multi-week",
}

# Column order of the text feeds (the header row); XML writes the same attributes as g:<name>.
PRODUCT_ATTRIBUTES = (
    "id", "item_group_id", "title", "description", "link", "image_link", "additional_image_link",
    "availability", "availability_date", "price", "sale_price", "sale_price_effective_date", "condition",
    "brand", "gtin", "mpn", "identifier_exists", "product_type", "google_product_category", "shipping_weight",
    "color", "size",
)
LOCAL_ATTRIBUTES = (
    "store_code", "id", "availability", "quantity", "price", "sale_price", "sale_price_effective_date",
    "pickup_method", "pickup_sla", "instore_product_location",
)
REPEATED = frozenset({"additional_image_link"})
