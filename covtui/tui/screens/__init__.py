"""The screens opened from the main one: files, a file's gaps, alerts, what to test next, help."""
