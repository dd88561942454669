# DogeOS first boot: the FiFo zone on the head node.
#
# A joyent-brand zone from the media's base image, with a delegated dataset
# on /data (where FiFo keeps its state), the FiFo packages installed with
# pkgin from the media's repository, configured for the zone's IP and the
# DogeOS ports, its services enabled and waited for, an admin user made,
# and the URL shown on the console and in /etc/motd.
#
# The package repository reaches the zone without Internet: the global zone
# lofs-mounts the media's repository directory read-only into the running
# zone (/opt/dogeos-repo) for the duration of the install, and pkgin reads
# it as a file:// repository. The mount is not in the zone's configuration,
# so the zone boots later without the media. PXE nodes have no local
# repository: the zone reads DOGEOS_MEDIA_URL/<PKG_REPO> over HTTP.
#
# What is installed, enabled and waited for depends on the FiFo release the
# payload carries (media.conf FIFO_VERSION): share/fifo-versions.

DG_ZONE_UUID=''
DG_ZONE_ROOT=''
DG_FIFO_IP=''
DG_FIFO_RELEASE=''
DG_FIFO_PASSWORD=''
DG_ZONE_REPO=/opt/dogeos-repo
DG_SHARE=${DG_LIB%/lib}/share
DG_FIFO_VERSIONS=$DG_SHARE/fifo-versions
# The FiFo admin password the head node makes itself (never on the media).
DG_FIFO_PASSWORD_FILE=$DG_ROOT/usbkey/dogeos/fifo-admin-password

# dg_fifo_release: DG_FIFO_RELEASE, the release the zone was built with,
# remembered in /opt/dogeos/fifo.release (later boots need no media, and
# newer media do not change what the zone has installed); the first time,
# the media's FIFO_VERSION, which must be a release share/fifo-versions
# describes (the build checks the same).
function dg_fifo_release {
	typeset known rec=$DG_STATE_DIR/fifo.release
	[[ -z $DG_FIFO_RELEASE ]] || return 0
	if [[ -f $rec ]]; then
		DG_FIFO_RELEASE=$(sed -n 1p "$rec")
		# shellcheck disable=SC2016 # an awk program
		"$DG_AWK" -v v="$DG_FIFO_RELEASE" '$1 == v { f = 1 } END { exit f ? 0 : 1 }' "$DG_FIFO_VERSIONS" ||
		    dg_fatal "$(dg_node_path "$rec") names FiFo '$DG_FIFO_RELEASE', a release this DogeOS does not know"
		return 0
	fi
	dg_media_require "the FiFo release"
	[[ -n $MEDIA_FIFO_VERSION ]] || dg_media_bad "FIFO_VERSION is not set"
	# shellcheck disable=SC2016 # awk programs
	known=$("$DG_AWK" '$1 !~ /^#/ && NF > 1 { print $1 }' "$DG_FIFO_VERSIONS" | sort -u | tr '\n' ' ')
	# shellcheck disable=SC2016
	if ! "$DG_AWK" -v v="$MEDIA_FIFO_VERSION" '$1 == v { f = 1 } END { exit f ? 0 : 1 }' "$DG_FIFO_VERSIONS"; then
		dg_media_bad "FIFO_VERSION '$MEDIA_FIFO_VERSION' is not a FiFo release this DogeOS knows (known: ${known% })"
	fi
	DG_FIFO_RELEASE=$MEDIA_FIFO_VERSION
	if ! mkdir -p "$DG_STATE_DIR" || ! printf '%s\n' "$DG_FIFO_RELEASE" >"$rec.tmp" || ! mv "$rec.tmp" "$rec"; then
		dg_fatal "cannot write $(dg_node_path "$rec")"
	fi
}

# dg_fifo_table KIND: the fields after KIND of the release's KIND lines,
# {TOKENS} replaced (dg_subst).
function dg_fifo_table {
	dg_fifo_release
	# shellcheck disable=SC2016 # an awk program
	"$DG_AWK" -v v="$DG_FIFO_RELEASE" -v k="$1" '
	    $1 == v && $2 == k {
		out = $3
		for (i = 4; i <= NF; i++) out = out " " $i
		print out
	    }' "$DG_FIFO_VERSIONS" | dg_subst
}

