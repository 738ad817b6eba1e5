"""``jiaoxun history``: the operation's past, for statistics to compare with — records imported
from another center's CAD. Thin, like cli: each command parses, calls a service in one
transaction (`command_session`) and shapes the reply."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from jiaoxun.analytics.importer import RowError, import_history
from jiaoxun.analytics.mapping import mapping_named
from jiaoxun.cli_common import command_session, out, progress_bar
from jiaoxun.cli_history_simulate import simulate_command
from jiaoxun.incidents.reference import seed_reference

history_app = typer.Typer(help="Past records: CAD history imported from CSV, for statistics.")
history_app.command("simulate")(simulate_command)

#: exit code of an import that rejected rows (a mapping or file error exits 2)
REJECTED_EXIT = 1


@history_app.command("import")
def import_command(
    file: Annotated[
        Path, typer.Argument(exists=True, dir_okay=False, help="CSV export of past CAD calls")
    ],
    mapping: Annotated[
        str, typer.Option(help="a shipped mapping's name (seattle_spd) or a mapping .toml file")
    ],
    strict: Annotated[
        bool, typer.Option(help="import nothing when any row is bad (default: the good rows)")
    ] = False,
    max_errors: Annotated[int, typer.Option(min=1, help="bad rows' errors shown at most")] = 100,
) -> None:
    """Import past CAD calls as closed incidents (origin "imported"); importing a file again
    adds nothing. Bad rows are listed with their row (the header is row 1), field, rule and
    value, and make the command exit 1."""
    with command_session() as (_settings, session):
        chosen = mapping_named(mapping)
        seed_reference(session)  # the categories a record names
        with progress_bar() as progress:
            task = progress.add_task(f"importing {file.name}", total=_data_lines(file))
            result = import_history(
                session,
                file,
                chosen,
                strict=strict,
                max_errors=max_errors,
                advance=lambda n: progress.advance(task, n),
            )
    if result.errors:
        out.print(_errors_table(result.errors))
    if result.rows_left_off:
        out.print(f"… and {result.rows_left_off:,} more rejected rows (--max-errors)")
    kept = f"{result.imported:,} imported, {result.already_there:,} already there"
    if strict and result.rejected:
        kept = "nothing imported (--strict)"
    out.print(
        f"{escape(result.batch)}: {result.read:,} rows read, {kept}, {result.rejected:,} rejected"
    )
    if result.rejected:
        raise typer.Exit(REJECTED_EXIT)


def _data_lines(file: Path) -> int:
    """Lines after the header: the rows, for the progress bar (a quoted field may hold a line
    break, so it may count a few too many)."""
    with file.open("rb") as stream:
        return max(0, sum(1 for _ in stream) - 1)


def _errors_table(errors: tuple[RowError, ...]) -> Table:
    table = Table(title="rejected rows (row 1 is the header)")
    table.add_column("row", justify="right", no_wrap=True)
    table.add_column("field", no_wrap=True)
    for name in ("column", "rule", "value"):
        table.add_column(name, overflow="fold")  # never cut: the user looks for it in the file
    for e in errors:
        table.add_row(str(e.row), e.field, escape(e.column), escape(e.rule), escape(repr(e.value)))
    return table
