"""The API's account routes: who am I, users, keys, the audit log."""
