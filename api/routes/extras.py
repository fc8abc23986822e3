"""Teams, leaderboards, reward claims and lottery draws."""
from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api/v1/campaigns/{campaign}", tags=["campaigns"])
