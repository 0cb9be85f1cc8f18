"""Deployment specs from the SDK and the CLI: ``mltrail.deployments`` (``api.py``) over a
``DeploymentsClient`` (``client.py``), embedded (``embedded.py``) or over HTTP (``http.py``)."""
