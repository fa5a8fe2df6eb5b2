"""Stages: what one CLI command does, built from steps. Heavy libraries are imported
inside the stage that needs them, never at module level."""
