EXTRA_DIST += examples/demo/main.go examples/demo/go.mod examples/demo/gust.json \
	examples/demo/static/style.css \
	examples/custom-runner/runner-hello.c examples/custom-runner/Makefile \
	examples/custom-hook/hook-journal.c examples/custom-hook/Makefile

# `make demo`: build everything, copy the demo project into the build tree
# and run gust on it with the freshly built plugins. Open
# http://127.0.0.1:8090/ (the live-reload proxy), edit demo/main.go or
# demo/static/style.css in another terminal and watch the page follow;
# Ctrl-C to stop. Without the livereload plugin (no libmicrohttpd) the demo
# runs without its proxy, on http://127.0.0.1:8080/.
if BUILD_HOOK_LIVERELOAD
DEMO_ARGS =
else
DEMO_ARGS = --set 'hooks=[]' --set 'rules=[]'
endif
demo: all
	rm -rf demo && mkdir -p demo && cp -R $(srcdir)/examples/demo/. demo/ && chmod -R u+w demo
	cd demo && GUST_PLUGIN_PATH="$(abs_top_builddir)/plugins/.libs" "$(abs_top_builddir)/gust" $(DEMO_ARGS)
.PHONY: demo
clean-local: clean-demo
clean-demo:
	rm -rf demo
.PHONY: clean-demo
