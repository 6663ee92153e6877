"""The view floor: figures (one function per figure), the sweep report, the trainer's page and
slide. Imports `sim.experiment` and `sim.core`; nothing imports it."""
