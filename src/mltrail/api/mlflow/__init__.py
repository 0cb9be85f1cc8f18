"""MLflow's REST API on ``mltrail server``: ``/api/2.0/mlflow/…`` (and the web UI's
``/ajax-api/2.0/mlflow/…``) and the artifact proxy ``/api/2.0/mlflow-artifacts/…``, so an unmodified
MLflow client logs to mltrail.

What is covered is listed in docs/MLFLOW.md; any other MLflow endpoint answers MLflow's
``ENDPOINT_NOT_FOUND`` naming it, never a 404 page or a 500. The
routers are assembled in ``routes.py``.
"""
