"""Jump mode: a one-character label on every visible control; pressing it focuses that control."""
