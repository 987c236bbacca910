EXTRA_DIST += examples/demo/main.go examples/demo/go.mod examples/demo/gust.json \
	examples/custom-runner/runner-hello.c examples/custom-runner/Makefile \
	examples/custom-hook/hook-journal.c examples/custom-hook/Makefile

# `make demo`: build everything, copy the demo project into the build tree
# and run gust on it with the freshly built plugins. Edit demo/main.go in
# another terminal and watch it restart; Ctrl-C to stop.
demo: all
	rm -rf demo && mkdir -p demo && cp -R $(srcdir)/examples/demo/. demo/ && chmod -R u+w demo
	cd demo && GUST_PLUGIN_PATH="$(abs_top_builddir)/plugins/.libs" "$(abs_top_builddir)/gust"
.PHONY: demo
clean-local: clean-demo
clean-demo:
	rm -rf demo
.PHONY: clean-demo
