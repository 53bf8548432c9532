"""Google Merchant Center feeds: the product feed and the local inventory feed of a ``google_merchant`` channel.

One module per concern:

* ``spec``          the attribute names, limits and allowed values, each with the documentation it comes from;
* ``validation``    the rules an item must pass before it is published (pure, no I/O);
* ``queries``       the channel's context and the keyset-paged SQL (one statement per page, no ORM rows);
* ``formats``       incremental RSS 2.0 (``g:`` namespace) and TSV writers, atomic files;
* ``values``        database values → the specification's text forms (prices, dates, URLs);
* ``google_product`` / ``google_local``  database rows → feed items → files;
* ``report``        the per-item error report (bounded in memory);
* ``service``       build a channel's feeds into ``var/feeds/<channel code>/``, tokens, reading the report;
* ``endpoints``     ``/feeds/{code}/…?token=`` (public) and ``/api/v1/channels/{id}/feeds/…``;
* ``tasks``         the hourly rebuild job (``channels.feeds.rebuild``).

Channel settings read here (all optional except ``product_url_template``): ``product_url_template``
(``https://shop.example/p/{product_code}?variant={sku}``; also ``{variant_id}``, ``{product_id}``),
``shop_url``, ``color_options`` / ``size_options`` (option names, default ``["color", "colour"]`` /
``["size"]``), ``pickup_method``, ``pickup_sla``, ``limited_availability_max`` (default 2),
``stores`` (``{"<location code>": {"store_code": …, "pickup_method": …, "pickup_sla": …}}``) and
``feed_url_version`` (bump it to change the feed URLs' token).
"""
