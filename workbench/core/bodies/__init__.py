"""Response bodies made ready for display: kind detection, pretty JSON, line preparation (in process or in a child)."""
