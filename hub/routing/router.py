"""The router: which consumers want a topic, decided once per topic and cached.

Runs on the reactor thread (`hub.routing.enqueuer.Enqueuer` asks it for every message;
``set_routes`` at start-up and on reload). Every topic's set of consumers is an interned
`Decision`: topics that go to the same consumers share one, so the enqueuer groups a batch by
decision at one dict lookup a message, however many consumers each message goes to.
"""

from __future__ import annotations

from dataclasses import dataclass

from hub.routing.topics import TopicMatcher
from hub.storage.spool import Spool

CACHE_LIMIT = 50_000  # distinct topics remembered before the cache starts over


@dataclass(frozen=True, eq=False)
class Route:
    """One consumer as the router sees it: what it wants and where it goes."""

    name: str
    matcher: TopicMatcher
    spool: Spool


@dataclass(frozen=True, eq=False)
class Decision:
    """Where messages on a topic go. Topics that go to the same consumers share one Decision,
    hashed by identity."""

    routes: tuple[Route, ...]


class Router:
    """Topic -> `Decision`, cached; the set of routes changes only through ``set_routes``."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.cache: dict[str, Decision] = {}  # topic -> its decision (read by the enqueuer)
        self._decisions: dict[tuple[Route, ...], Decision] = {}  # one Decision per routes

    def set_routes(self, routes: dict[str, Route]) -> None:
        """Replace the set of consumers (start-up and reload); forgets cached decisions."""
        self.routes = dict(routes)
        self.cache.clear()
        self._decisions.clear()

    def match(self, topic: str) -> tuple[Route, ...]:
        """The routes whose patterns match ``topic`` (cached)."""
        return self.decide(topic).routes

    def decide(self, topic: str) -> Decision:
        """The cached decision for ``topic``, worked out on first sight."""
        found = self.cache.get(topic)
        if found is None:
            if len(self.cache) >= CACHE_LIMIT:
                self.cache.clear()
                self._decisions.clear()
            routes = tuple(r for r in self.routes.values() if r.matcher.matches(topic))
            found = self._decisions.setdefault(routes, Decision(routes))
            self.cache[topic] = found
        return found
