"""Emulated EmbedThis Ioto: routes, API controllers, paging and its seeded world."""