# The zone's services of the release, in start order: name, FMRI, ports.
function dg_fifo_services {
	dg_fifo_table service
}

# dg_zone_lookup: DG_ZONE_UUID of the zone with our alias, or empty.
function dg_zone_lookup {
	typeset out n
	out=$(vmadm lookup "alias=$DOGEOS_FIFO_ZONE_ALIAS" 2>/dev/null) || out=''
	n=$(printf '%s\n' "$out" | grep -c .)
	if ((n > 1)); then
		dg_fatal "more than one zone has alias $DOGEOS_FIFO_ZONE_ALIAS"
	fi
	DG_ZONE_UUID=$out
	DG_ZONE_ROOT=''
	[[ -z $out ]] || DG_ZONE_ROOT=$DG_ZONES/$out/root
}

# dg_zone_require: the zone exists, is running and has reached multi-user.
function dg_zone_require {
	typeset state
	[[ -n $DG_ZONE_UUID ]] || dg_zone_lookup
	[[ -n $DG_ZONE_UUID ]] ||
	    dg_fatal "the FiFo zone (alias $DOGEOS_FIFO_ZONE_ALIAS) does not exist"
	[[ -z $DG_ZONE_UP ]] || return 0
	state=$(vmadm list -H -o state "uuid=$DG_ZONE_UUID" 2>/dev/null)
	if [[ $state != running ]]; then
		dg_run vmadm start "$DG_ZONE_UUID" || dg_fatal "cannot start the FiFo zone"
	fi
	dg_wait_svc zone svc:/milestone/multi-user:default
	DG_ZONE_UP=1
}

# dg_wait_svc NAME FMRI: poll the zone's SMF until FMRI is online, at most
# DOGEOS_READY_TRIES times DOGEOS_READY_SLEEP seconds apart.
function dg_wait_svc {
	typeset name=$1 fmri=$2 n=0 state=''
	while :; do
		((n += 1))
		state=$(svcs -z "$DG_ZONE_UUID" -H -o state "$fmri" </dev/null 2>/dev/null) || state='unknown'
		[[ -n $state ]] || state='unknown'
		[[ $state != online ]] || return 0
		if [[ $state == maintenance ]]; then
			dg_fatal "$name not ready: $fmri is in maintenance (see svcs -z $DG_ZONE_UUID -xv $fmri)"
		fi
		if ((n >= DOGEOS_READY_TRIES)); then
			dg_fatal "$name not ready: $fmri still '$state' after $n polls ${DOGEOS_READY_SLEEP}s apart (DOGEOS_READY_TRIES=$DOGEOS_READY_TRIES, DOGEOS_READY_SLEEP=$DOGEOS_READY_SLEEP)"
		fi
		sleep "$DOGEOS_READY_SLEEP"
	done
}

