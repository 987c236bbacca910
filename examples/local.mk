EXTRA_DIST += examples/demo/main.go examples/demo/go.mod examples/demo/gust.json \
	examples/custom-runner/runner-hello.c examples/custom-runner/Makefile
