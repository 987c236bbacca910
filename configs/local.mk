# Presets for `gust init --preset NAME`, installed and also compiled in.
presetdir = $(pkgdatadir)/presets
PRESETS = configs/go.json configs/go-dlv.json configs/c-make.json configs/c-cmake.json \
	configs/meson.json configs/rust-cargo.json configs/node.json configs/python.json
dist_preset_DATA = $(PRESETS)
dist_pkgdata_DATA = configs/gust.schema.json

core/presets.c: $(PRESETS) $(srcdir)/configs/embed.sh
	$(AM_V_GEN)mkdir -p core && $(SHELL) $(srcdir)/configs/embed.sh \
	  $(addprefix $(srcdir)/,$(PRESETS)) > $@.tmp && mv $@.tmp $@
EXTRA_DIST += configs/embed.sh