# dg_wait_tcp NAME PORTS: poll until the zone accepts TCP connections on
# each of the comma-separated PORTS ('-': none).
function dg_wait_tcp {
	typeset name=$1 ports=$2 port n
	[[ $DOGEOS_READY_TCP == yes && $ports != - ]] || return 0
	while [[ -n $ports ]]; do
		port=${ports%%,*}
		if [[ $ports == *,* ]]; then ports=${ports#*,}; else ports=''; fi
		n=0
		while :; do
			((n += 1))
			nc -z -w 2 "$DG_FIFO_IP" "$port" </dev/null >/dev/null 2>&1 && break
			if ((n >= DOGEOS_READY_TRIES)); then
				dg_fatal "$name not ready: nothing listens on $DG_FIFO_IP:$port after $n tries ${DOGEOS_READY_SLEEP}s apart (DOGEOS_READY_TRIES=$DOGEOS_READY_TRIES, DOGEOS_READY_SLEEP=$DOGEOS_READY_SLEEP)"
			fi
			sleep "$DOGEOS_READY_SLEEP"
		done
	done
}

# dg_fifo_ip: the zone's address: the configured one, else the one DHCP
# gave it (read from the zone, waited for), remembered in /opt/dogeos.
function dg_fifo_ip {
	typeset n=0 out
	[[ -z $DG_FIFO_IP ]] || return 0
	if [[ $DOGEOS_FIFO_IP != dhcp ]]; then
		DG_FIFO_IP=$DOGEOS_FIFO_IP
		return 0
	fi
	if [[ -f $DG_STATE_DIR/fifo.ip ]]; then
		DG_FIFO_IP=$(sed -n 1p "$DG_STATE_DIR/fifo.ip")
		return 0
	fi
	dg_zone_require
	while :; do
		((n += 1))
		out=$(zlogin "$DG_ZONE_UUID" /usr/sbin/ipadm show-addr -p -o addr 2>/dev/null |
		    sed -n 's;/.*;;p' | grep -v '^127\.' | grep -v ':' | sed -n 1p)
		if [[ -n $out ]] && dg_is_ipv4 "$out"; then
			DG_FIFO_IP=$out
			printf '%s\n' "$out" >"$DG_STATE_DIR/fifo.ip"
			return 0
		fi
		((n < DOGEOS_READY_TRIES)) ||
		    dg_fatal "the FiFo zone got no DHCP address after $n tries"
		sleep "$DOGEOS_READY_SLEEP"
	done
}

# dg_subst [FILE]: the template (or stdin) with {KEY} tokens replaced
# (values were validated to plain characters: sed needs no escaping).
function dg_subst {
	typeset resolvers='' r=$DOGEOS_FIFO_RESOLVERS nic=''
	while [[ -n $r ]]; do
		resolvers="$resolvers${resolvers:+, }\"${r%%,*}\""
		if [[ $r == *,* ]]; then r=${r#*,}; else r=''; fi
	done
	if [[ $DOGEOS_FIFO_IP != dhcp ]]; then
		nic=" \"netmask\": \"$DOGEOS_FIFO_NETMASK\","
		[[ -z $DOGEOS_FIFO_GATEWAY ]] ||
		    nic="$nic \"gateways\": [\"$DOGEOS_FIFO_GATEWAY\"],"
	fi
	[[ -z $DOGEOS_FIFO_VLAN_ID ]] || nic="$nic \"vlan_id\": $DOGEOS_FIFO_VLAN_ID,"
	sed -e "s/{ALIAS}/$DOGEOS_FIFO_ZONE_ALIAS/g" \
	    -e "s/{IMAGE_UUID}/$MEDIA_IMAGE_UUID/g" \
	    -e "s/{MEMORY_MB}/$DOGEOS_FIFO_MEMORY_MB/g" \
	    -e "s/{QUOTA_GB}/$DOGEOS_FIFO_QUOTA_GB/g" \
	    -e "s/{NIC_TAG}/$DOGEOS_FIFO_NIC_TAG/g" \
	    -e "s/{NIC_IP}/$DOGEOS_FIFO_IP/g" \
	    -e "s/{NIC_EXTRA}/$nic/g" \
	    -e "s/{RESOLVERS}/$resolvers/g" \
	    -e "s/{IP}/$DG_FIFO_IP/g" \
	    -e "s/{SNARL_PORT}/$DOGEOS_SNARL_PORT/g" \
	    -e "s/{SNIFFLE_PORT}/$DOGEOS_SNIFFLE_PORT/g" \
	    -e "s/{HOWL_PORT}/$DOGEOS_HOWL_PORT/g" \
	    -e "s/{WIGGLE_HTTP_PORT}/$DOGEOS_WIGGLE_HTTP_PORT/g" \
	    -e "s/{WIGGLE_HTTPS_PORT}/$DOGEOS_WIGGLE_HTTPS_PORT/g" \
	    -e "s/{HTTP_PORT}/$DOGEOS_HTTP_PORT/g" \
	    -e "s/{HTTPS_PORT}/$DOGEOS_HTTPS_PORT/g" \
	    ${1+"$1"}
}

# --- steps -------------------------------------------------------------

function dg_step_fifo_image {
	dg_media_require "the FiFo zone's base image"
	# A release we do not know stops here, before anything is installed.
	dg_fifo_release
	dg_is_uuid "$MEDIA_IMAGE_UUID" || dg_media_bad "IMAGE_UUID is not set"
	if imgadm get "$MEDIA_IMAGE_UUID" >/dev/null 2>&1; then
		dg_log "image $MEDIA_IMAGE_UUID already installed"
		return 0
	fi
	dg_media_file IMAGE_MANIFEST ''
	typeset manifest=$DG_FILE
	dg_media_file IMAGE_FILE "$MEDIA_IMAGE_SHA256"
	dg_run imgadm install -m "$manifest" -f "$DG_FILE" ||
	    dg_fatal "imgadm install of image $MEDIA_IMAGE_UUID failed"
}

function dg_step_fifo_zone {
	typeset json=$DG_STATE_DIR/fifo-zone.json
	dg_zone_lookup
	if [[ -n $DG_ZONE_UUID ]]; then
		dg_log "zone $DOGEOS_FIFO_ZONE_ALIAS exists: $DG_ZONE_UUID"
		return 0
	fi
	dg_media_require "the FiFo zone's base image"
	mkdir -p "$DG_STATE_DIR" || return 1
	if ! dg_subst "$DG_SHARE/fifo-zone.json" >"$json.tmp" || ! mv "$json.tmp" "$json"; then
		dg_fatal "cannot write $(dg_node_path "$json")"
	fi
	dg_run vmadm create -f "$json" || dg_fatal "vmadm create of the FiFo zone failed"
	dg_zone_lookup
	[[ -n $DG_ZONE_UUID ]] || dg_fatal "vmadm created no zone with alias $DOGEOS_FIFO_ZONE_ALIAS"
}

# FiFo keeps its data on the zone's delegated dataset, mounted on /data.
function dg_step_fifo_data {
	dg_zone_require
	dg_run zlogin "$DG_ZONE_UUID" /usr/sbin/zfs set mountpoint=/data "zones/$DG_ZONE_UUID/data" ||
	    dg_fatal "cannot mount the FiFo zone's delegated dataset on /data"
}

function dg_step_fifo_packages {
	typeset repo pkgs status=0 mnt
	dg_zone_require
	dg_media_require "the FiFo packages"
	[[ -n $MEDIA_PKG_REPO ]] || dg_media_bad "PKG_REPO is not set"
	pkgs=${DOGEOS_FIFO_PACKAGES:-$MEDIA_FIFO_PACKAGES}
	[[ -n $pkgs ]] || dg_media_bad "FIFO_PACKAGES is not set (and DOGEOS_FIFO_PACKAGES is empty)"
	mnt=$DG_ZONE_ROOT$DG_ZONE_REPO
	if [[ -n $DG_MEDIA_URL ]]; then
		repo=$DG_MEDIA_URL/$MEDIA_PKG_REPO
	else
		repo=file://$DG_ZONE_REPO
		[[ -d $DG_MEDIA/$MEDIA_PKG_REPO ]] ||
		    dg_fatal "$(dg_node_path "$DG_MEDIA/$MEDIA_PKG_REPO") is missing from the media"
		dg_run zlogin "$DG_ZONE_UUID" mkdir -p "$DG_ZONE_REPO" ||
		    dg_fatal "cannot create $DG_ZONE_REPO in the FiFo zone"
		if ! dg_is_mounted "$mnt"; then
			dg_run mount -F lofs -o ro "$DG_MEDIA/$MEDIA_PKG_REPO" "$mnt" ||
			    dg_fatal "cannot lofs-mount the package repository into the FiFo zone"
		fi
	fi
	mkdir -p "$DG_ZONE_ROOT/opt/local/etc/pkgin" &&
	    printf '%s\n' "$repo" >"$DG_ZONE_ROOT/opt/local/etc/pkgin/repositories.conf" ||
	    status=1
	if ((status == 0)); then
		dg_run zlogin "$DG_ZONE_UUID" /opt/local/bin/pkgin -y update || status=2
	fi
	if ((status == 0)); then
		# Package names were validated to [A-Za-z0-9._+-]: safe unquoted.
		# shellcheck disable=SC2086
		dg_run zlogin "$DG_ZONE_UUID" /opt/local/bin/pkgin -y install $pkgs || status=3
	fi
	[[ -n $DG_MEDIA_URL ]] || dg_run umount "$mnt" ||
	    dg_log "warning: cannot unmount $(dg_node_path "$mnt")"
	case $status in
	1) dg_fatal "cannot write the FiFo zone's pkgin repositories.conf" ;;
	2) dg_fatal "pkgin update from $repo failed in the FiFo zone" ;;
	3) dg_fatal "pkgin install $pkgs failed in the FiFo zone" ;;
	esac
	return 0
}

