"""Routes of traffic violations: the code table, violations recorded, handled and looked up by
plate."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api/traffic", tags=["traffic"])
