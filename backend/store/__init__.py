"""The state store: one interface (`Store`), implemented on SQLite by default.

Only this package touches SQL. Every write hands a `Change` to its `Publisher` (the feed) after it commits,
so nothing a client can observe over SSE is ever ahead of what a GET would return.
"""

from backend.store.base import AppRecord, EnvironmentRecord, ResourceRecord, Store, TokenRecord
from backend.store.sqlite import SQLiteStore

__all__ = ["AppRecord", "EnvironmentRecord", "ResourceRecord", "SQLiteStore", "Store", "TokenRecord"]