# dg_conf_set FILE KEY VALUE: replace "KEY = ..." in a cuttlefish file.
# Keys the packaged file lacks are not added (an unknown key stops the
# service), only reported.
function dg_conf_set {
	typeset file=$1 key=$2 value=$3 re
	re="^$(printf '%s' "$key" | sed 's/[.]/[.]/g')[[:space:]]*="
	if ! grep -q "$re" "$file"; then
		dg_log "warning: $(dg_node_path "$file") has no '$key' setting; left as packaged"
		return 0
	fi
	# shellcheck disable=SC2016 # an awk program
	"$DG_AWK" -v re="$re" -v line="$key = $value" '
	    $0 ~ re { print line; next }
	    { print }' "$file" >"$file.dogeos-new" && mv "$file.dogeos-new" "$file"
}

# Each FiFo service's configuration: /data/<svc>/etc/<svc>.conf (the
# package's own installer makes it from its example; made here if not),
# with the release's settings (share/fifo-versions). The packages make
# their own TLS certificate (fifo-howl: /data/fifo): nothing else to do.
function dg_step_fifo_config {
	typeset svc key value conf example
	dg_zone_require
	dg_fifo_ip
	while read -r svc key value; do
		[[ -n $svc ]] || continue
		conf=$DG_ZONE_ROOT/data/$svc/etc/$svc.conf
		example=$DG_ZONE_ROOT/opt/local/fifo-$svc/etc/$svc.conf.example
		if [[ ! -f $conf ]]; then
			[[ -f $example ]] ||
			    dg_fatal "neither $svc.conf nor $svc.conf.example found in the FiFo zone"
			if ! mkdir -p "${conf%/*}" || ! cp "$example" "$conf"; then
				dg_fatal "cannot create $(dg_node_path "$conf")"
			fi
		fi
		dg_conf_set "$conf" "$key" "$value" || dg_fatal "cannot edit $(dg_node_path "$conf")"
	done <<EOF
$(dg_fifo_table setting)
EOF
}

