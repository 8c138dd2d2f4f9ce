"""The simulated Hanweb district portal (deterministic, loopback only). The server lives in `server.py`."""

from simulator.portal import Release, SimulatedPortal

__all__ = ["Release", "SimulatedPortal"]
