"""The model floor: parameters, user state, rules and results of one simulated private domain.

Imports nothing from `sim.experiment` or `sim.viz`, nor Hydra or matplotlib
(`tests/test_architecture.py` holds that), so the model runs from a notebook with plain objects.
"""
