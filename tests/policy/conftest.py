"""Policy engine tests; builders live in tests/policy/helpers.py."""
