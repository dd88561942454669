# Shared by the stand-ins for illumos/SmartOS commands used in the first-boot
# tests. Each stand-in appends its argv to $STANDIN_DIR/calls.log (fields
# separated by tabs) and can be told to fail: a file $STANDIN_DIR/fail/NAME
# holds on line 1 how many more calls fail ("always" for all) and on an
# optional line 2 a text the joined arguments must contain.
# shellcheck shell=sh

si_name=${0##*/}
: "${STANDIN_DIR:?STANDIN_DIR must be set}"
: "${DOGEOS_ROOT:=}"

si_record() {
	{
		printf '%s' "$si_name"
		for si_a in "$@"; do
			printf '\t%s' "$si_a"
		done
		printf '\n'
	} >>"$STANDIN_DIR/calls.log"
}

si_maybe_fail() {
	si_spec=$STANDIN_DIR/fail/$si_name
	[ -f "$si_spec" ] || return 0
	si_count=$(sed -n 1p "$si_spec")
	si_match=$(sed -n 2p "$si_spec")
	if [ -n "$si_match" ]; then
		case " $* " in
		*"$si_match"*) ;;
		*) return 0 ;;
		esac
	fi
	case $si_count in
	always) ;;
	'' | 0) return 0 ;;
	*) printf '%s\n%s\n' "$((si_count - 1))" "$si_match" >"$si_spec" ;;
	esac
	printf '%s: failing as the test asked\n' "$si_name" >&2
	exit 1
}

# si_poll NAME: "online" once the counter file ready/NAME reaches zero
# (each poll counts it down), "never"/"maintenance" stick; no file: online.
si_poll() {
	si_f=$STANDIN_DIR/ready/$1
	if [ ! -f "$si_f" ]; then
		printf 'online\n'
		return 0
	fi
	si_n=$(sed -n 1p "$si_f")
	case $si_n in
	never) printf 'offline\n' ;;
	maintenance) printf 'maintenance\n' ;;
	0) printf 'online\n' ;;
	*)
		printf '%s\n' "$((si_n - 1))" >"$si_f"
		printf 'offline\n'
		;;
	esac
}

si_record "$@"
si_maybe_fail "$@"
