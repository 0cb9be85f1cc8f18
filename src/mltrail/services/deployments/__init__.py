"""Deployment specs: validated, resolved through the registry, versioned and audited (``service.py``)."""
