"""Routes of traffic accidents: the eligibility check, the record, its parties, scene steps,
settlement and hand-over."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api/traffic", tags=["traffic"])
