"""HTTP plumbing shared by the platform API and the HTTP channel: the error envelope, body limits, JSON in."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import structlog
from aiohttp import web
from pydantic import BaseModel, ValidationError

from bot.errors import ThinklioError
from bot.metrics import Metrics

log = structlog.get_logger("thinklio.http")
Model = TypeVar("Model", bound=BaseModel)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

_HTTP_CODES = {400: "bad_request", 401: "unauthenticated", 403: "forbidden", 404: "not_found",
               405: "bad_request", 409: "conflict", 413: "bad_request", 429: "rate_limited"}


def error_response(error: ThinklioError) -> web.Response:
    return web.json_response(error.envelope(), status=error.status, headers=error.headers)


def error_middleware(metrics: Metrics) -> Callable[[web.Request, Handler], Awaitable[web.StreamResponse]]:
    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            return await handler(request)
        except ThinklioError as error:
            metrics.http_errors.labels(error.code).inc()
            return error_response(error)
        except web.HTTPException as exc:
            if exc.status < 400:
                raise
            code = _HTTP_CODES.get(exc.status, "internal_error" if exc.status >= 500 else "bad_request")
            message = exc.reason if exc.status != 404 else f"no route for {request.method} {request.path}"
            if exc.status == 413:
                message = "the request body is too large"
            metrics.http_errors.labels(code).inc()
            return error_response(ThinklioError(code, message, status=exc.status))
        except Exception:
            log.exception("http_handler_failed", path=request.path)
            metrics.http_errors.labels("internal_error").inc()
            return error_response(ThinklioError("internal_error", "unexpected server error"))

    return middleware


async def read_model(request: web.Request, model: type[Model], *, limit: int) -> Model:
    """Parse the JSON body into `model`; every way it can be wrong becomes a clear `bad_request`."""
    if request.content_length is not None and request.content_length > limit:
        raise ThinklioError("bad_request", f"the request body is larger than {limit} bytes", status=413)
    body = await request.read()  # aiohttp enforces client_max_size while reading
    if len(body) > limit:
        raise ThinklioError("bad_request", f"the request body is larger than {limit} bytes", status=413)
    try:
        data: Any = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ThinklioError("bad_request", f"the body is not valid JSON: {exc}") from None
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'body'}: {err['msg']}" for err in exc.errors()
        )
        raise ThinklioError("bad_request", f"invalid request: {problems}") from None
