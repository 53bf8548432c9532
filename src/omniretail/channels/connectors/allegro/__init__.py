"""Allegro (REST): batch commands for stock, prices and publication; orders from the event journal."""

from .connector import AllegroConnector

__all__ = ["AllegroConnector"]
