"""App assembly and lifecycle: build every service once, then start and stop them in order."""

from __future__ import annotations

from collections.abc import Sequence

import structlog
from aiohttp import web
from sqlalchemy.engine import Connection

from agents.context import ContextBuilder, KnowledgeHook
from agents.delegation import Delegation
from agents.extensions import Extension, Kit
from agents.harness import Harness
from agents.llm import Provider, build_provider
from agents.llm.profiles import Profiles
from agents.model_calls import ModelCalls
from agents.pricing import Prices
from agents.runner import AgentRunner
from agents.tools import ToolRegistry
from agents.triage import Triage
from agents.triage_route import TriageRoute, observe_triage
from bot.auth import ApiKeys
from bot.budgets import Budgets
from bot.clock import Clock, SystemClock
from bot.commands import CommandRegistry
from bot.directory import Directory
from bot.flags import Flags
from bot.gates import build_gates
from bot.governance import Governance
from bot.http_api import install_routes
from bot.i18n import Catalogue
from bot.metrics import Metrics
from bot.pipeline import Pipeline
from bot.platform import PlatformState
from bot.questions import Questions
from bot.routes import AttachmentRoute, CommandRoute, Route
from bot.services import Services
from bot.store.database import Database
from bot.store.migrate import upgrade_async
from bot.store.seed import seed_catalogue, seed_platform_state
from bot.turn import Turn
from bot.undo import UndoLog
from bot.web import error_middleware
from channels.registry import ChannelBuilder, ChannelRegistry
from config.catalogue import CATALOGUE
from config.settings import Settings
from server.extensions import default_extensions
from server.settings import CHANNELS, migration_folders

log = structlog.get_logger("thinklio.app")


