"""Emulated Thinger.io: routes (REST API) and its seeded world."""
