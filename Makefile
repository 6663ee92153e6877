# Two commands a new user needs (see README): `make run` and `make test`.
# Each creates .venv from pyproject.toml with a Python >= 3.12 when it is missing or stale.
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test bench baseline clean-venv

$(STAMP): pyproject.toml
	@PY=$$(scripts/find-python) || exit 1; \
	  echo "Creating $(VENV) with $$PY"; \
	  [ -x $(BIN)/python ] || $$PY -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[parallel,study,test,viz]'
	@touch $(STAMP)

# The main job: every scaling strategy side by side (configs/experiment/comparison.yaml),
# run afresh, two processes; the report lands in results/comparison/report.md.
run: $(STAMP)
	rm -rf results/comparison
	$(BIN)/privsim -m experiment=comparison hydra/launcher=joblib hydra.launcher.n_jobs=2

test: $(STAMP)
	$(BIN)/python -m pytest -q

clean-venv:
	rm -rf $(VENV)

bench: $(STAMP)
	$(BIN)/python benchmarks/sweep.py

# Regenerate tests/baseline.json after a change of results that is intended (the commit message
# then says which numbers moved and why).
baseline: $(STAMP)
	$(BIN)/python tests/test_baseline.py --regenerate
