# Driver for test/firstboot/parser.ts (bash or ksh93): runs the first-boot
# runtime's configuration parser and validator on cases of files.
# Usage: SHELL parse-driver.sh LIBDIR CASE...  where CASE is files joined
# by '|', read in order over the defaults, then validated, as firstboot
# does. Output on stdout, fields ending in NUL:
#   KEYS key... DEFAULTS value...   (the library's own list and defaults)
#   then per case: OK value...  or  ERR message
# dg_config_error and dg_log are replaced after sourcing: the error ends
# the case's subshell, nothing is logged.
# shellcheck shell=bash disable=SC1091,SC2317

LC_ALL=C
export LC_ALL
DG_LIB=$1
shift
. "$DG_LIB/common.sh"
. "$DG_LIB/semver.sh"
. "$DG_LIB/config.sh"

function dg_log {
	:
}

function dg_config_error {
	printf 'ERR\0%s\0' "$*" >&3
	exit 96
}

function show {
	typeset k v
	for k in $DG_CONF_KEYS; do
		eval "v=\${$k}"
		printf '%s\0' "$v" >&3
	done
}

exec 3>&1 >/dev/null
printf 'KEYS\0' >&3
for k in $DG_CONF_KEYS; do printf '%s\0' "$k" >&3; done
printf 'DEFAULTS\0' >&3
dg_conf_defaults
show
for spec in "$@"; do
	(
		dg_conf_defaults
		rest=$spec
		while [[ -n $rest ]]; do
			dg_conf_load_file "${rest%%'|'*}"
			if [[ $rest == *'|'* ]]; then rest=${rest#*'|'}; else rest=''; fi
		done
		dg_conf_validate
		printf 'OK\0' >&3
		show
	)
done
exit 0
