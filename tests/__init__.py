"""The test suite (a package: its modules import each other and the harness)."""
