"""ASGI entry point for servers: ``omniretail.api.asgi:app``."""

from omniretail.api.app import create_app

app = create_app(server=True)
