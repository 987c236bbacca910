EXTRA_DIST += bench/run.sh
bench: all
	$(SHELL) $(srcdir)/bench/run.sh
.PHONY: bench
