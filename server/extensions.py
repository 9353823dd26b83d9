"""The extensions every install has, one line each, in the order they are installed. Adding one: write its
package with an `Extension` (`agents/extensions.py`) and add its class here."""

from __future__ import annotations

from pathlib import Path

from agents.core import CoreExtension
from agents.extensions import Extension
from jobs.extension import JobsExtension
from knowledge.extension import KnowledgeExtension

EXTENSIONS: tuple[type[Extension], ...] = (
    CoreExtension,
    KnowledgeExtension,
    JobsExtension,
)


def default_extensions() -> list[Extension]:
    return [cls() for cls in EXTENSIONS]


def extension_migrations() -> list[Path]:
    return [cls.migrations for cls in EXTENSIONS if cls.migrations is not None]
