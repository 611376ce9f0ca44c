"""The lazily loaded device tree widget and its pure helpers (listings, labels)."""
