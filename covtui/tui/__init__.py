"""The dashboard: the Textual App, the poller that feeds it, and its screens."""
