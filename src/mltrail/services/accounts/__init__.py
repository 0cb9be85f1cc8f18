"""Accounts: users, API keys, project roles and the audit log."""
