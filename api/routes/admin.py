"""Admin endpoints, behind `Authorization: Bearer <admin token>` (`--admin-token`)."""
from __future__ import annotations

import hashlib
import hmac
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Header
from fastapi.responses import StreamingResponse

from ..errors import ApiError, unauthorized
from ..export import export_csv
from ..schemas import errors
from ..state import Campaign, State, bearer_token


def admin(state: State, authorization: Annotated[str | None, Header()] = None) -> None:
    """404 when no admin token is configured, 401 without a token, 403 for a wrong one (compared in constant time)."""
    if state.admin_digest is None:
        raise ApiError(404, "admin_disabled", "admin endpoints are off: start the server with --admin-token")
    token = bearer_token(authorization)
    if token is None:
        raise unauthorized("send `Authorization: Bearer <admin token>`")
    if not hmac.compare_digest(hashlib.sha256(token.strip().encode("utf-8")).digest(), state.admin_digest):
        raise ApiError(403, "forbidden", "this is not the admin token")


router = APIRouter(prefix="/api/v1/campaigns/{campaign}/admin", tags=["admin"], dependencies=[Depends(admin)])


@router.get("/export.csv", response_class=StreamingResponse, summary="Reward claims or lottery draws as CSV",
            responses={200: {"content": {"text/csv": {}}, "description": "UTF-8 with BOM; oldest first"}, **errors(403)})
def export(rules: Campaign, state: State, what: Literal["claims", "draws"]) -> StreamingResponse:
    """Columns: `time` (campaign timezone, ISO 8601), `identity`, `who`, `nickname`, `team`, then `reward_id`, `reward`
    (claims) or `lottery_id`, `prize` (empty: no prize), `cost` (draws). Text that could start a spreadsheet formula
    gets a leading `'`."""
    filename = f"{rules.name}-{what}.csv"
    return StreamingResponse(export_csv(state.engine, rules, what), media_type="text/csv; charset=utf-8",
                             headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"})
