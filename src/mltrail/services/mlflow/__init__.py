"""MLflow compatibility: its search syntax, its ids mapped onto mltrail's services, and the importer."""
