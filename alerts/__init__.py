"""Alerts on transitions: events from one run against the history, grouped and delivered."""
