"""Platform adapters: one module per cloud, each turning API responses into DeviceNodes."""
