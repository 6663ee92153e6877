# Two commands a new user needs (README.md, docs/index.md): `make run` and `make test`.
# Each creates .venv from pyproject.toml with a Python >= 3.12 when it is missing or stale.
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test mechanisms bench baseline clean-venv docs locked lock

$(STAMP): pyproject.toml
	@PY=$$(scripts/find-python) || exit 1; \
	  echo "Creating $(VENV) with $$PY"; \
	  [ -x $(BIN)/python ] || $$PY -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[docs,parallel,study,test,viz]'
	@touch $(STAMP)

# The main job: every scaling strategy side by side (configs/experiment/comparison.yaml),
# run afresh, two processes; the report lands in results/comparison/report.md.
run: $(STAMP)
	rm -rf results/comparison
	$(BIN)/privsim -m experiment=comparison hydra/launcher=joblib hydra.launcher.n_jobs=2

# Two pytest-xdist workers (the 2-core machine); tests sharing one resource (a local Ray cluster)
# carry `xdist_group` marks, which `--dist loadgroup` keeps on one worker.
test: $(STAMP)
	$(BIN)/python -m pytest -q -n 2 --dist loadgroup

clean-venv:
	rm -rf $(VENV)

# The standing mechanisms study (issue #22): each mechanism off / on / x0.5 / x1.5 of its key
# parameter on 4 seeds, two strategies, paired by seed; writes experiments/mechanisms.md
# (runs are cached in results/mechanisms_runs.json while sim/ and configs/ are unchanged).
mechanisms: $(STAMP)
	$(BIN)/python scripts/mechanisms_study.py --write

bench: $(STAMP)
	$(BIN)/python benchmarks/sweep.py

# Regenerate tests/baseline.json after a change of results that is intended (the commit message
# then says which numbers moved and why).
baseline: $(STAMP)
	$(BIN)/python tests/test_baseline.py --regenerate

# Regenerate docs/parameters.md from sim/core/params.py and configs/ (tests/test_reference.py
# fails when the committed file drifts from what this writes), then build the documentation
# site into site/ (mkdocs.yml) with warnings as errors: a broken link fails.
docs: $(STAMP)
	$(BIN)/python -m sim.cli.params --write
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict

# Bit-for-bit: the exact versions the tests ran with (requirements.lock), then privsim itself
# without resolving its dependencies again. Replaces .venv's packages; `make` afterwards keeps them.
locked:
	@PY=$$(scripts/find-python) || exit 1; [ -x $(BIN)/python ] || $$PY -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	@touch $(STAMP)

# Record the current .venv as requirements.lock (run on a fresh `make` venv).
lock: $(STAMP)
	@{ sed -n '1,3p' requirements.lock; $(BIN)/python -m pip freeze --exclude-editable \
	  | grep -v '^ruff=='; } > requirements.lock.new && mv requirements.lock.new requirements.lock
