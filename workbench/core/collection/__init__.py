"""Collections: saved requests as TOML files, loading, saving, credentials, captures and expectations, the runner and curl conversion."""
