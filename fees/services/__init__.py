"""Writes of the fees app (being split into modules by sub-domain)."""

from .weather import *  # noqa: F403
