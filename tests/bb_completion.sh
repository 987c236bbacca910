#!/bin/bash
# The bash completion (completion/gust.bash) offers what gust accepts: the
# presets of `gust init --preset` are the ones gust knows.
. "$GUST_SRCDIR/tests/lib.sh"

# complete WORDS...: COMPREPLY of _gust for the command line WORDS (the
# last one the word being completed), sorted, one a line
complete() {
	bash --norc --noprofile -c '
		. "$1/completion/gust.bash"
		shift
		COMP_WORDS=("$@")
		COMP_CWORD=$(($# - 1))
		_gust
		printf "%s\n" "${COMPREPLY[@]}" | sort' _ "$GUST_SRCDIR" "$@"
}

run_gust "$T" init --preset no-such-preset
is "$status" 2 "an unknown preset is refused"
known=$(printf '%s\n' "$out" | sed -n 's/.*(known: \(.*\))$/\1/p' | tr -d ' ' | tr , '\n' | sort)
ok_run "gust lists the presets it knows" test -n "$known"
is "$(complete gust init --preset '')" "$known" "--preset completes to exactly those presets"
is "$(complete gust init --preset c-)" "$(printf '%s\n' "$known" | grep '^c-')" \
	"--preset c- completes to the c- presets"

plan_done
