"""The commands floor: every console script (`privsim`, `privsim-report`, …) is a thin module
here that parses its arguments, calls the experiment or view floor, and exits by the one scheme
in `sim.cli.exits`. Nothing below imports this floor (tests/test_architecture.py)."""
