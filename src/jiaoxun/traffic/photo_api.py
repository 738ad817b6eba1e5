"""Routes of photos of accidents and violations, and of the road stretches with the most
accidents."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api/traffic", tags=["traffic"])
