# DogeOS first boot: paths, logging, console markers, exit statuses, state.
# Sourced by /dogeos/bin/firstboot; runs under bash and ksh93 alike, so it
# uses `function name {` + typeset (local in both shells), printf (never
# echo), and no bash-only builtins. See overlays/dogeos/README.md.

# Exit statuses understood by SMF (illumos lib/svc/share/smf_include.sh).
# Defined here rather than sourced so the scripts also run off-platform.
SMF_EXIT_OK=0
SMF_EXIT_ERR_FATAL=95
SMF_EXIT_ERR_CONFIG=96

# Every absolute path the scripts touch goes through DG_ROOT, so tests (and
# a curious operator) can run the whole flow unprivileged inside a tree.
DG_ROOT=${DOGEOS_ROOT:-}
DG_ROOT=${DG_ROOT%/}

DG_CONF_FILE=$DG_ROOT/dogeos/etc/dogeos.conf
DG_BOOT_DIR=$DG_ROOT/system/boot
DG_USBKEY_CONFIG=$DG_ROOT/usbkey/config
DG_STATE_DIR=$DG_ROOT/opt/dogeos
DG_STATE=$DG_STATE_DIR/state
DG_LOG_DIR=$DG_ROOT/var/log/dogeos
DG_LOG=$DG_LOG_DIR/firstboot.log
DG_CONSOLE=$DG_ROOT/dev/console
DG_MOTD=$DG_ROOT/etc/motd
DG_MNTTAB=$DG_ROOT/etc/mnttab
DG_CHUNTER_DIR=$DG_ROOT/opt/chunter
DG_CUSTOM_SMF=$DG_ROOT/opt/custom/smf
DG_ZONES=$DG_ROOT/zones

DG_MARKER='DOGEOS-FIRSTBOOT:'

# illumos' /usr/bin/awk has long been the old awk without -v; nawk is POSIX.
DG_AWK=$(command -v nawk 2>/dev/null) || DG_AWK='awk'
DG_BOOT=''

