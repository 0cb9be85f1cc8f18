"""``mltrail db``: apply schema migrations to a database and show its revision."""

from __future__ import annotations

from typing import Annotated

import typer

from mltrail.cli.context import services
from mltrail.store.factory import current_revision, upgrade

__all__ = ["app"]

app = typer.Typer(help="The database: migrations.", no_args_is_help=True)

DbOpt = Annotated[
    str | None, typer.Option("--db", help="Database URL; overrides the global --db, MLTRAIL_DB and --dir.")
]


def _url(ctx: typer.Context, db: str | None) -> str:
    return db or services(ctx).settings.db_url


@app.command("upgrade")
def upgrade_db(ctx: typer.Context, db: DbOpt = None) -> None:
    """Create the schema or migrate it to the newest revision."""
    typer.echo(f"Database at revision {upgrade(_url(ctx, db))}.")


@app.command("current")
def current_db(ctx: typer.Context, db: DbOpt = None) -> None:
    """Print the database's schema revision."""
    typer.echo(current_revision(_url(ctx, db)) or "(empty: run `mltrail db upgrade`)")
