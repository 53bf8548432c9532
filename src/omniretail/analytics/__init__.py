"""Figures for the back office dashboard: SQL aggregates over orders, stock and channel sync (read-only)."""
