"""The composer's Variables tab: what ``{{name}}`` can use, where each comes from, which wins."""
