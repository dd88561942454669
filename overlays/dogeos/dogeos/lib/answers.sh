# DogeOS first boot: the unattended answers SmartOS's installer reads, and
# the one-time root password they carry.
#
# The installer (smartos-live src/smartdc/lib/smartos_prompt_config.sh)
# wants root's password in plain text (`promptpw ... "root_password"`, then
# `/usr/lib/cryptpass`); no medium carries one. Before the installer runs,
# svc:/system/dogeos/answers copies the build's answers.json to where the
# installer looks first (its caller passes /usbkey: /usbkey/private/
# answers.json) and adds a random one-time password, never logged, passed
# as an argument or shown. The installer hashes it into /usbkey/shadow and
# reboots. At the next boot, before ssh and the console login start
# (the service's dependents), the same service puts the configured hash
# (DOGEOS_ROOT_SHADOW, lib/shadow.sh) into /usbkey/shadow and /etc/shadow,
# and blanks the one-time password out of the installer's xtrace log.
#
# The one-time password has the form dogeos-otp-<32 hex digits> (128 random
# bits) so that it can be found and blanked after a reboot without being
# stored anywhere.

DG_OTP_PREFIX='dogeos-otp-'
# Where the installer's trace (`set -o xtrace` to fd 4) and its service's
# log keep what it ran, the preset password included.
DG_OTP_LOGS="$DG_ROOT/var/log/prompt-config.log $DG_ROOT/var/svc/log/system-smartdc-config:default.log"

