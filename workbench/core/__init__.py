"""The pure-Python core of IoT Workbench. Never imports Textual (a test checks it)."""
