"""The keyword table in force, and reloading it (SIGHUP) without ever running on a bad one."""

from __future__ import annotations

import logging
from pathlib import Path

from gateway.clock import Clock
from gateway.core.keywords import KeywordTable
from gateway.config.keyword_file import KeywordFileError, load_keyword_table
from gateway.daemon.metrics import Metrics

log = logging.getLogger(__name__)


class KeywordFile:
    def __init__(self, path: Path, metrics: Metrics, clock: Clock) -> None:
        self.path = path
        self.metrics = metrics
        self.clock = clock
        self.table: KeywordTable = load_keyword_table(path)  # a bad file at start is fatal: raise
        self.metrics.keyword_table_loaded.set(self.clock.now().timestamp())

    def __call__(self) -> KeywordTable:
        return self.table

    def reload(self) -> bool:
        """Load the file again; on any problem keep the table in force and log every problem."""
        try:
            table = load_keyword_table(self.path)
        except KeywordFileError as exc:
            for problem in exc.problems:
                log.error("keywords reload rejected: %s", problem)
            log.error("keywords reload rejected: %d problem(s); the previous table stays in force", len(exc.problems))
            return self._rejected()
        except (OSError, UnicodeDecodeError) as exc:
            log.error("keywords reload rejected: cannot read %s: %s; the previous table stays in force",
                      self.path, getattr(exc, "strerror", None) or exc)
            return self._rejected()
        except Exception:  # whatever else a broken file provokes (a YAML bomb's RecursionError...)
            log.exception("keywords reload rejected: %s could not be loaded; the previous table stays in force",
                          self.path)
            return self._rejected()
        self.table = table
        self.metrics.keyword_reloads.labels("ok").inc()
        self.metrics.keyword_table_loaded.set(self.clock.now().timestamp())
        log.info("keywords reloaded from %s: %d auto process(es)", self.path, len(table.processes))
        return True

    def _rejected(self) -> bool:
        self.metrics.keyword_reloads.labels("rejected").inc()
        self.metrics.keyword_reload_rejected.set(self.clock.now().timestamp())
        return False
