"""The model registry: versions, stages and aliases, approvals, downloads, webhooks."""
