"""Scoring: playbooks (rubrics as data), scorecards and the one-star risk score."""
