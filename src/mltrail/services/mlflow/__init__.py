"""MLflow compatibility: its search syntax, its ids and shapes mapped onto mltrail's services, and the importer."""
