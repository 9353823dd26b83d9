"""Jobs: work that outlives a message (reminders, asynchronous tool calls, timeouts) and per-user task lists.

Plugged in by `jobs.extension.JobsExtension`; see docs/ARCHITECTURE.md."""
