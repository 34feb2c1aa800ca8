# SPDX-License-Identifier: GPL-2.0
# bash completion for vmctl(8), installed as
# $(PREFIX)/share/bash-completion/completions/vmctl.
#
# The commands and their options come from vmctl's own help ("vmctl help",
# "vmctl help COMMAND"), so they follow the binary that is installed;
# VM names come from "vmctl list" (the NAME column, destroyed VMs left
# out).  What each option's value is (a file, a mode, a number) is known
# here: keep it in step with the getopt tables in userspace/vmctl/.

# The commands, from the "commands:" block of "vmctl help".
_vmctl_commands()
{
	"$1" help 2>/dev/null | awk '
		/^commands:/ { on = 1; next }
		on && /^$/ { exit }
		on && /^  [a-z]/ { print $1 }'
}

# The long options of command $2, from the "options:" block of its help.
_vmctl_options()
{
	"$1" help "$2" 2>/dev/null | awk '
		/^options:/ { on = 1; next }
		on && /^$/ { exit }
		on && match($0, /--[a-z][a-z-]*/) {
			print substr($0, RSTART, RLENGTH)
		}'
}

# The VMs "vmctl list" shows, by name.
_vmctl_vms()
{
	"$1" list 2>/dev/null | awk 'NR > 1 && $5 !~ /destroyed/ { print $2 }'
}

# Whether option $2 of command $1 takes a value (the next word).
_vmctl_takes_value()
{
	case $1:$2 in
	create:-m | create:--memory | create:-c | create:--vcpus) return 0 ;;
	run:-i | run:--image | run:-l | run:--load-addr) return 0 ;;
	run:-e | run:--entry | run:-m | run:--mode) return 0 ;;
	run:-k | run:--kernel | run:-r | run:--initrd) return 0 ;;
	run:-c | run:--cmdline | run:-n | run:--vcpus) return 0 ;;
	run:-b | run:--backend | run:-M | run:--memory) return 0 ;;
	top:-d | top:--interval | top:-n | top:--iterations) return 0 ;;
	esac
	return 1
}

_vmctl()
{
	local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]}
	local vmctl=${COMP_WORDS[0]} cmd= args=0 i

	COMPREPLY=()
	# The command is the first word that is not a global option.
	for ((i = 1; i < COMP_CWORD; i++)); do
		if [[ ${COMP_WORDS[i]} != -* ]]; then
			cmd=${COMP_WORDS[i]}
			break
		fi
	done
	if [[ -z $cmd ]]; then
		# "vmctl help" lists help itself among the commands.
		COMPREPLY=($(compgen -W "$(_vmctl_commands "$vmctl") --help" \
			-- "$cur"))
		return
	fi

	# The value of an option.
	if _vmctl_takes_value "$cmd" "$prev"; then
		case $prev in
		-i | --image | -k | --kernel | -r | --initrd)
			compopt -o filenames 2>/dev/null
			COMPREPLY=($(compgen -f -- "$cur")) ;;
		--mode | -m)
			[[ $cmd == run ]] &&
				COMPREPLY=($(compgen -W "real protected long" \
					-- "$cur")) ;;
		--backend | -b)
			COMPREPLY=($(compgen -W "ringvm kvm" -- "$cur")) ;;
		esac
		return		# sizes, counts, addresses, command lines
	fi
	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "$(_vmctl_options "$vmctl" "$cmd")" \
			-- "$cur"))
		return
	fi

	# How many arguments (not options, not their values) come before.
	for ((i++; i < COMP_CWORD; i++)); do
		if _vmctl_takes_value "$cmd" "${COMP_WORDS[i]}"; then
			((i++))
		elif [[ ${COMP_WORDS[i]} != -* ]]; then
			((args++))
		fi
	done
	((args == 0)) || return
	case $cmd in
	help)
		COMPREPLY=($(compgen -W "$(_vmctl_commands "$vmctl")" \
			-- "$cur")) ;;
	run | destroy | stat)
		COMPREPLY=($(compgen -W "$(_vmctl_vms "$vmctl")" -- "$cur")) ;;
	esac
}

complete -F _vmctl vmctl
