"""The one query layer: every answer the dashboard, status, report and CLI show, computed once."""
