"""The collections browser widget (saved requests, replay results) and its pure helpers."""
