"""What every ``jiaoxun`` command shares: the consoles, one transaction per command, errors
as one message and a non-zero exit, progress displays."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from sqlalchemy.orm import Session

from jiaoxun.db import make_engine, migrate, transaction
from jiaoxun.errors import InvalidInput, JiaoxunError
from jiaoxun.settings import Settings

out = Console()
err = Console(stderr=True)


@contextmanager
def command_session() -> Iterator[tuple[Settings, Session]]:
    """Settings and one transaction for the whole command; errors become a message and exit."""
    with command_errors():
        settings = Settings()
        engine = make_engine(settings.database)
        try:
            migrate(engine)
            with transaction(engine) as session:
                yield settings, session
        finally:
            engine.dispose()


@contextmanager
def spinner() -> Iterator[tuple[Progress, TaskID]]:
    columns = (SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn())
    with Progress(*columns, console=err, transient=True) as progress:
        yield progress, progress.add_task("starting", total=None)


@contextmanager
def command_errors() -> Iterator[None]:
    """Errors of jiaoxun and of the settings become one message and a non-zero exit."""
    try:
        yield
    except ValidationError as exc:
        err.print(f"[bold red]error:[/] settings: {escape(str(exc))}")
        raise typer.Exit(2) from exc
    except JiaoxunError as exc:
        err.print(f"[bold red]error:[/] {escape(str(exc))}")
        raise typer.Exit(2 if isinstance(exc, InvalidInput) else 1) from exc


def progress_bar() -> Progress:
    """A progress bar with a count, for long work in steps."""
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    return Progress(*columns, console=err, transient=True)
