"""The demo retailer: a Polish sports and outdoor chain with stores, a warehouse and several channels."""

from __future__ import annotations

RETAILER = "Kaszub Outdoor"
DEMO_PASSWORD = "omniretail-demo"

WEEKDAY_HOURS = [["09:00", "21:00"]]
MALL_HOURS = {d: [["10:00", "21:00"]] for d in ("mon", "tue", "wed", "thu", "fri", "sat")} | {"sun": []}

LOCATIONS = [
    {"code": "WH-STRYKOW", "name": "Centrum dystrybucyjne Stryków", "kind": "warehouse",
     "street": "ul. Logistyczna 4", "postal_code": "95-010", "city": "Stryków",
     "latitude": 51.9018, "longitude": 19.6036,
     "opening_hours": {d: [["06:00", "22:00"]] for d in ("mon", "tue", "wed", "thu", "fri", "sat")},
     "capabilities": {"ships_orders": True, "accepts_returns": True}, "daily_capacity": None},
    {"code": "WAW-01", "name": "Warszawa Złote Tarasy", "kind": "store",
     "street": "ul. Złota 59", "postal_code": "00-120", "city": "Warszawa",
     "latitude": 52.2300, "longitude": 21.0025, "opening_hours": MALL_HOURS,
     "capabilities": {"ships_orders": True, "offers_pickup": True, "offers_curbside": False,
                      "accepts_returns": True, "sells_pos": True}, "daily_capacity": 60},
    {"code": "KRK-01", "name": "Kraków Galeria Krakowska", "kind": "store",
     "street": "ul. Pawia 5", "postal_code": "31-154", "city": "Kraków",
     "latitude": 50.0677, "longitude": 19.9455, "opening_hours": MALL_HOURS,
     "capabilities": {"ships_orders": True, "offers_pickup": True, "offers_curbside": True,
                      "accepts_returns": True, "sells_pos": True}, "daily_capacity": 45},
    {"code": "GDN-01", "name": "Gdańsk Forum", "kind": "store",
     "street": "ul. Targ Sienny 7", "postal_code": "80-806", "city": "Gdańsk",
     "latitude": 54.3487, "longitude": 18.6453, "opening_hours": MALL_HOURS,
     "capabilities": {"ships_orders": False, "offers_pickup": True, "offers_curbside": True,
                      "accepts_returns": True, "sells_pos": True}, "daily_capacity": 30},
    {"code": "WRO-01", "name": "Wrocław Pasaż Grunwaldzki", "kind": "store",
     "street": "pl. Grunwaldzki 22", "postal_code": "50-363", "city": "Wrocław",
     "latitude": 51.1125, "longitude": 17.0602, "opening_hours": MALL_HOURS,
     "capabilities": {"ships_orders": True, "offers_pickup": True, "accepts_returns": True,
                      "sells_pos": True}, "daily_capacity": 35},
    {"code": "POZ-PP1", "name": "Punkt odbioru Poznań Dworzec", "kind": "pickup_point",
     "street": "ul. Dworcowa 2", "postal_code": "61-801", "city": "Poznań",
     "latitude": 52.4016, "longitude": 16.9115,
     "opening_hours": {d: [["07:00", "22:00"]] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")},
     "capabilities": {"offers_pickup": True}, "daily_capacity": 80},
]

STORES = ["WAW-01", "KRK-01", "GDN-01", "WRO-01"]

# (code, name, kind, currency, locale, price list, fulfilling locations)
CHANNELS = [
    ("webshop", "Sklep internetowy kaszub.pl", "webshop", "PLN", "pl", "base-pln",
     ["WH-STRYKOW", "WAW-01", "KRK-01", "WRO-01", "GDN-01"]),
    ("app", "Aplikacja mobilna", "mobile_app", "PLN", "pl", "base-pln",
     ["WH-STRYKOW", "WAW-01", "KRK-01", "WRO-01", "GDN-01"]),
    ("phone", "Infolinia (zamówienia telefoniczne)", "phone", "PLN", "pl", "base-pln", ["WH-STRYKOW"]),
    ("allegro", "Allegro – Kaszub Outdoor Official", "marketplace_allegro", "PLN", "pl", "allegro-pln",
     ["WH-STRYKOW"]),
    ("amazon-de", "Amazon.de", "marketplace_amazon", "EUR", "en", "amazon-de-eur", ["WH-STRYKOW"]),
    ("google", "Google Merchant Center", "google_merchant", "PLN", "pl", "base-pln",
     ["WH-STRYKOW", "WAW-01", "KRK-01", "WRO-01", "GDN-01"]),
] + [
    (f"pos-{code.lower()}", f"Kasa – {code}", "pos", "PLN", "pl", "base-pln", [code]) for code in STORES
]

# channel code → settings.vat_by_country: Polish rates (23, 8, 5 %) → the destination's (EU one-stop shop)
VAT_ABROAD = {"amazon-de": {"DE": {"0.23": "0.19", "0.08": "0.07", "0.05": "0.07"},
                            "AT": {"0.23": "0.20", "0.08": "0.10", "0.05": "0.10"}}}

# channel code → settings.shipping_cost_model.zone_costs: the carrier's parcel prices by lane (orders.sourcing),
# in the channel's currency; a lane not listed takes "*"
ZONE_COSTS = {"amazon-de": {"domestic": 4.5, "DE": 7.9, "AT": 9.9, "*": 14.0}}

# marketplaces that send their buyers the order and shipping messages themselves (and do not want sellers to)
MARKETPLACE_TELLS_BUYERS = ("amazon-de",)

PRICE_LISTS = [
    # code, name, currency, markup over the base PLN price, rate (PLN -> currency), channel (None = shared:
    # every channel in that currency without a list of its own — one price in store, webshop and app)
    ("base-pln", "Cennik podstawowy (sklep, aplikacja, kasy)", "PLN", "1.00", "1", None),
    ("allegro-pln", "Cennik Allegro", "PLN", "1.06", "1", "allegro"),
    ("amazon-de-eur", "Amazon.de price list", "EUR", "1.10", "0.23", "amazon-de"),
]

# email local part, role, full name, locations (codes), channels (codes)
USERS = [
    ("owner", "owner", "Anna Kaszubowska", [], []),
    ("admin", "admin", "Piotr Nowak", [], []),
    ("manager", "manager", "Katarzyna Wiśniewska", [], []),
    ("associate.waw", "associate", "Marek Zieliński", ["WAW-01"], []),
    ("associate.krk", "associate", "Ewa Lewandowska", ["KRK-01"], []),
    ("integration.allegro", "integration", "Allegro connector", [], ["allegro"]),
    ("analyst", "analyst", "Tomasz Wójcik", [], []),
]
EMAIL_DOMAIN = "demo.kaszub.example"

# category path -> (type name per locale, variant options, base price in PLN)
CATEGORIES = {
    "Obuwie/Buty trekkingowe": ({"pl": "Buty trekkingowe", "en": "Trekking boots", "tr": "Trekking botu",
                                 "sq": "Këpucë alpinizmi"},
                                [("size", ["39", "40", "41", "42", "43", "44", "45"])], 349),
    "Obuwie/Buty do biegania": ({"pl": "Buty do biegania", "en": "Running shoes", "tr": "Koşu ayakkabısı",
                                 "sq": "Atlete vrapimi"},
                                [("size", ["38", "39", "40", "41", "42", "43", "44"])], 399),
    "Odzież/Kurtki": ({"pl": "Kurtka", "en": "Jacket", "tr": "Mont", "sq": "Xhaketë"},
                      [("colour", ["czarny", "granatowy", "czerwony"]), ("size", ["S", "M", "L", "XL"])], 499),
    "Odzież/Polary": ({"pl": "Polar", "en": "Fleece", "tr": "Polar", "sq": "Polar"},
                      [("colour", ["szary", "zielony"]), ("size", ["S", "M", "L", "XL"])], 219),
    "Odzież/Koszulki": ({"pl": "Koszulka techniczna", "en": "Technical T-shirt", "tr": "Teknik tişört",
                         "sq": "Bluzë teknike"},
                        [("colour", ["biały", "czarny", "niebieski"]), ("size", ["S", "M", "L"])], 89),
    "Sprzęt/Plecaki": ({"pl": "Plecak", "en": "Backpack", "tr": "Sırt çantası", "sq": "Çantë shpine"},
                       [("colour", ["czarny", "oliwkowy"])], 289),
    "Sprzęt/Namioty": ({"pl": "Namiot", "en": "Tent", "tr": "Çadır", "sq": "Tendë"},
                       [("capacity", ["2-os.", "3-os."])], 899),
    "Sprzęt/Śpiwory": ({"pl": "Śpiwór", "en": "Sleeping bag", "tr": "Uyku tulumu", "sq": "Thes gjumi"},
                       [("size", ["regular", "long"])], 459),
    "Sprzęt/Kijki": ({"pl": "Kijki trekkingowe", "en": "Trekking poles", "tr": "Trekking batonu",
                      "sq": "Shkopinj alpinizmi"}, [], 179),
    "Akcesoria/Czołówki": ({"pl": "Latarka czołowa", "en": "Headlamp", "tr": "Kafa lambası",
                            "sq": "Llambë koke"}, [], 129),
    "Akcesoria/Bidony": ({"pl": "Bidon", "en": "Water bottle", "tr": "Matara", "sq": "Shishe uji"},
                         [("capacity", ["0,5 l", "0,75 l", "1 l"])], 49),
    "Akcesoria/Skarpety": ({"pl": "Skarpety trekkingowe", "en": "Hiking socks", "tr": "Trekking çorabı",
                            "sq": "Çorape alpinizmi"}, [("size", ["35-38", "39-42", "43-46"])], 39),
}

DESCRIPTIONS = {
    "pl": "{type} {brand} {model}. Materiał: {material}. Sprawdzi się na szlaku i w mieście.",
    "en": "{type} {brand} {model}. Material: {material}. Made for the trail and the city.",
    "tr": "{type} {brand} {model}. Malzeme: {material}. Patikada ve şehirde kullanım için.",
    "sq": "{type} {brand} {model}. Materiali: {material}. Për shtegun dhe qytetin.",
}

BRANDS = ["Kaszub", "Tatra Line", "Bałtyk Gear", "Bieszczady", "NordPeak", "Karkonosze Pro", "Mazury Trail"]
MODEL_NAMES = ["Rysy", "Giewont", "Śnieżka", "Babia", "Hel", "Łeba", "Turbacz", "Tarnica", "Kasprowy",
               "Pilsko", "Radziejowa", "Ślęża", "Wetlina", "Solina", "Narew", "Biebrza", "Wigry", "Mamry"]
MATERIALS = ["poliester z recyklingu", "wełna merino", "nylon ripstop", "skóra nubukowa", "softshell",
             "Gore-Tex", "bawełna organiczna", "aluminium 7075"]