function dg_step_fifo_enable {
	typeset name fmri ports fmris=''
	dg_zone_require
	while read -r name fmri ports; do
		fmris="$fmris $fmri"
	done <<EOF
$(dg_fifo_services)
EOF
	# shellcheck disable=SC2086
	dg_run zlogin "$DG_ZONE_UUID" /usr/sbin/svcadm enable $fmris ||
	    dg_fatal "cannot enable the FiFo services"
}

# Every boot: FiFo is up (SMF online, then TCP) before we say done.
function dg_step_fifo_ready {
	typeset name fmri ports
	dg_zone_require
	dg_fifo_ip
	while read -r name fmri ports; do
		dg_wait_svc "$name" "$fmri"
		dg_wait_tcp "$name" "$ports"
		dg_log "$name ready"
	done <<EOF
$(dg_fifo_services)
EOF
}

# dg_fifo_password: DG_FIFO_PASSWORD, made once at random and kept in
# DG_FIFO_PASSWORD_FILE (root only, 0400): no FiFo secret is on any medium.
function dg_fifo_password {
	typeset f=$DG_FIFO_PASSWORD_FILE pw
	if [[ ! -s $f ]]; then
		pw=$(od -A n -N 18 -t x1 /dev/urandom | tr -d ' \n')
		((${#pw} == 36)) || dg_fatal "cannot read 18 random bytes from /dev/urandom"
		if ! mkdir -p "${f%/*}" || ! (umask 077 && printf '%s\n' "$pw" >"$f.tmp") ||
		    ! chmod 0400 "$f.tmp" || ! mv "$f.tmp" "$f"; then
			dg_fatal "cannot write $(dg_node_path "$f")"
		fi
		dg_log "made the FiFo admin password, kept in $(dg_node_path "$f")"
	fi
	DG_FIFO_PASSWORD=$(sed -n 1p "$f")
	[[ -n $DG_FIFO_PASSWORD ]] || dg_fatal "$(dg_node_path "$f") is empty"
}

# The admin user, by the release's admin command (FiFo 0.8.1: snarl-admin
# init REALM ORG ROLE USER PASSWORD; realm "default", role "Users"). The
# password is never logged.
function dg_step_fifo_admin {
	typeset line cmd form
	dg_zone_require
	line=$(dg_fifo_table admin)
	cmd=${line%% *}
	form=${line#* }
	[[ $form == init5 ]] ||
	    dg_fatal "unknown admin form '$form' in $(dg_node_path "$DG_FIFO_VERSIONS")"
	dg_fifo_password
	dg_run_quiet "zlogin $DG_ZONE_UUID $cmd init default $DOGEOS_FIFO_ORG Users $DOGEOS_FIFO_ADMIN_USER ********" \
	    zlogin "$DG_ZONE_UUID" "$cmd init default $DOGEOS_FIFO_ORG Users $DOGEOS_FIFO_ADMIN_USER $(dg_shquote "$DG_FIFO_PASSWORD")" ||
	    dg_fatal "cannot create the FiFo admin user"
}

# dg_fifo_url: DG_FIFO_URL, the web UI's address (the release's url port).
function dg_fifo_url {
	typeset port
	dg_fifo_ip
	port=$(dg_fifo_table url)
	if [[ $port == 443 ]]; then
		DG_FIFO_URL="https://$DG_FIFO_IP/"
	else
		DG_FIFO_URL="https://$DG_FIFO_IP:$port/"
	fi
}

# dg_fifo_login_line: how to log in, without the password itself.
function dg_fifo_login_line {
	printf 'FiFo web UI: %s (user %s, password in %s, root only)' \
	    "$DG_FIFO_URL" "$DOGEOS_FIFO_ADMIN_USER" "$(dg_node_path "$DG_FIFO_PASSWORD_FILE")"
}

# dg_fifo_announce: the URL, the user and where the password is, on the
# console, last (as the 2014 DogeOS users asked).
function dg_fifo_announce {
	dg_fifo_url
	dg_log "FiFo web UI: $DG_FIFO_URL"
	dg_console "$(dg_fifo_login_line)"
	dg_console "$DG_MARKER fifo $DG_FIFO_URL"
}

# Every boot: /etc/motd lives on the ramdisk. The DogeOS block is replaced,
# never appended twice.
function dg_step_fifo_motd {
	dg_fifo_url
	mkdir -p "${DG_MOTD%/*}" || return 1
	{
		# shellcheck disable=SC2016 # an awk program
		[[ ! -f $DG_MOTD ]] || "$DG_AWK" '
		    $0 == "-- DogeOS --" { skip = 1; next }
		    $0 == "-- end DogeOS --" { skip = 0; next }
		    !skip { print }' "$DG_MOTD"
		printf '%s\n' '-- DogeOS --' "$(dg_fifo_login_line)" '-- end DogeOS --'
	} >"$DG_MOTD.dogeos-new" && mv "$DG_MOTD.dogeos-new" "$DG_MOTD"
}
