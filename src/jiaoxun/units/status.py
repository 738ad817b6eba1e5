"""What a unit is doing: the statuses of a police car, and which of them can take an order."""

from __future__ import annotations

import enum


class UnitStatus(enum.StrEnum):
    AVAILABLE = "available"  # on patrol, free for orders
    AT_KIOSK = "at_kiosk"  # standing by at its kiosk, free for orders
    DISPATCHED = "dispatched"  # given an order, not yet moving
    EN_ROUTE = "en_route"
    ON_SCENE = "on_scene"
    OFF_DUTY = "off_duty"


#: statuses in which a unit may be given a new order
FREE = frozenset({UnitStatus.AVAILABLE, UnitStatus.AT_KIOSK})
