"""Emulated Avnet IoTConnect: routes, HTTP conventions and its seeded world."""
