"""Test-only plug-ins (algorithms registered by the tests that need them)."""
