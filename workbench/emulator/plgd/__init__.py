"""Emulated plgd hub: routes (gateway, C2C), OAuth authority, JSON payloads and its seeded world."""
