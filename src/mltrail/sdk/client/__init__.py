"""The client seam: ``connect()`` chooses the embedded store or a team server once (``connection.py``)."""
