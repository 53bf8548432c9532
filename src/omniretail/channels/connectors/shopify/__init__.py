"""Shopify (Admin GraphQL): stock with compare-and-set and idempotency keys, prices, orders, fulfilments."""

from .connector import ShopifyConnector

__all__ = ["ShopifyConnector"]
