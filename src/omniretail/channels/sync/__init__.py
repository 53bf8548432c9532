"""Channel sync: desired vs acknowledged state per (channel, listing), pushed by the engine, reconciled.

``models`` (tables), ``desired`` (recompute, set-based), ``claims`` (lease claims and acknowledgements),
``engine`` (the loop), ``ratelimit`` (token buckets), ``connections`` (connectors per channel), ``orders_in``
(order import with cursors), ``deliveries`` (webhooks, fulfilment and tracking out), ``reconcile`` (read back,
repair drift), ``metrics`` (Prometheus), ``tasks`` (worker consumers and jobs), ``service``/``endpoints`` (API).
"""
