# DogeOS first boot: finding the DogeOS payload (chunter, the FiFo zone's
# base image, the FiFo package repository) outside the boot archive.
#
# The payload is the directory `dogeos/` at the root of the USB key's data
# partition or of the ISO, described by `dogeos/media.conf` (KEY='value'
# lines, see README.md). PXE nodes have no local media: they fetch
# media.conf and the files they need over HTTP from DOGEOS_MEDIA_URL into
# /opt/dogeos/media (persistent), checking SHA-256 sums from media.conf.

DG_MEDIA=''          # the payload directory (with DG_ROOT), once found
DG_MEDIA_URL=''      # set when the payload is fetched over HTTP
DG_MEDIA_MOUNTED=''  # a mount point we made, unmounted on exit
DG_MEDIA_NONE=''     # set once a search of local media found nothing
DG_MEDIA_MNT=$DG_ROOT/mnt/dogeos-media

# Where SmartOS or an operator may already have the media mounted.
DG_MEDIA_CANDIDATES='/mnt/usbkey/dogeos /mnt/dogeos-media/dogeos /usbkey/dogeos /cdrom/dogeos'

# dg_media_scan: mount each pcfs / hsfs partition read-only until one holds
# dogeos/media.conf (the way SmartOS's /lib/sdc/usb-key.sh finds its key:
# disklist(8) for the disks, fstyp(8) for the file system).
function dg_media_scan {
	typeset disk part dev fs
	command -v disklist >/dev/null 2>&1 || return 1
	mkdir -p "$DG_MEDIA_MNT" || return 1
	for disk in $(disklist -a 2>/dev/null); do
		for part in p1 p2 p3 p4 s0 s1 s2 s3 s4 s5 s6; do
			dev=$DG_ROOT/dev/dsk/$disk$part
			[[ -e $dev ]] || continue
			fs=$(fstyp "$dev" 2>/dev/null) || continue
			case $fs in
			pcfs | hsfs) ;;
			*) continue ;;
			esac
			dg_run mount -F "$fs" -o ro "$dev" "$DG_MEDIA_MNT" || continue
			if [[ -f $DG_MEDIA_MNT/dogeos/media.conf ]]; then
				DG_MEDIA_MOUNTED=$DG_MEDIA_MNT
				DG_MEDIA=$DG_MEDIA_MNT/dogeos
				return 0
			fi
			dg_run umount "$DG_MEDIA_MNT"
		done
	done
	return 1
}

function dg_media_unmount {
	if [[ -n $DG_MEDIA_MOUNTED ]]; then
		dg_run umount "$DG_MEDIA_MOUNTED"
		DG_MEDIA_MOUNTED=''
	fi
}

# dg_fetch URL DEST: download with curl(1) into DEST (atomically).
function dg_fetch {
	mkdir -p "${2%/*}" || return 1
	rm -f "$2.part"
	dg_log "fetch $1"
	# Bounded: give up on a transfer slower than 1 KiB/s for a minute.
	if curl -fsS --retry 3 --connect-timeout 20 --speed-limit 1024 --speed-time 60 \
	    -o "$2.part" "$1" >>"$DG_LOG" 2>&1; then
		mv -f "$2.part" "$2"
	else
		rm -f "$2.part"
		return 1
	fi
}

