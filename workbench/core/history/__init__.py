"""What was sent (the final request as it went on the wire, secrets masked by value) and the
request history (SQLite in the data dir, capped, redacted before it is written)."""
