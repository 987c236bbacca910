# The header as a later 1.x might have it: a member appended to every
# vtable and to the descriptor. tests/test_abi_compat compiles the loader
# against it to show that plugins built against 1.0 still load.
/^struct gust_(watcher|builder|runner)_ops \{/ { vt = 1 }
/^struct gust_plugin_desc \{/ { desc = 1 }
/^\};/ && vt { print "\tvoid (*grown_in_1_x)(void *self);"; vt = 0 }
/^\};/ && desc { print "\tconst void *grown_in_1_x;"; desc = 0 }
{ print }
