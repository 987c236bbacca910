dist_man1_MANS = docs/gust.1
dist_man5_MANS = docs/gust.json.5
dist_man7_MANS = docs/gust-plugin.7
EXTRA_DIST += docs/DESIGN.md
