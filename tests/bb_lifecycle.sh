#!/bin/bash
. "$GUST_SRCDIR/tests/lib.sh"
plan_done
