"""Tracking from the training process: init, Run, the writer, transports (embedded, HTTP, journal)."""
