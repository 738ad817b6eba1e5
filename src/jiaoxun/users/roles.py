"""Roles and what each may do. Police data is sensitive: every action names a permission."""

from __future__ import annotations

import enum


class Role(enum.StrEnum):
    DISPATCHER = "dispatcher"  # 指挥中心调度员
    OFFICER = "officer"  # 交巡警
    KIOSK_CLERK = "kiosk_clerk"  # 警务室窗口
    COMMANDER = "commander"  # 指挥长
    ADMIN = "admin"


class Permission(enum.StrEnum):
    READ_OPERATIONS = "read_operations"  # incidents, orders, units
    TAKE_CALLS = "take_calls"  # create incidents, dispatch, close
    ACT_ON_ORDERS = "act_on_orders"  # move dispatch orders through their states
    MANAGE_UNITS = "manage_units"  # unit status and positions
    READ_AUDIT = "read_audit"
    READ_STATISTICS = "read_statistics"  # the statistics page and its exports
    SERVE_CITIZENS = "serve_citizens"  # a kiosk's counter: bookings, queue, services done
    HANDLE_TRAFFIC = "handle_traffic"  # record accidents and violations on the street
    ASSIGN_CREWS = "assign_crews"  # swap officers between cars during a shift
    MANAGE_DUTY = "manage_duty"  # officers, shift patterns, cover demands, leave, rosters
    CONFIGURE = "configure"  # categories, response plans, 1-3-5 tiers
    READ_USERS = "read_users"  # the accounts, their roles and locks
    MANAGE_USERS = "manage_users"  # create, disable, reset passwords, revoke tokens


_ALL = frozenset(Permission)
GRANTS: dict[Role, frozenset[Permission]] = {
    Role.DISPATCHER: frozenset(
        {
            Permission.READ_OPERATIONS,
            Permission.TAKE_CALLS,
            Permission.ACT_ON_ORDERS,
            Permission.MANAGE_UNITS,
            Permission.READ_STATISTICS,
            Permission.ASSIGN_CREWS,
        }
    ),
    Role.OFFICER: frozenset(
        {
            Permission.READ_OPERATIONS,
            Permission.ACT_ON_ORDERS,
            Permission.MANAGE_UNITS,
            Permission.HANDLE_TRAFFIC,
        }
    ),
    Role.KIOSK_CLERK: frozenset({Permission.SERVE_CITIZENS}),
    Role.COMMANDER: _ALL - {Permission.MANAGE_USERS},
    Role.ADMIN: _ALL,
}


def may(role: Role, permission: Permission) -> bool:
    return permission in GRANTS[role]
