"""The services: plain Python over the store, no HTTP and no SQL; one sub-package per area."""
