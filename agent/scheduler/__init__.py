"""Scheduled strategies that act unattended, only within the user's grants and guard rails."""
