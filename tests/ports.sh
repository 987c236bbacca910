# ports.sh - free loopback ports and whether one listens, for the
# black-box tests (tests/lib.sh) and the soak (soak/run.sh). Sourced.

# A port nothing listens on, outside the kernel's ephemeral range: a port
# in it can be taken by any outgoing connection (parallel tests make many on
# loopback) between the pick and the listen, and the program's bind then
# fails with "address already in use" (seen once under ASan in bb_dlv).
free_port() {
	local p lo=32768 hi=60999 base span
	read -r lo hi </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || true
	if [ "$lo" -gt 11024 ]; then
		base=10000 span=$((lo - 10000))
	elif [ "$hi" -lt 64511 ]; then
		base=$((hi + 1)) span=$((65535 - hi))
	else
		base=20000 span=40000 # no room outside it
	fi
	while :; do
		p=$((base + (RANDOM * 32768 + RANDOM) % span))
		port_free "$p" && { echo "$p"; return; }
	done
}

# True if some socket listens on 127.0.0.1/0.0.0.0/:: port $1.
port_listening() {
	local hex
	hex=$(printf '%04X' "$1")
	awk -v h=":$hex" 'NR > 1 && $4 == "0A" && substr($2, length($2) - 4) == h { f = 1 } END { exit !f }' \
		/proc/net/tcp /proc/net/tcp6 2>/dev/null
}
port_free() { ! port_listening "$1"; }
