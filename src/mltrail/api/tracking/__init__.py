"""The API's tracking routes: projects, runs, metrics, artifacts, datasets."""
