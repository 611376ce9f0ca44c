"""The response-body viewer widget (line API over prepared lines) and its pure helpers."""
