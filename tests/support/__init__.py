"""Helpers shared by the test packages.

Plain helpers (functions, classes, constants) are imported from here by test modules. The modules
that also define fixtures are pytest plugins, registered once in tests/conftest.py
(``pytest_plugins``), so every package sees the same fixtures without importing them; a test
module never imports from a conftest.
"""
