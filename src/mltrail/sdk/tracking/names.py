"""Readable generated run names such as ``brisk-heron-42``."""

from __future__ import annotations

import secrets

__all__ = ["generate_run_name"]

_ADJECTIVES = (
    "amber", "bold", "brisk", "calm", "clever", "crisp", "dapper", "eager", "fair", "fleet", "gentle", "glad",
    "golden", "hardy", "jolly", "keen", "lively", "lucid", "merry", "nimble", "noble", "plucky", "proud",
    "quiet", "rapid", "sage", "shy", "silver", "snug", "solar", "steady", "swift", "tidy", "vivid", "warm",
    "witty", "young", "zesty",
)  # fmt: skip
_NOUNS = (
    "badger", "bison", "crane", "dingo", "eagle", "falcon", "ferret", "gecko", "heron", "ibex", "jackal",
    "koala", "lemur", "lynx", "marten", "newt", "ocelot", "otter", "panda", "puffin", "quokka", "raven",
    "salmon", "seal", "shrike", "sparrow", "tapir", "tern", "viper", "walrus", "wombat", "yak", "zebra",
)  # fmt: skip


def generate_run_name() -> str:
    """adjective-animal-number; uniqueness is not required (run ids are unique), readability is."""
    return f"{secrets.choice(_ADJECTIVES)}-{secrets.choice(_NOUNS)}-{secrets.randbelow(100)}"
