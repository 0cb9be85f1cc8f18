"""``mltrail models …``."""
