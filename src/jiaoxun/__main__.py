"""``python -m jiaoxun`` runs the ``jiaoxun`` command."""

from jiaoxun.cli import app

app()
