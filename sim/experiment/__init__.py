"""The experiment floor: configs → runs → sweeps. Hydra lives here; figures do not.

Imports `sim.core`, never `sim.viz` (`tests/test_architecture.py`).
"""
