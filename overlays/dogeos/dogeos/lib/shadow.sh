# DogeOS first boot: root's password from DOGEOS_ROOT_SHADOW.
#
# SmartOS keeps root's password in /usbkey/shadow (on the zones pool) and
# gives it to the ramdisk's /etc/shadow at boot, lofs-mounting the file
# over /etc/shadow (its installer writes /usbkey/shadow with
# `sed ... /etc/shadow > /usbkey/shadow`; smartdc's password tools replace
# the file, then `umount /etc/shadow; mount -F lofs /usbkey/shadow
# /etc/shadow`). We do the same: the hash never appears in a log line,
# an argument list or a message.

DG_USBKEY_SHADOW=$DG_ROOT/usbkey/shadow
DG_ETC_SHADOW=$DG_ROOT/etc/shadow

# dg_shadow_root_hash FILE: root's password field, '' if none.
function dg_shadow_root_hash {
	[[ -f $1 ]] || return 0
	# shellcheck disable=SC2016 # an awk program
	"$DG_AWK" -F: '$1 == "root" { print $2; exit }' "$1"
}

# dg_shadow_write FROM TO: TO becomes FROM with root's hash set to
# DOGEOS_ROOT_SHADOW (passed to awk in the environment, not argv), written
# under another name, mode 0400 like SmartOS's, then renamed into place.
function dg_shadow_write {
	typeset from=$1 to=$2
	if ! (
		umask 077
		# shellcheck disable=SC2016 # an awk program
		DG_SHADOW_HASH=$DOGEOS_ROOT_SHADOW "$DG_AWK" -F: -v OFS=: '
			$1 == "root" { $2 = ENVIRON["DG_SHADOW_HASH"]; n++ }
			{ print }
			END { exit n == 1 ? 0 : 1 }' "$from" >"$to.dogeos-new"
	) || ! chmod 400 "$to.dogeos-new" || ! mv -f "$to.dogeos-new" "$to"; then
		rm -f "$to.dogeos-new"
		dg_fatal "cannot set root's password in $(dg_node_path "$to") (from $(dg_node_path "$from"): one root entry expected)"
	fi
}

# Step root-shadow@BOOT: every boot, after SmartOS setup; changes only what
# differs, so an unchanged node sees no write at all.
function dg_step_root_shadow {
	typeset from=$DG_USBKEY_SHADOW etc=$DG_ETC_SHADOW
	[[ -f $from ]] || from=$DG_ETC_SHADOW
	if [[ ! -f $DG_USBKEY_SHADOW || $(dg_shadow_root_hash "$from") != "$DOGEOS_ROOT_SHADOW" ]]; then
		dg_shadow_write "$from" "$DG_USBKEY_SHADOW"
		dg_log "root password: set in /usbkey/shadow"
	fi
	[[ $(dg_shadow_root_hash "$etc") != "$DOGEOS_ROOT_SHADOW" ]] || return 0
	if dg_is_mounted "$etc"; then
		# The lofs mount still shows the replaced file: mount the new one.
		dg_run umount "$etc" || dg_fatal "cannot unmount $(dg_node_path "$etc")"
		dg_run mount -F lofs "$DG_USBKEY_SHADOW" "$etc" ||
		    dg_fatal "cannot lofs-mount /usbkey/shadow on $(dg_node_path "$etc")"
	else
		dg_shadow_write "$etc" "$etc"
	fi
	[[ $(dg_shadow_root_hash "$etc") == "$DOGEOS_ROOT_SHADOW" ]] ||
	    dg_fatal "$(dg_node_path "$etc") still holds another root password"
	dg_log "root password: set in /etc/shadow"
}
