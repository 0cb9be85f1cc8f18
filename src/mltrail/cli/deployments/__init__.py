"""``mltrail deploy``: deployment specs for the gateway (``deploy.py``), shown by ``views.py``."""
