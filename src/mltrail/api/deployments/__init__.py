"""``/api/v1/deployments``: the deployment gateway's specs, versioned and audited."""
