# `make soak`: gust through 1,000 restarts of a TCP server, 200 under Delve
# and 1,000 build cancellations, sampling its fds, VmRSS, inotify watches
# and processes (soak/run.sh; not part of `make check`). Environment:
# SOAK_QUICK=1, SOAK_RESTARTS, SOAK_DLV, SOAK_CANCELS, SOAK_EVERY,
# SOAK_DEADLINE, SOAK_RSS_SLACK_KB.
EXTRA_DIST += soak/run.sh
soak: all tests/helpers/shape$(EXEEXT)
	$(SHELL) $(srcdir)/soak/run.sh
.PHONY: soak
