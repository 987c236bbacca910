#!/bin/sh
# tests/valgrind.sh PROG ARGS...: PROG (gust) under valgrind's memcheck, in
# this process (so the tests' $GUST_PID is still gust's). make
# check-valgrind sets it as $GUST_WRAPPER. A memory error makes gust exit
# 99, which the tests' "gust exits 0" results catch; errors and memory
# definitely or indirectly lost at exit are written ("==PID== ..." lines) to
# $VALGRIND_LOGS/gust.PID.log, which make check-valgrind checks. Leaks do not
# change the exit status: a forked child that does not exec (a reaper) is
# checked too, and gust's heap it inherited would make it exit 99 at its
# end, which gust takes for a killed reaper. Such a child's errors are
# reported in a log of its own (its pid).
exec valgrind --quiet --tool=memcheck --error-exitcode=99 \
	--leak-check=full --errors-for-leak-kinds=none \
	--show-leak-kinds=definite,indirect --child-silent-after-fork=no \
	--suppressions="$GUST_SRCDIR/tests/valgrind.supp" \
	--log-file="${VALGRIND_LOGS:-.}/gust.%p.log" "$@"
