"""Inventory: the movement ledger, stock levels, reservations and available-to-promise per channel."""
