"""Local channel servers (Allegro, Shopify, a webhook receiver) for the sync tests and the ``sync`` benchmark."""
