# `make bench`: the performance harness (bench/run.sh); results as a table
# on stdout and as JSON in bench/results.json. Environment: BENCH_RUNS,
# BENCH_IDLE_SECS (30, the issue's figure; 10 with BENCH_QUICK), BENCH_QUICK=1,
# BENCH_ONLY="overhead spawn ready storm idle scale teardown proxy",
# BENCH_PROXY_SECS, BENCH_PROXY_CONNS, BENCH_PROXY_EDITS, BENCH_GOCACHE, BENCH_OUT.
EXTRA_DIST += bench/run.sh bench/RESULTS.md
CLEANFILES += bench/results.json
bench: all
	$(SHELL) $(srcdir)/bench/run.sh
.PHONY: bench
