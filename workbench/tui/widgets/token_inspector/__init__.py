"""The token inspector widget (claims, expiry bar, refresh/verify) and its pure helpers."""
