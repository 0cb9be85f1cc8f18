"""The ``mltrail`` command line (typer + rich); the console script is ``mltrail.cli.main:main``."""
