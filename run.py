"""Thinklio command line: serve, chat, triage, migrate, and admin helpers (account, apikey, platform)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
from collections.abc import Awaitable, Callable

from config.settings import Settings


def _settings() -> Settings:
    from server.settings import load_settings

    try:
        return load_settings()
    except Exception as exc:  # pydantic's message names the variable and the problem
        raise SystemExit(f"configuration error: {exc}") from None


def _run(main: Awaitable[int]) -> int:
    try:
        import uvloop

        return uvloop.run(main)  # type: ignore[arg-type]
    except ImportError:
        return asyncio.run(main)  # type: ignore[arg-type]


async def _serve(settings: Settings) -> int:
    from aiohttp import web

    from server.app import App
    from server.settings import CHANNELS

    app = App(settings, channels=CHANNELS.builder(CHANNELS.enabled(settings)))
    runner = web.AppRunner(app.web, access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, settings.host, settings.port, backlog=1024)
    await site.start()
    print(f"Thinklio serving on http://{settings.host}:{settings.port} (data in {settings.data_dir})",
          file=sys.stderr, flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await runner.cleanup()
    return 0


async def _chat(settings: Settings) -> int:
    from server.app import App
    from server.settings import CHANNELS

    app = App(settings, channels=CHANNELS.builder(["console"]))
    await app.start()
    try:
        console = next(a for a in app.services.channels if a.type == "console")
        await console.run()  # type: ignore[attr-defined]
    finally:
        await app.stop()
    return 0


async def _with_store(settings: Settings, work: Callable[..., Awaitable[int]]) -> int:
    from server.app import App

    app = App(settings)
    await app.open_store()
    try:
        return await work(app.services)
    finally:
        await app.close_store()


def _apikey(args: argparse.Namespace, settings: Settings) -> int:
    from bot.auth import DEFAULT_SCOPES
    from bot.errors import ThinklioError

    async def work(services) -> int:  # type: ignore[no-untyped-def]
        try:
            if args.apikey_command == "create":
                account = await services.directory.account_by_slug(args.account)
                if account is None:
                    print(f"no account {args.account!r}", file=sys.stderr)
                    return 2
                scopes = tuple(args.scope) if args.scope else DEFAULT_SCOPES
                key, plaintext = await services.api_keys.create(account.id, args.name, scopes, actor="cli")
                print(f"Created API key {key.id} ({key.prefix}…) for account '{account.slug}', "
                      f"scopes: {' '.join(key.scopes)}.")
                print("Store it now: it is shown only once.")
                print(plaintext)
            elif args.apikey_command == "list":
                for key in await services.api_keys.list():
                    state = f"revoked {key.revoked_at:%Y-%m-%d %H:%M}" if key.revoked_at else "active"
                    print(f"{key.id}  {key.prefix}…  {key.name}  [{' '.join(key.scopes)}]  {state}")
            else:
                key = await services.api_keys.revoke(args.key, actor="cli")
                print(f"Revoked {key.id} ({key.prefix}…).")
        except ThinklioError as error:
            print(f"{error.code}: {error.message}", file=sys.stderr)
            return 2
        return 0

    return _run(_with_store(settings, work))


def _platform(args: argparse.Namespace, settings: Settings) -> int:
    from bot.governance import Actor

    async def work(services) -> int:  # type: ignore[no-untyped-def]
        if args.platform_command != "status":
            status = {"pause": "paused", "resume": "online", "maintenance": "maintenance"}[args.platform_command]
            cli = Actor("cli", "", None, is_platform_admin=True, channel="cli")
            cancelled = await services.governance.controls.set_platform(cli, status)
            if cancelled:
                print(f"{cancelled} pending jobs cancelled")
        print(f"platform: {services.platform.status}")
        return 0

    return _run(_with_store(settings, work))


def _account(args: argparse.Namespace, settings: Settings) -> int:
    from bot.errors import ThinklioError
    from bot.governance import Actor
    from config.catalogue import ASSISTANT, ChannelSeed
    from server.app import App

    async def work() -> int:
        app = App(settings)
        await app.open_store()
        accounts = app.services.governance.accounts
        try:
            if args.account_command == "list":
                for slug, name, status, members, agents in await accounts.listing():
                    print(f"{slug}  {name}  [{status}]  {members} members, {agents} agents")
                return 0
            cli = Actor("cli", "", None, is_platform_admin=True, channel="cli")
            channel = f"api-{args.slug}"
            account_id = await accounts.create(
                cli, args.slug, args.name or args.slug, agents=[ASSISTANT],
                channels=[ChannelSeed(channel, "http", ASSISTANT.slug, account=args.slug)],
                installed_tools=app.kit.assignments)
            print(f"Created account {args.slug} ({account_id}) with agent {ASSISTANT.slug} on HTTP channel {channel}.")
            print(f"Next: run.py apikey create --account {args.slug} --name NAME, then POST to "
                  f"/v1/channels/{channel}/messages with it.")
            return 0
        except ThinklioError as error:
            print(f"{error.code}: {error.message}", file=sys.stderr)
            return 2
        finally:
            await app.close_store()

    return _run(work())


def _knowledge(args: argparse.Namespace, settings: Settings) -> int:
    def bar(done: int, total: int) -> None:
        width = 30
        filled = width * done // total if total else width
        print(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total}", end="", file=sys.stderr, flush=True)

    async def work(services) -> int:  # type: ignore[no-untyped-def]
        from knowledge.service import Knowledge

        knowledge = Knowledge(services.db, services.clock, settings)
        try:
            if args.knowledge_command == "reindex":
                indexed = await knowledge.reindex(progress=bar)
                print(f"\nreindexed {indexed} rows into {settings.chroma_url or settings.data_dir / 'chroma'}",
                      file=sys.stderr)
            else:
                removed = await knowledge.delete_user(args.user_id)
                print(f"deleted {removed} facts and document parts of user {args.user_id}")
        finally:
            await knowledge.stop()
        return 0

    return _run(_with_store(settings, work))


def _user(args: argparse.Namespace, settings: Settings) -> int:
    """`user delete USER [--confirm]`: the GDPR deletion of the chat command, by the shell (a platform admin)."""
    from bot.errors import ThinklioError
    from bot.governance import Actor
    from server.app import App

    async def work() -> int:
        app = App(settings)
        await app.open_store()
        try:
            erasure = app.services.governance.erasure
            cli = Actor("cli", "", None, is_platform_admin=True, channel="cli")
            if not args.confirm:
                preview = await erasure.inspect(cli, args.user)
                print(f"User {args.user} is deleted already." if preview is None else
                      f"{preview.describe()}\nNothing done: add --confirm to delete.")
                return 0 if preview is None else 1
            print((await erasure.confirm(cli, args.user, proposed=False)).describe())
            return 0
        except ThinklioError as error:
            print(f"{error.code}: {error.message}", file=sys.stderr)
            return 2
        finally:
            for step in reversed(app.kit.on_stop):  # the knowledge index the deletion opened
                with contextlib.suppress(Exception):
                    await step()
            await app.close_store()

    return _run(work())


def _migrate(settings: Settings) -> int:
    from bot.store.migrate import upgrade
    from server.settings import migration_folders

    settings.ensure_data_dir()
    upgrade(settings.resolved_database_url, migration_folders())
    print("migrations applied", file=sys.stderr)
    return 0


def _triage(argv: list[str]) -> int:
    import structlog

    from agents.triage import Triage
    from agents.triage.cli import main
    from bot.logs import configure_logging
    from server.extensions import default_extensions

    settings = _settings()
    configure_logging(settings.log_level if settings.log_level != "info" else "warning", settings.log_format)
    log = structlog.get_logger("thinklio.triage")
    # `direct` means what it means in the server: answered without a model by this install's handlers.
    handled = frozenset().union(*(extension.intents for extension in default_extensions()))
    triage = Triage(
        min_strength=settings.triage_min_strength, max_ambiguity=settings.triage_max_ambiguity,
        handled_intents=handled,
        on_parse=lambda r: log.info("triage", intent=r.intent, strength=r.strength, ambiguity=r.ambiguity,
                                    direct=r.direct, source=r.source, confidence=r.model.get("confidence")),
    )
    return main(argv, triage=triage)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="run.py", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)
    sub.add_parser("serve", help="run the server (HTTP API and configured channels)")
    sub.add_parser("chat", help="talk to the assistant in this terminal")
    sub.add_parser("migrate", help="apply database migrations")
    triage = sub.add_parser("triage", help="parse messages with triage: TEXT, or --jsonl on stdin")
    triage.add_argument("rest", nargs=argparse.REMAINDER)
    apikey = sub.add_parser("apikey", help="create, list and revoke API keys")
    keys = apikey.add_subparsers(dest="apikey_command", required=True)
    create = keys.add_parser("create")
    create.add_argument("--name", required=True)
    create.add_argument("--account", default="default")
    create.add_argument("--scope", action="append", help="repeatable; default messages:write messages:read")
    keys.add_parser("list")
    revoke = keys.add_parser("revoke")
    revoke.add_argument("key", help="key id or its shown prefix")
    knowledge = sub.add_parser("knowledge", help="rebuild the knowledge index; delete a user's knowledge")
    kn = knowledge.add_subparsers(dest="knowledge_command", required=True)
    kn.add_parser("reindex", help="rebuild the vector index from the database (progress on stderr)")
    delete_user = kn.add_parser("delete-user", help="hard-delete a user's own facts, documents and vectors")
    delete_user.add_argument("user_id")
    account = sub.add_parser("account", help="create and list accounts")
    acc = account.add_subparsers(dest="account_command", required=True)
    new_account = acc.add_parser("create", help="a new account with an assistant and an HTTP channel api-SLUG")
    new_account.add_argument("slug")
    new_account.add_argument("--name")
    acc.add_parser("list")
    user = sub.add_parser("user", help="delete a user for good (GDPR)")
    us = user.add_subparsers(dest="user_command", required=True)
    delete = us.add_parser("delete", help="what would be deleted; with --confirm, delete it (also finishes one a "
                                          "crash cut short)")
    delete.add_argument("user", help="usr_…, or CHANNEL:ID (telegram:12345)")
    delete.add_argument("--confirm", action="store_true")
    platform = sub.add_parser("platform", help="platform kill switch and maintenance")
    platform.add_argument("platform_command", choices=["status", "pause", "resume", "maintenance"])
    return p


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["triage"]:  # its own flags (--jsonl) go to its own parser untouched
        return _triage(argv[1:])
    args = parser().parse_args(argv)
    settings = _settings()
    from bot.logs import configure_logging

    level = settings.log_level if args.command == "serve" else "warning"
    configure_logging(level, settings.log_format)
    if args.command == "serve":
        with contextlib.suppress(KeyboardInterrupt):
            return _run(_serve(settings))
        return 0
    if args.command == "chat":
        return _run(_chat(settings))
    if args.command == "migrate":
        return _migrate(settings)
    if args.command == "knowledge":
        return _knowledge(args, settings)
    if args.command == "apikey":
        return _apikey(args, settings)
    if args.command == "account":
        return _account(args, settings)
    if args.command == "user":
        return _user(args, settings)
    return _platform(args, settings)


if __name__ == "__main__":
    sys.exit(main())