# Strip the test root from a path so messages name what a node would see.
function dg_node_path {
	typeset p=$1
	if [[ -n $DG_ROOT && $p == "$DG_ROOT"/* ]]; then
		p=${p#"$DG_ROOT"}
	fi
	printf '%s' "$p"
}

# Log lines carry the seconds since the run started (SECONDS, in bash and
# ksh93 alike); the run's first line carries the wall-clock time. This
# keeps date(1) out of every line.
DG_LOG_STARTED=''

function dg_log_line {
	if [[ -z $DG_LOG_STARTED ]]; then
		[[ -d $DG_LOG_DIR ]] || mkdir -p "$DG_LOG_DIR" 2>/dev/null || return 0
		DG_LOG_STARTED=$(date -u '+%Y-%m-%dT%H:%M:%SZ' 2>/dev/null)
		SECONDS=0
		printf '=== firstboot %s started %s\n' "$DG_MODE" "$DG_LOG_STARTED" \
		    >>"$DG_LOG" 2>/dev/null
	fi
	printf '+%ss %s\n' "${SECONDS%%.*}" "$*" >>"$DG_LOG" 2>/dev/null
}

# dg_log MESSAGE...: one line in the log, and on stdout (SMF keeps stdout
# in the service's own log under /var/svc/log).
function dg_log {
	dg_log_line "$*"
	printf '%s\n' "$*"
}

# dg_console LINE: print on the system console (the boot harness watches it).
function dg_console {
	if [[ -n $DG_ROOT && ! -d ${DG_CONSOLE%/*} ]]; then
		mkdir -p "${DG_CONSOLE%/*}" 2>/dev/null
	fi
	printf '%s\n' "$*" >>"$DG_CONSOLE" 2>/dev/null
}

# dg_fail STATUS REASON: the failure marker, then exit. REASON is one line.
function dg_fail {
	dg_log "FAILED: $2"
	dg_console "$DG_MARKER failed $2"
	exit "$1"
}

function dg_fatal {
	dg_fail "$SMF_EXIT_ERR_FATAL" "$*"
}

# dg_config_error MESSAGE: exactly one log line naming the setting at fault,
# then SMF's config-error status so the service goes to maintenance.
function dg_config_error {
	typeset msg="$*"
	dg_log_line "CONFIG ERROR: $msg"
	printf 'CONFIG ERROR: %s\n' "$msg"
	dg_console "$DG_MARKER failed config: $msg"
	exit "$SMF_EXIT_ERR_CONFIG"
}

# dg_run COMMAND ARGS...: run a program, its output into the log.
function dg_run {
	typeset line="$*"
	[[ -z $DG_ROOT ]] || line=${line//"$DG_ROOT"/}
	dg_log "+ $line"
	"$@" >>"$DG_LOG" 2>&1
}

# dg_run_quiet LABEL COMMAND ARGS...: like dg_run, but logs LABEL instead of
# the arguments (which carry a secret).
function dg_run_quiet {
	typeset label=$1
	shift
	dg_log "+ $label"
	"$@" >>"$DG_LOG" 2>&1
}

# State: one line per completed step in /opt/dogeos/state. Steps that touch
# only the ramdisk (SMF repository, /etc/motd) are redone at every boot, so
# they are recorded as NAME@BOOTTIME.
DG_STATE_LINES=''
DG_STATE_READ=''
DG_NL='
'

function dg_state_has {
	if [[ -z $DG_STATE_READ ]]; then
		[[ ! -f $DG_STATE ]] || DG_STATE_LINES=$(<"$DG_STATE")
		DG_STATE_READ=1
	fi
	case $DG_NL$DG_STATE_LINES$DG_NL in
	*"$DG_NL$1$DG_NL"*) return 0 ;;
	esac
	return 1
}

# dg_state_add NAME: record a step. A per-boot step (NAME@BOOT) replaces
# the record of its previous boots, so the file stays one line per step.
function dg_state_add {
	typeset name=$1 step=${1%@*}
	[[ -d $DG_STATE_DIR ]] || mkdir -p "$DG_STATE_DIR" ||
	    dg_fatal "cannot create $(dg_node_path "$DG_STATE_DIR")"
	if [[ $name == *@* && -f $DG_STATE ]] && grep -q "^$step@" "$DG_STATE"; then
		if ! { grep -v "^$step@" "$DG_STATE"; printf '%s\n' "$name"; } >"$DG_STATE.new" ||
		    ! mv "$DG_STATE.new" "$DG_STATE"; then
			dg_fatal "cannot write $(dg_node_path "$DG_STATE")"
		fi
	else
		printf '%s\n' "$name" >>"$DG_STATE" ||
		    dg_fatal "cannot write $(dg_node_path "$DG_STATE")"
	fi
	DG_STATE_LINES=$DG_STATE_LINES$DG_NL$name
}

# dg_step NAME FUNCTION: run FUNCTION unless NAME is recorded; record it
# when FUNCTION returns 0. Functions report failure through dg_fail (exit).
function dg_step {
	typeset name=$1 fn=$2
	if dg_state_has "$name"; then
		return 0
	fi
	dg_log "step $name: start"
	"$fn" || dg_fatal "step $name failed"
	dg_state_add "$name"
	dg_log "step $name: done"
}

# dg_boot_id: the boot time from sysinfo(8), so per-boot steps rerun after a
# reboot (the SMF repository and /etc/motd live on the ramdisk).
function dg_boot_id {
	typeset out
	out=$(sysinfo 2>/dev/null) || out=''
	DG_BOOT=$(printf '%s\n' "$out" |
	    sed -n 's/^[[:space:]]*"Boot Time":[[:space:]]*"\{0,1\}\([0-9][0-9]*\)"\{0,1\}.*/\1/p' |
	    sed -n 1p)
	if [[ -z $DG_BOOT ]]; then
		dg_fatal "cannot read the boot time from sysinfo"
	fi
}

# dg_shquote STRING: STRING as one single-quoted word for a shell (zlogin
# joins its arguments into a command line for the zone's shell).
function dg_shquote {
	typeset s=$1 out=''
	while [[ $s == *"'"* ]]; do
		out="$out${s%%"'"*}'\\''"
		s=${s#*"'"}
	done
	printf "'%s%s'" "$out" "$s"
}

# dg_sha256 FILE: lowercase hex digest; digest(1) on illumos, sha256sum or
# openssl elsewhere.
function dg_sha256 {
	typeset sum
	if command -v digest >/dev/null 2>&1; then
		sum=$(digest -a sha256 "$1") || return 1
	elif command -v sha256sum >/dev/null 2>&1; then
		sum=$(sha256sum "$1") || return 1
		sum=${sum%% *}
	else
		sum=$(openssl dgst -sha256 -r "$1") || return 1
		sum=${sum%% *}
	fi
	printf '%s' "$sum" | tr 'A-F' 'a-f'
}

# dg_is_mounted DIR: DIR is a mount point per /etc/mnttab.
function dg_is_mounted {
	[[ -f $DG_MNTTAB ]] || return 1
	# shellcheck disable=SC2016 # an awk program
	"$DG_AWK" -v d="$1" '$2 == d { found = 1 } END { exit found ? 0 : 1 }' "$DG_MNTTAB"
}
