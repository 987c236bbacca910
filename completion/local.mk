# bash completion, installed as "gust" where bash-completion looks for it.
bashcompletiondir = $(datadir)/bash-completion/completions

install-data-local: install-bashcompletion
uninstall-local: uninstall-bashcompletion
install-bashcompletion:
	$(MKDIR_P) '$(DESTDIR)$(bashcompletiondir)'
	$(INSTALL_DATA) $(srcdir)/completion/gust.bash '$(DESTDIR)$(bashcompletiondir)/gust'
uninstall-bashcompletion:
	rm -f '$(DESTDIR)$(bashcompletiondir)/gust'
.PHONY: install-bashcompletion uninstall-bashcompletion
EXTRA_DIST += completion/gust.bash
