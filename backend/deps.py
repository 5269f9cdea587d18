"""FastAPI dependencies shared by every router: the caller's identity and the app's services."""

from __future__ import annotations

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

# auto_error=False: a missing bearer is our 401 in the HQ shape, not FastAPI's 403.
_bearer = HTTPBearer(auto_error=False, description="An admin, service-account or session token.")


def require_principal(request: Request, _: HTTPAuthorizationCredentials | None = Depends(_bearer)) -> str:
    return request.app.state.authenticator(request)
