"""A strict CQL native-protocol v4 emulator for tests (in the spirit of DataStax's Simulacron)."""

from .server import CqlEmulator, ManualClock

__all__ = ["CqlEmulator", "ManualClock"]
