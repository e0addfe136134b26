"""Use cases (用例): each runs in one unit of work and commits once, or not at all."""
