"""Every table of jiaoxun in one metadata, for migrations and tests."""

from jiaoxun.city.models import City, Kiosk, PatrolLine, PatrolPoint, Zone
from jiaoxun.db import Base
from jiaoxun.units.models import Unit

metadata = Base.metadata

__all__ = ["City", "Kiosk", "PatrolLine", "PatrolPoint", "Unit", "Zone", "metadata"]