class App:
    """The composition root: every service built once, every extension installed, the channels attached."""

    def __init__(self, settings: Settings, *, channels: ChannelBuilder | None = None,
                 clock: Clock | None = None, provider: Provider | None = None,
                 extensions: Sequence[Extension] | None = None, registry: ChannelRegistry = CHANNELS) -> None:
        """`channels` builds the running channels (`registry.builder(types)`; none when omitted), `provider`
        replaces the one `THINKLIO_LLM_PROVIDER` names, `extensions` the default ones (tests)."""
        settings.ensure_data_dir()
        clock = clock or SystemClock()
        self._registry = registry
        self._extensions = default_extensions() if extensions is None else list(extensions)
        db = Database(settings.resolved_database_url, synchronous=settings.sqlite_synchronous,
                      busy_timeout_ms=settings.sqlite_busy_timeout_ms, max_batch=settings.write_batch_max)
        metrics = Metrics()
        platform = PlatformState(db, clock)
        directory = Directory(db, clock)
        catalogue = Catalogue()
        platform.on_invalidate(directory.invalidate)
        pipeline = Pipeline(db=db, directory=directory, gates=build_gates(platform, directory), routes=[],
                            metrics=metrics, clock=clock, settings=settings, catalogue=catalogue)
        api_keys = ApiKeys(db, clock, platform)
        budgets = Budgets(db, clock, account_default=settings.account_monthly_budget_usd,
                          user_default=settings.user_monthly_budget_usd)
        platform.on_invalidate(budgets.invalidate)
        self.flags = Flags(db, clock, platform)
        self.services = Services(settings=settings, clock=clock, db=db, metrics=metrics, platform=platform,
                                 directory=directory, api_keys=api_keys, commands=CommandRegistry(),
                                 pipeline=pipeline, catalogue=catalogue,
                                 governance=Governance.build(db, clock, directory, platform, api_keys,
                                                             budgets=budgets, flags=self.flags))
        self.web = web.Application(middlewares=[error_middleware(metrics)],
                                   client_max_size=settings.max_body_bytes)
        self.tools = ToolRegistry()
        self.model = ModelCalls(
            provider if provider is not None else build_provider(settings), prices=Prices(settings.llm_prices),
            budgets=budgets, directory=directory, metrics=metrics, flags=self.flags,
            profiles=Profiles(settings.llm_profiles, local_context_tokens=settings.llm_context_tokens,
                              answer_tokens=settings.llm_max_tokens, max_steps=settings.harness_max_steps))
        knowledge_hooks: list[KnowledgeHook] = []  # filled by the extensions, read by every turn's context
        self._harness = Harness(
            model=self.model, tools=self.tools,
            context=ContextBuilder(db, clock, history_tokens=settings.harness_history_tokens,
                                   knowledge=knowledge_hooks),
            directory=directory, db=db, metrics=metrics, settings=settings, services=self.services,
            drafts=pipeline.outlets.draft, platform=platform,
        )
        self.questions = Questions(db, clock, ttl_seconds=settings.triage_question_ttl_seconds)
        self.undo = UndoLog(db, clock, window_seconds=settings.undo_window_seconds)
        runner = AgentRunner(self._harness, directory)
        self._harness.delegation = Delegation(runner, directory, per_turn=settings.delegations_per_turn,
                                              timeout=settings.delegation_timeout_seconds)
        self.kit = Kit(services=self.services, tools=self.tools, commands=self.services.commands, web=self.web,
                       model=self.model, agents=runner, questions=self.questions,
                       undo=self.undo, knowledge_hooks=knowledge_hooks)
        for extension in self._extensions:
            extension.install(self.kit)
        self.services.governance.agents.attach_tools(self.tools.catalogue, self.kit.assignments)
        pipeline.routes.extend(self._build_routes())
        pipeline.model_route = self._harness
        pipeline.after_turn.extend(self.kit.after_turn)
        install_routes(self.web, self.services)
        adapters = list(channels(self.services, self.web)) if channels else []
        self.services.channels = adapters
        for adapter in adapters:
            pipeline.outlets[adapter.type] = adapter
        self.web.on_startup.append(self._on_startup)
        self.web.on_cleanup.append(self._on_cleanup)
        self._started = False

    def _build_routes(self) -> list[Route]:
        s, kit = self.services, self.kit

        async def capabilities(turn: Turn) -> list[tuple[str, str]]:
            assigned = await s.directory.agent_tools(turn.agent.id)
            offered = [(name, tool.description) for name in sorted(assigned) if (tool := self.tools.get(name))]
            return [*kit.skills, *offered]

        answered = frozenset(kit.direct_handlers).union(*(extension.intents for extension in self._extensions))
        triage = Triage(min_strength=s.settings.triage_min_strength, max_ambiguity=s.settings.triage_max_ambiguity,
                        handled_intents=answered, on_parse=observe_triage(s.metrics))
        return [
            CommandRoute(s.commands, s.directory, s.platform, capabilities, s.governance),
            AttachmentRoute(kit.attachment_handlers, self.flags),
            TriageRoute(triage, s.directory, s.clock, capabilities, min_strength=s.settings.triage_min_strength,
                        handlers=kit.direct_handlers, look_first=frozenset(kit.look_first),
                        writes=frozenset(kit.writes), questions=self.questions, undo=self.undo,
                        audit=s.governance.audit),
        ]

    async def _on_startup(self, _: web.Application) -> None:
        await self.start()

    async def _on_cleanup(self, _: web.Application) -> None:
        await self.stop()

    async def open_store(self) -> None:
        """Migrate, seed and load platform state: all a CLI command needs, without starting any work."""
        s = self.services
        await upgrade_async(s.settings.resolved_database_url, migration_folders())
        s.db.start()
        now = s.clock.now()

        def seed(conn: Connection) -> None:
            seed_platform_state(conn, now)
            seed_catalogue(conn, CATALOGUE, now, installed_tools=self.kit.assignments,
                           channels=self._registry.seeds())

        await s.db.run(seed)
        await s.platform.load()

    async def close_store(self) -> None:
        await self.services.db.close()

    async def start(self) -> None:
        if self._started:
            return
        s = self.services
        await self.open_store()
        s.platform.on_status_change(self._status_changed)
        for step in self.kit.on_start:
            await step()
        await s.governance.erasure.resume()  # a user deletion a crash cut short (extensions are started now)
        for adapter in s.channels:
            await adapter.start()
        await s.pipeline.recover(statuses=self._recoverable(s.platform.status))
        for step in self.kit.on_ready:
            await step()
        s.platform.start_polling(s.settings.state_poll_seconds)
        self._started = True
        log.info("app_started", database=s.db.dialect, channels=[a.type for a in s.channels])

    @staticmethod
    def _recoverable(status: str) -> tuple[str, ...]:
        return ("received", "running", "queued") if status == "online" else ("received", "running")

    async def _status_changed(self, old: str, new: str) -> None:
        if old == "maintenance" and new == "online":
            await self.services.pipeline.recover(statuses=("queued",))

    async def stop(self) -> None:
        if not self._started:
            return
        self._started = False
        s = self.services
        await s.platform.stop()
        for adapter in reversed(s.channels):
            try:
                await adapter.stop()
            except Exception as exc:
                log.warning("channel_stop_failed", channel=adapter.type, error=str(exc))
        await s.pipeline.drain()
        for step in reversed(self.kit.on_stop):
            try:
                await step()
            except Exception as exc:
                log.warning("extension_stop_failed", error=str(exc))
        await self.model.close()
        await s.db.close()
        log.info("app_stopped")