# dg_media_find any|local: locate the payload and load media.conf; 1 when
# there is none. "local" skips the HTTP source (before SmartOS setup there
# is no persistent place to cache it).
function dg_media_find {
	typeset c cache
	[[ -z $DG_MEDIA ]] || return 0
	# A fruitless search of local media (mounting partitions) is not redone.
	if [[ -n $DG_MEDIA_NONE ]] && [[ $1 == local || -z $DOGEOS_MEDIA_URL ]]; then
		return 1
	fi
	if [[ -n $DOGEOS_MEDIA ]]; then
		[[ -f $DG_ROOT$DOGEOS_MEDIA/media.conf ]] || return 1
		DG_MEDIA=$DG_ROOT$DOGEOS_MEDIA
	elif [[ -n $DOGEOS_MEDIA_URL ]]; then
		[[ $1 != local ]] || return 1
		cache=$DG_STATE_DIR/media
		if ! dg_fetch "${DOGEOS_MEDIA_URL%/}/media.conf" "$cache/media.conf"; then
			[[ -f $cache/media.conf ]] || return 1
			dg_log "warning: cannot fetch media.conf, using the cached copy"
		fi
		DG_MEDIA=$cache
		DG_MEDIA_URL=${DOGEOS_MEDIA_URL%/}
	else
		for c in $DG_MEDIA_CANDIDATES; do
			if [[ -f $DG_ROOT$c/media.conf ]]; then
				DG_MEDIA=$DG_ROOT$c
				break
			fi
		done
		if [[ -z $DG_MEDIA ]] && ! dg_media_scan; then
			DG_MEDIA_NONE=1
			return 1
		fi
	fi
	dg_log "media: $(dg_node_path "$DG_MEDIA")${DG_MEDIA_URL:+ (from $DG_MEDIA_URL)}"
	dg_media_load
}

# dg_media_require WHAT: like dg_media_find, but a missing payload ends the
# run (naming DOGEOS_MEDIA when the operator pointed at the wrong place).
function dg_media_require {
	dg_media_find any && return 0
	if [[ -n $DOGEOS_MEDIA ]]; then
		dg_bad DOGEOS_MEDIA "holds no media.conf (needed for $1)"
	elif [[ -n $DOGEOS_MEDIA_URL ]]; then
		dg_fatal "cannot fetch ${DOGEOS_MEDIA_URL%/}/media.conf (needed for $1)"
	fi
	dg_fatal "no DogeOS media found (needed for $1): looked in $DG_MEDIA_CANDIDATES and on pcfs/hsfs disks"
}

function dg_media_bad {
	dg_fatal "$(dg_node_path "$DG_MEDIA")/media.conf: $*"
}

function dg_is_rel_path {
	case $1 in
	'' | /* | ../* | */../* | */.. | .. | *//*) return 1 ;;
	*[!A-Za-z0-9._/+-]*) return 1 ;;
	esac
	return 0
}

