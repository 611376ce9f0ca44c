"""The history list: entries newest first (method, URL, status, size, time), two can be marked."""