# dg_otp_new: prints a fresh one-time password (od and /dev/urandom exist
# on illumos and everywhere else).
function dg_otp_new {
	typeset hex
	hex=$(od -An -N16 -tx1 /dev/urandom 2>/dev/null | tr -d ' \n\t') || hex=''
	(( ${#hex} == 32 )) || return 1
	printf '%s%s' "$DG_OTP_PREFIX" "$hex"
}

# dg_answers_with_password SRC DST: DST becomes SRC with "root_password" set
# to DG_OTP (taken from the environment by awk, never from argv) as its
# first member. SRC is the build's rendering (JSON.stringify(doc, null, 2):
# a first line "{", members one per line), which is checked, not assumed.
function dg_answers_with_password {
	# shellcheck disable=SC2016 # an awk program
	"$DG_AWK" '
		NR == 1 { if ($0 != "{") exit 1; print; printf "  \"root_password\": \"%s\",\n", ENVIRON["DG_OTP"]; next }
		{ print; if ($0 ~ /^  "/) members++ }
		END { exit (NR > 2 && members > 0) ? 0 : 1 }' "$1" >"$2"
}

# dg_answers_install SRC TARGET: TARGET (mode 0600) gets the answers, with
# a one-time password when SRC has none and a configured hash will replace
# it. Written under another name, then renamed: never half-written.
function dg_answers_install {
	typeset src=$1 target=$2 tmp="$2.dogeos-new" otp
	mkdir -p "${target%/*}" || dg_fatal "cannot create $(dg_node_path "${target%/*}")"
	rm -f "$tmp"
	if grep -q '"root_password"' "$src"; then
		dg_log "answers.json carries its own root password (the build's opt-in)"
		(umask 077 && cp "$src" "$tmp") || { rm -f "$tmp"; dg_fatal "cannot copy answers.json to $(dg_node_path "$target")"; }
	elif [[ -z $DOGEOS_ROOT_SHADOW ]]; then
		dg_log "no DOGEOS_ROOT_SHADOW: SmartOS setup will ask for the root password on the console"
		(umask 077 && cp "$src" "$tmp") || { rm -f "$tmp"; dg_fatal "cannot copy answers.json to $(dg_node_path "$target")"; }
	else
		otp=$(dg_otp_new) || dg_fatal "cannot read /dev/urandom for a one-time root password"
		if ! (umask 077 && DG_OTP=$otp && export DG_OTP && dg_answers_with_password "$src" "$tmp"); then
			rm -f "$tmp"
			dg_fatal "$(dg_node_path "$src") is not answers.json as the build writes it (a first line '{', one member per line)"
		fi
		otp=''
		dg_log "answers.json: a one-time root password added (replaced by DOGEOS_ROOT_SHADOW after setup)"
	fi
	mv -f "$tmp" "$target" || { rm -f "$tmp"; dg_fatal "cannot move answers.json into $(dg_node_path "$target")"; }
}

# dg_answers_handoff: before SmartOS is set up, put the build's unattended
# answers where smartos_prompt_config.sh looks first (the directory its
# caller passes, /usbkey, then private/answers.json). Sources, most
# specific first: the PXE module, the DogeOS payload, the key's private/.
function dg_answers_handoff {
	typeset target=$DG_ROOT$DOGEOS_ANSWERS_TARGET src='' c
	for c in "$DG_BOOT_DIR/answers.json" \
	    "${DG_MEDIA:+$DG_MEDIA/answers.json}" \
	    "${DG_MEDIA:+${DG_MEDIA%/*}/private/answers.json}"; do
		if [[ -n $c && -f $c ]]; then
			src=$c
			break
		fi
	done
	if [[ -z $src ]]; then
		dg_log "no answers.json provided: SmartOS setup will ask on the console"
		return 0
	fi
	if [[ $src == "$target" ]]; then
		dg_log "answers.json already at $(dg_node_path "$target")"
		return 0
	fi
	if [[ -f $target ]] && grep -q "\"$DG_OTP_PREFIX" "$target"; then
		# Ours, from an earlier start of this boot: keep its password.
		dg_log "answers.json already at $(dg_node_path "$target")"
		return 0
	fi
	if [[ -f $target ]] && ! cmp -s "$src" "$target"; then
		dg_log "warning: $(dg_node_path "$target") exists and differs from $(dg_node_path "$src"); keeping it"
		return 0
	fi
	dg_answers_install "$src" "$target"
	dg_log "answers.json from $(dg_node_path "$src") copied to $(dg_node_path "$target")"
}

# dg_answers_cleanup: after setup (every boot, cheap): no answers file with
# a one-time password is left behind, and no log the installer wrote still
# shows one. A log is rewritten under another name and renamed, keeping its
# mode; nothing is logged about the password but that it was blanked.
function dg_answers_cleanup {
	typeset target=$DG_ROOT$DOGEOS_ANSWERS_TARGET f tmp
	if [[ -f $target ]] && grep -q "\"$DG_OTP_PREFIX" "$target"; then
		rm -f "$target" || dg_fatal "cannot remove $(dg_node_path "$target")"
		dg_log "removed the one-time answers at $(dg_node_path "$target")"
	fi
	for f in $DG_OTP_LOGS; do
		if [[ ! -f $f ]] || ! grep -q "${DG_OTP_PREFIX}[0-9a-f]" "$f"; then
			continue
		fi
		tmp="$f.dogeos-new"
		# shellcheck disable=SC2016 # an awk program
		if ! (umask 077 && "$DG_AWK" -v p="$DG_OTP_PREFIX" '
			{ gsub(p "[0-9a-f]+", p "REDACTED"); print }' "$f" >"$tmp") ||
		    ! chmod "$(dg_file_mode "$f")" "$tmp" || ! mv -f "$tmp" "$f"; then
			rm -f "$tmp"
			dg_fatal "cannot blank the one-time root password out of $(dg_node_path "$f")"
		fi
		dg_log "one-time root password blanked out of $(dg_node_path "$f")"
	done
}

# dg_file_mode FILE: its permission bits in octal (ls, as stat(1) differs
# between illumos and elsewhere).
function dg_file_mode {
	# shellcheck disable=SC2012,SC2016 # ls for portability; an awk program
	ls -ld "$1" | "$DG_AWK" '{
		m = 0; s = substr($1, 2, 9)
		for (i = 1; i <= 9; i++) { m = m * 2; if (substr(s, i, 1) != "-") m++ }
		printf "%o", m }'
}

# dg_answers_after_setup: what the answers service does once SmartOS is
# set up, before ssh and the console login: the configured root password,
# then the cleanup.
function dg_answers_after_setup {
	if [[ -n $DOGEOS_ROOT_SHADOW ]]; then
		dg_step_root_shadow
	fi
	dg_answers_cleanup
}