function dg_is_sha256 {
	case $1 in
	*[!0-9a-f]*) return 1 ;;
	esac
	((${#1} == 64))
}

function dg_is_uuid {
	case $1 in
	[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]-[0-9a-f][0-9a-f][0-9a-f][0-9a-f]-[0-9a-f][0-9a-f][0-9a-f][0-9a-f]-[0-9a-f][0-9a-f][0-9a-f][0-9a-f]-[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f])
		return 0 ;;
	esac
	return 1
}

function dg_media_load {
	typeset k v
	dg_kv_parse "$DG_MEDIA/media.conf" media || dg_fatal "$DG_PARSE_ERROR"
	[[ $MEDIA_MEDIA_FORMAT == 1 ]] ||
	    dg_media_bad "MEDIA_FORMAT='$MEDIA_MEDIA_FORMAT' is not a format this platform reads (1)"
	for k in CHUNTER_FILE ZLOGIN_FILE IMAGE_MANIFEST IMAGE_FILE PKG_REPO; do
		eval "v=\$MEDIA_$k"
		[[ -z $v ]] || dg_is_rel_path "$v" ||
		    dg_media_bad "$k='$v' is not a relative path inside the media"
	done
	for k in CHUNTER_SHA256 ZLOGIN_SHA256 IMAGE_SHA256; do
		eval "v=\$MEDIA_$k"
		[[ -z $v ]] || dg_is_sha256 "$v" ||
		    dg_media_bad "$k is not 64 lowercase hex digits"
	done
	if [[ -n $MEDIA_CHUNTER_FILE ]] && ! dg_semver_valid "$MEDIA_CHUNTER_VERSION"; then
		dg_media_bad "CHUNTER_VERSION='$MEDIA_CHUNTER_VERSION' is not a version"
	fi
	if [[ -n $MEDIA_ZLOGIN_FILE ]] && ! dg_semver_valid "$MEDIA_ZLOGIN_VERSION"; then
		dg_media_bad "ZLOGIN_VERSION='$MEDIA_ZLOGIN_VERSION' is not a version"
	fi
	dg_is_pkg_list "$MEDIA_FIFO_PACKAGES" ||
	    dg_media_bad "FIFO_PACKAGES='$MEDIA_FIFO_PACKAGES' is not a list of package names"
	if [[ -n $MEDIA_IMAGE_UUID ]] && ! dg_is_uuid "$MEDIA_IMAGE_UUID"; then
		dg_media_bad "IMAGE_UUID='$MEDIA_IMAGE_UUID' is not a lowercase UUID"
	fi
	return 0
}

# dg_media_file KEY [SHA256]: the local path of the media file named by
# MEDIA_KEY (fetched first on PXE), checked against SHA256 when given; the
# path is left in DG_FILE.
function dg_media_file {
	typeset key=$1 sum=$2 rel got
	eval "rel=\$MEDIA_$key"
	[[ -n $rel ]] || dg_media_bad "$key is not set"
	DG_FILE=$DG_MEDIA/$rel
	if [[ -n $DG_MEDIA_URL ]]; then
		if [[ -f $DG_FILE && -n $sum ]] && [[ $(dg_sha256 "$DG_FILE") == "$sum" ]]; then
			return 0
		fi
		dg_fetch "$DG_MEDIA_URL/$rel" "$DG_FILE" ||
		    dg_fatal "cannot fetch $DG_MEDIA_URL/$rel"
	fi
	[[ -f $DG_FILE ]] || dg_fatal "$(dg_node_path "$DG_FILE") is missing from the media"
	if [[ -n $sum ]]; then
		got=$(dg_sha256 "$DG_FILE") || dg_fatal "cannot checksum $(dg_node_path "$DG_FILE")"
		[[ $got == "$sum" ]] ||
		    dg_fatal "$(dg_node_path "$DG_FILE"): SHA-256 $got, media.conf says $sum"
	fi
	return 0
}

# dg_media_unpack KEY SHA256 DIR TOP VERSION FILE...: the media's KEY file
# (checked against SHA256), a gzip'd tar with top directory TOP/, extracted
# into DIR.dogeos-new.tmp/TOP, each FILE (relative to TOP) present and
# VERSION recorded in TOP/.dogeos-version. The caller may adjust the tree,
# then dg_media_unpacked DIR TOP moves it to DIR.dogeos-new.
function dg_media_unpack {
	typeset key=$1 sum=$2 new=$3.dogeos-new top=$4 version=$5 f
	shift 5
	dg_media_file "$key" "$sum"
	rm -rf "$new" "$new.tmp" || return 1
	mkdir -p "$new.tmp" || return 1
	dg_log "unpack $(dg_node_path "$DG_FILE")"
	# illumos tar has no -z and wants its key letters bare; 'o' gives the
	# files to the extracting user (GNU tar reads the same old-style keys).
	if ! (cd "$new.tmp" && gzip -dc "$DG_FILE" | tar xof -) >>"$DG_LOG" 2>&1; then
		rm -rf "$new.tmp"
		dg_fatal "cannot unpack $(dg_node_path "$DG_FILE")"
	fi
	[[ -d $new.tmp/$top ]] ||
	    dg_fatal "$(dg_node_path "$DG_FILE") has no top directory $top/"
	for f; do
		[[ -f $new.tmp/$top/$f ]] ||
		    dg_fatal "$(dg_node_path "$DG_FILE") lacks $top/$f"
	done
	printf '%s\n' "$version" >"$new.tmp/$top/.dogeos-version"
}

# dg_media_unpacked DIR TOP: dg_media_unpack's tree to DIR.dogeos-new.
function dg_media_unpacked {
	mv "$1.dogeos-new.tmp/$2" "$1.dogeos-new" && rmdir "$1.dogeos-new.tmp"
}

# dg_backup_name DIR VERSION: the first free DIR.old-VERSION[.N].
function dg_backup_name {
	typeset base=$1.old-$2 n=1 name
	name=$base
	while [[ -e $name ]]; do
		name=$base.$n
		((n += 1))
	done
	printf '%s' "$name"
}

# dg_swap_in NAME DIR FMRI HAVE WANT: DIR.dogeos-new into DIR. An installed
# version HAVE (empty: none) is stopped first (when FMRI is known) and kept
# as DIR.old-HAVE[.N].
function dg_swap_in {
	typeset name=$1 dir=$2 fmri=$3 have=$4 want=$5 old
	if [[ -n $have ]]; then
		if svcs -H -o state "$fmri" >/dev/null 2>&1; then
			dg_run svcadm disable -s "$fmri" ||
			    dg_fatal "cannot stop $name for the upgrade"
		fi
		old=$(dg_backup_name "$dir" "$have")
		mv "$dir" "$old" || dg_fatal "cannot move the old $name aside"
		dg_log "kept $name $have as $(dg_node_path "$old")"
	fi
	mv "$dir.dogeos-new" "$dir" || dg_fatal "cannot move $name $want into place"
}

# dg_smf_install SRC NAME: SRC/NAME.xml copied to /opt/custom/smf, where
# SmartOS imports it at boot, and imported now.
function dg_smf_install {
	mkdir -p "$DG_CUSTOM_SMF" || dg_fatal "cannot create $(dg_node_path "$DG_CUSTOM_SMF")"
	cp "$1/$2.xml" "$DG_CUSTOM_SMF/$2.xml" ||
	    dg_fatal "cannot copy $2.xml to $(dg_node_path "$DG_CUSTOM_SMF")"
	dg_run svccfg import "$DG_CUSTOM_SMF/$2.xml" ||
	    dg_fatal "svccfg import $2.xml failed"
}

# dg_smf_ensure FMRI NAME: FMRI known (imported from /opt/custom/smf/NAME.xml
# when the ramdisk's SMF repository lost it) and enabled.
function dg_smf_ensure {
	typeset fmri=$1 name=$2
	if ! svcs -H -o state "$fmri" >/dev/null 2>&1; then
		[[ -f $DG_CUSTOM_SMF/$name.xml ]] ||
		    dg_fatal "$fmri is unknown and $(dg_node_path "$DG_CUSTOM_SMF")/$name.xml is missing"
		dg_run svccfg import "$DG_CUSTOM_SMF/$name.xml" ||
		    dg_fatal "svccfg import $name.xml failed"
	fi
	dg_run svcadm enable "$fmri" || dg_fatal "svcadm enable $fmri failed"
}

# dg_svc_wait FMRI [NAME]: poll the global zone's FMRI until online, at most
# DOGEOS_READY_TRIES times DOGEOS_READY_SLEEP s apart; maintenance fails at
# once. NAME, when given, is what the messages call it.
function dg_svc_wait {
	typeset fmri=$1 name=${2:-$1} n=0 state late
	if [[ -n $2 ]]; then late="$name not online: $fmri still"; else late="$fmri not online: still"; fi
	while :; do
		((n += 1))
		state=$(svcs -H -o state "$fmri" 2>/dev/null </dev/null) || state=unknown
		[[ $state != online ]] || return 0
		[[ $state != maintenance ]] ||
		    dg_fatal "$name is in maintenance (see svcs -xv $fmri)"
		((n < DOGEOS_READY_TRIES)) ||
		    dg_fatal "$late '${state:-unknown}' after $n polls ${DOGEOS_READY_SLEEP}s apart"
		sleep "$DOGEOS_READY_SLEEP"
	done
}
