"""``mltrail users``, ``keys`` and ``audit``."""
