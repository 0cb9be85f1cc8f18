"""``mltrail monitor …``."""
