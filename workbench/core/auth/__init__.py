"""Auth flows: one module per flow."""
