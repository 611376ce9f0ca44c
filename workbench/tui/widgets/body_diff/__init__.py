"""The diff viewer widget of two bodies (line API over a BodyDiff) and its pure helpers."""
