"""Team insights through the one client seam: ``mltrail.connect().insights()`` (embedded or a server)."""
