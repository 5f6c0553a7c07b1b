"""Carry-over between plans: which tasks of an earlier plan continue in a later one, and why."""
