"""API keys (`thk_…`, stored as SHA-256, shown once, scoped, revocable) and roles."""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select

from bot.clock import Clock
from bot.errors import ThinklioError
from bot.ids import new_id
from bot.platform import PlatformState
from bot.store import tables as t
from bot.store.batch import Insert, Update
from bot.store.database import Database

KEY_PREFIX = "thk_"
SCOPES = {
    "messages:write": "send messages to the account's channels",
    "messages:read": "read interactions and conversations",
    "callbacks:write": "resolve asynchronous tool calls",
    "admin": "everything, including platform administration",
}
DEFAULT_SCOPES = ("messages:write", "messages:read")
ROLES = ("owner", "admin", "member", "readonly")
ADMIN_ROLES = frozenset({"owner", "admin"})


@dataclass(frozen=True, slots=True)
class ApiKeyRecord:
    id: str
    account_id: str
    name: str
    prefix: str
    scopes: tuple[str, ...]
    created_at: datetime
    revoked_at: datetime | None

    def allows(self, scope: str) -> bool:
        return scope in self.scopes or "admin" in self.scopes


@dataclass(frozen=True, slots=True)
class Caller:
    """Who is calling the HTTP API: the key they presented, its account and scopes."""

    key_id: str
    account_id: str
    scopes: tuple[str, ...]

    def allows(self, scope: str) -> bool:
        return scope in self.scopes or "admin" in self.scopes


_VERIFY_SQL = "SELECT id, account_id, scopes, revoked_at FROM api_key WHERE key_hash = :key_hash"


def hash_key(plaintext: str) -> str:
    return hashlib.sha256(plaintext.encode()).hexdigest()


class ApiKeys:
    def __init__(self, db: Database, clock: Clock, platform: PlatformState) -> None:
        self._db = db
        self._clock = clock
        self._platform = platform

    async def create(self, account_id: str, name: str, scopes: tuple[str, ...] = DEFAULT_SCOPES,
                     *, actor: str) -> tuple[ApiKeyRecord, str]:
        """Returns the record and the plaintext key, which is never stored and cannot be shown again."""
        unknown = sorted(set(scopes) - set(SCOPES))
        if unknown:
            raise ThinklioError("bad_request", f"unknown scope(s): {', '.join(unknown)}; known: {', '.join(SCOPES)}")
        if not name.strip():
            raise ThinklioError("bad_request", "an API key needs a name")
        plaintext = KEY_PREFIX + secrets.token_urlsafe(32)
        key = ApiKeyRecord(
            id=new_id("key"), account_id=account_id, name=name.strip(), prefix=plaintext[:12],
            scopes=tuple(dict.fromkeys(scopes)), created_at=self._clock.now(), revoked_at=None,
        )
        row = {
            "id": key.id, "account_id": account_id, "name": key.name, "prefix": key.prefix,
            "key_hash": hash_key(plaintext), "scopes": list(key.scopes), "created_at": key.created_at,
        }
        await self._platform.change([Insert(t.api_key, row)], actor=actor, action="api_key.create",
                                    target_type="api_key", target_id=key.id, account_id=account_id)
        return key, plaintext

    async def list(self, account_id: str | None = None) -> list[ApiKeyRecord]:
        query = select(t.api_key).order_by(t.api_key.c.created_at)
        if account_id is not None:
            query = query.where(t.api_key.c.account_id == account_id)
        return [_record(row) for row in await self._db.all(query)]

    async def revoke(self, id_or_prefix: str, *, actor: str) -> ApiKeyRecord:
        rows = await self._db.all(
            select(t.api_key).where(or_(t.api_key.c.id == id_or_prefix, t.api_key.c.prefix == id_or_prefix))
        )
        if len(rows) != 1:
            raise ThinklioError("not_found" if not rows else "conflict",
                                f"no single API key matches {id_or_prefix!r}")
        key = _record(rows[0])
        if key.revoked_at is None:
            now = self._clock.now()
            await self._platform.change([Update(t.api_key, key.id, {"revoked_at": now})], actor=actor,
                                        action="api_key.revoke", target_type="api_key", target_id=key.id,
                                        account_id=key.account_id)
            key = ApiKeyRecord(**{**_fields(key), "revoked_at": now})
        return key

    async def verify(self, authorization: str | None) -> Caller:
        """The key named by an `Authorization: Bearer thk_…` header, read from the store on every call so a
        revocation (from any process) applies to the very next request."""
        if not authorization:
            raise ThinklioError("unauthenticated", "missing Authorization header (Bearer thk_…)")
        scheme, _, token = authorization.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token.startswith(KEY_PREFIX):
            raise ThinklioError("unauthenticated", "Authorization must be 'Bearer thk_…'")
        row = await self._db.fetch_row(_VERIFY_SQL, {"key_hash": hash_key(token)})
        if row is None or row[3] is not None:
            raise ThinklioError("unauthenticated", "unknown or revoked API key")
        key_id, account_id, scopes, _ = row
        return Caller(key_id, account_id, tuple(json.loads(scopes) if isinstance(scopes, str) else scopes))


def require_scope(key: Caller, scope: str) -> None:
    if not key.allows(scope):
        raise ThinklioError("forbidden", f"this API key lacks the {scope!r} scope")


def _record(row: object) -> ApiKeyRecord:
    m = row._mapping  # type: ignore[attr-defined]
    return ApiKeyRecord(id=m["id"], account_id=m["account_id"], name=m["name"], prefix=m["prefix"],
                        scopes=tuple(m["scopes"]), created_at=m["created_at"], revoked_at=m["revoked_at"])


def _fields(key: ApiKeyRecord) -> dict[str, object]:
    return {name: getattr(key, name) for name in ApiKeyRecord.__dataclass_fields__}
