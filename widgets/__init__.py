"""Textual widgets of the dashboard, one per module with its CSS beside it."""
