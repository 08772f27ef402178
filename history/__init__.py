"""Run history: every run, every result and the breach intervals, in an embedded SQLite store."""
