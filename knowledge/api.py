"""HTTP document upload: `POST /v1/knowledge/documents`, the raw file as the body.

    POST /v1/knowledge/documents?scope=account|agent|team|user&agent=SLUG&team=SLUG&user=USER_ID&title=NAME
    Authorization: Bearer thk_…      Content-Type: text/plain | text/markdown | application/pdf

`scope=user` (the default when `user` is given) needs `messages:write` and a user of the key's account;
`agent`, `team` (an active team of the account, by slug) and `account` scope need the `admin` scope. 201 with
the document; its chunks are searchable once embedded (in the background). Errors use the JSON envelope; the
body limit is THINKLIO_KNOWLEDGE_MAX_DOCUMENT_BYTES.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from bot.auth import require_scope
from bot.errors import ThinklioError
from knowledge.documents import MEDIA_TYPES, chunks_of
from knowledge.index import Partition

if TYPE_CHECKING:
    from bot.services import Services
    from knowledge.service import Knowledge

READ_CHUNK = 64 * 1024


async def _read_limited(request: web.Request, limit: int) -> bytes:
    """The body, up to `limit` bytes; the app's small JSON body limit does not apply to uploads."""
    if request.content_length is not None and request.content_length > limit:
        raise ThinklioError("bad_request", f"the document is larger than {limit} bytes", status=413)
    parts: list[bytes] = []
    size = 0
    while chunk := await request.content.read(READ_CHUNK):
        size += len(chunk)
        if size > limit:
            raise ThinklioError("bad_request", f"the document is larger than {limit} bytes", status=413)
        parts.append(chunk)
    return b"".join(parts)


def upload_route(services: Services, knowledge: Knowledge) -> web.RouteDef:
    async def upload(request: web.Request) -> web.Response:
        caller = await services.api_keys.verify(request.headers.get("Authorization"))
        query = request.query
        user_id = query.get("user")
        scope = query.get("scope") or ("user" if user_id else "account")
        if scope == "user":
            require_scope(caller, "messages:write")
            if not user_id or await services.directory.role(caller.account_id, user_id) is None:
                raise ThinklioError("bad_request", "scope=user needs ?user=USER_ID of a user of this account")
            owner = Partition(caller.account_id, "user", user_id)
        elif scope == "agent":
            require_scope(caller, "admin")
            agent = await services.directory.agent_by_slug(caller.account_id, query.get("agent", ""))
            if agent is None:
                raise ThinklioError("bad_request", "scope=agent needs ?agent=SLUG of an agent of this account")
            owner = Partition(caller.account_id, "agent", agent.id)
        elif scope == "team":
            require_scope(caller, "admin")
            team = await services.directory.team_by_slug(caller.account_id, query.get("team", "").strip().lower())
            if team is None or team.status != "active":
                raise ThinklioError("bad_request", "scope=team needs ?team=SLUG of an active team of this account")
            owner = Partition(caller.account_id, "team", team.id)
        elif scope == "account":
            require_scope(caller, "admin")
            owner = Partition(caller.account_id, "account", caller.account_id)
        else:
            raise ThinklioError("bad_request", "scope must be user, agent, team or account")
        media_type = request.content_type
        kind = MEDIA_TYPES.get(media_type)
        if kind is None:
            raise ThinklioError("bad_request", f"unsupported Content-Type {media_type!r}; send one of "
                                               f"{', '.join(sorted(MEDIA_TYPES))}", status=415)
        data = await _read_limited(request, services.settings.knowledge_max_document_bytes)
        chunks = chunks_of(data, kind, size=services.settings.knowledge_chunk_chars)
        title = (query.get("title") or request.headers.get("X-Filename") or "document").strip()[:300]
        doc, _ = await knowledge.documents.add(owner, title=title, media_type=media_type, data_size=len(data),
                                            chunks=chunks, now=services.clock.now())
        knowledge.kick()
        return web.json_response({"document": {"id": doc.id, "title": doc.title, "media_type": doc.media_type,
                                               "size_bytes": doc.size_bytes, "chunks": doc.chunks,
                                               "scope": doc.scope, "scope_id": doc.scope_id}}, status=201)

    return web.post("/v1/knowledge/documents", upload)
