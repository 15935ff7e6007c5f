"""Reliability tests: crashes, concurrency, hostile input (a package, so that its conftest is
not imported as the top-level ``conftest`` that other test modules import from)."""
