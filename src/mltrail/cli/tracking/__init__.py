"""``mltrail projects``, ``runs`` and ``sync``."""
