"""Emulated iotspot: routes (Cognito-style M2M sign-in, the API model) and its seeded world."""
