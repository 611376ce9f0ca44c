"""Contract tests: what the client sends and what the emulator answers, checked against the vendors' own specs in ../shared/reference/ (never against the emulator's code)."""
