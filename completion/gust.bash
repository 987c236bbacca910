# bash completion for gust(1)                               -*- shell-script -*-
# Installed as .../bash-completion/completions/gust; or source it directly.

_gust_config_keys() {
	# The config keys that --set accepts, as KEY.PATH= (see gust.json(5)).
	printf '%s=\n' \
		root tmp_dir plugin_path \
		watch.include_ext watch.include_dir watch.include_file \
		watch.exclude_dir watch.exclude_file watch.exclude_regex \
		watch.gitignore watch.follow_symlinks watch.exclude_unchanged \
		watch.allow_any_root watch.debounce_ms watch.debounce_max_ms \
		log.color log.timestamps log.verbosity \
		screen.clear \
		lifecycle.postpone_first lifecycle.stop_on_build_failure \
		lifecycle.restart_on_exit lifecycle.restart_delay_ms \
		lifecycle.restart_max_delay_ms \
		watcher.plugin watcher.fallback_to_poll watcher.poll_interval_ms \
		watcher.interval_ms \
		builder.plugin builder.cmd builder.pre_cmd builder.post_cmd \
		builder.env builder.cwd builder.log_file builder.kill_delay_ms \
		runner.plugin runner.bin runner.args runner.cmd runner.env \
		runner.env_files runner.cwd runner.stop_signal \
		runner.kill_delay_ms runner.stdin \
		runner.listen runner.api_version runner.headless \
		runner.accept_multiclient runner.continue runner.log \
		runner.log_output runner.dlv runner.extra_args runner.exit_with_program
}

_gust() {
	local cur prev words cword
	if declare -F _init_completion >/dev/null; then
		_init_completion -n = || return
	else
		cur=${COMP_WORDS[COMP_CWORD]}
		prev=${COMP_WORDS[COMP_CWORD - 1]}
		words=("${COMP_WORDS[@]}")
		cword=$COMP_CWORD
	fi

	local presets="go go-dlv c-make c-cmake meson rust-cargo node python"

	if [[ ${words[1]-} == ctl ]]; then
		case $prev in
		-c | --config)
			COMPREPLY=($(compgen -f -X '!*.json' -- "$cur") $(compgen -d -- "$cur"))
			return
			;;
		--set)
			COMPREPLY=($(compgen -W "$(_gust_config_keys)" -- "$cur"))
			compopt -o nospace 2>/dev/null
			return
			;;
		esac
		if [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W '--config --set --json --help' -- "$cur"))
		else
			COMPREPLY=($(compgen -W 'rebuild restart status quit' -- "$cur"))
		fi
		return
	fi

	if [[ ${words[1]-} == init ]]; then
		case $prev in
		--preset)
			COMPREPLY=($(compgen -W "$presets" -- "$cur"))
			return
			;;
		esac
		if [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W '--preset --sockets --sockets= --livereload --livereload= --help' -- "$cur"))
		else
			COMPREPLY=($(compgen -f -- "$cur"))
		fi
		return
	fi

	case $prev in
	-c | --config)
		COMPREPLY=($(compgen -f -X '!*.json' -- "$cur") $(compgen -d -- "$cur"))
		return
		;;
	--color | --colour)
		COMPREPLY=($(compgen -W 'auto always never' -- "$cur"))
		return
		;;
	--set)
		if [[ $cur == *=* ]]; then
			local key=${cur%%=*} val=${cur#*=} choices=
			case $key in
			log.color) choices='auto always never' ;;
			runner.plugin) choices='plain dlv' ;;
			builder.plugin) choices='shell' ;;
			watcher.plugin) choices='auto inotify kqueue poll' ;;
			runner.stdin) choices='null inherit tty' ;;
			runner.stop_signal) choices='SIGTERM SIGINT SIGHUP SIGQUIT SIGUSR1 SIGUSR2 SIGKILL' ;;
			*.*_ms | *.api_version | log.verbosity) choices= ;;
			*) case $key in
				*.gitignore | *.follow_symlinks | *.exclude_unchanged | \
				*.allow_any_root | *.timestamps | screen.clear | \
				lifecycle.postpone_first | lifecycle.stop_on_build_failure | \
				lifecycle.restart_on_exit | watcher.fallback_to_poll | \
				runner.headless | runner.accept_multiclient | runner.continue | \
				runner.log | runner.exit_with_program) choices='true false' ;;
				esac ;;
			esac
			COMPREPLY=($(compgen -W "$choices" -- "$val"))
			return
		fi
		COMPREPLY=($(compgen -W "$(_gust_config_keys)" -- "$cur"))
		compopt -o nospace 2>/dev/null
		return
		;;
	esac

	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W '--config --set --print-config --list-plugins
			--verbose --quiet --color --timestamps --version --help' -- "$cur"))
		return
	fi
	if ((cword == 1)); then
		COMPREPLY=($(compgen -W 'init ctl' -- "$cur"))
	fi
}
complete -F _gust gust
