# DogeOS first boot: chunter, FiFo's hypervisor agent, in /opt/chunter.
#
# Installed from the media when absent, upgraded when the media carry a
# newer version (the old tree is kept as /opt/chunter.old-<version>), never
# updated online. The archive on the media is a gzip'd tar whose top
# directory is `chunter/`; its SMF manifests are share/chunter.xml and,
# up to 0.7.0, share/epmd.xml (as chunter's own installer ships them).
# They are copied to /opt/custom/smf, which SmartOS imports at every boot,
# and imported now. chunter 0.7.1 and later require fifo_zlogin
# (lib/zlogin.sh), installed before it.

DG_CHUNTER_FMRI='svc:/network/chunter:default'
# Its manifests: share/chunter.xml always, share/epmd.xml when it ships one
# (0.7.0 and older; later ones take epmd from fifo_zlogin, lib/zlogin.sh).
DG_CHUNTER_SMF='epmd chunter'
DG_CHUNTER_LOG_DIR=$DG_ROOT/var/log/chunter
DG_IMGADM_DIR=$DG_ROOT/var/imgadm
DG_ADMIN_IP=''

# dg_chunter_version DIR: the version of the chunter tree in DIR: our own
# record (.dogeos-version), else the Erlang release's start_erl.data
# ("ERTS_VSN REL_VSN"); empty when DIR is absent, "unknown" otherwise.
function dg_chunter_version {
	typeset dir=$1 v=''
	[[ -d $dir ]] || return 0
	if [[ -f $dir/.dogeos-version ]]; then
		v=$(sed -n 1p "$dir/.dogeos-version")
	elif [[ -f $dir/releases/start_erl.data ]]; then
		v=$(sed -n '1s/^[^ ]* \([^ ]*\).*/\1/p' "$dir/releases/start_erl.data")
	fi
	if [[ -n $v ]] && dg_semver_valid "$v"; then
		printf '%s' "$v"
	else
		printf 'unknown'
	fi
}

# dg_chunter_unpack: extract the media's chunter into /opt/chunter.dogeos-new.
function dg_chunter_unpack {
	typeset s=$DG_CHUNTER_DIR.dogeos-new.tmp/chunter/etc/chunter.conf
	dg_media_unpack CHUNTER_FILE "$MEDIA_CHUNTER_SHA256" "$DG_CHUNTER_DIR" chunter "$MEDIA_CHUNTER_VERSION" share/chunter.xml || return 1
	# As chunter's own installer does: a configuration from the example.
	if [[ ! -f $s && -f $s.example ]]; then
		cp "$s.example" "$s" || return 1
	fi
	dg_media_unpacked "$DG_CHUNTER_DIR" chunter
}

# dg_chunter_smf_install: copy the manifests where SmartOS imports them at
# boot, and import them now.
function dg_chunter_smf_install {
	typeset s
	for s in $DG_CHUNTER_SMF; do
		# epmd.xml only from a chunter that ships it; else fifo_zlogin's stays.
		[[ $s == chunter || -f $DG_CHUNTER_DIR/share/$s.xml ]] || continue
		dg_smf_install "$DG_CHUNTER_DIR/share" "$s"
	done
}

# Step (every boot): install, or upgrade from newer media, or nothing.
function dg_step_chunter {
	typeset have want
	have=$(dg_chunter_version "$DG_CHUNTER_DIR")
	if ! dg_media_find any; then
		[[ -n $have ]] || dg_media_require "installing chunter"
		dg_log "chunter $have installed; no media to compare with"
		return 0
	fi
	want=$MEDIA_CHUNTER_VERSION
	if [[ -z $MEDIA_CHUNTER_FILE ]]; then
		[[ -n $have ]] || dg_media_bad "CHUNTER_FILE is not set"
		dg_log "the media carry no chunter; keeping $have"
		return 0
	fi
	if [[ -z $have ]]; then
		dg_log "installing chunter $want"
		dg_chunter_unpack || dg_fatal "cannot prepare chunter $want"
		dg_swap_in chunter "$DG_CHUNTER_DIR" "$DG_CHUNTER_FMRI" '' "$want"
		dg_chunter_smf_install
		return 0
	fi
	if [[ $have == unknown ]]; then
		dg_log "warning: $(dg_node_path "$DG_CHUNTER_DIR") has no version DogeOS can read; leaving it alone"
		return 0
	fi
	dg_semver_cmp "$want" "$have"
	if ((DG_CMP <= 0)); then
		dg_log "chunter $have installed; media carry $want: nothing to do"
		return 0
	fi
	dg_log "upgrading chunter $have to $want"
	dg_chunter_unpack || dg_fatal "cannot prepare chunter $want"
	# Keep the node's chunter configuration across the upgrade.
	if [[ -f $DG_CHUNTER_DIR/etc/chunter.conf ]]; then
		if ! mkdir -p "$DG_CHUNTER_DIR.dogeos-new/etc" ||
		    ! cp -p "$DG_CHUNTER_DIR/etc/chunter.conf" "$DG_CHUNTER_DIR.dogeos-new/etc/chunter.conf"; then
			dg_fatal "cannot carry chunter.conf over"
		fi
	fi
	dg_swap_in chunter "$DG_CHUNTER_DIR" "$DG_CHUNTER_FMRI" "$have" "$want"
	dg_chunter_smf_install
}

# dg_addr_of LINK: the first IPv4 address on LINK (ipadm's ADDROBJ LINK/...).
function dg_addr_of {
	# shellcheck disable=SC2016 # an awk program
	ipadm show-addr -o ADDROBJ,ADDR 2>/dev/null </dev/null | "$DG_AWK" -v l="$1" '
	    index($1, l "/") == 1 { sub(/\/.*/, "", $2); print $2; exit }'
}

# dg_mac_norm MAC: lowercase, no leading zeros per octet (dladm prints
# 0:c:29:..., /usbkey/config admin_nic may say 00:0c:29:...).
function dg_mac_norm {
	printf '%s\n' "$1" | tr 'A-F' 'a-f' | sed -e 's/^0\([0-9a-f]\)/\1/' -e 's/:0\([0-9a-f]\)/:\1/g'
}

# dg_admin_ip: DG_ADMIN_IP, the address chunter must announce, found as
# chunter's own installer (rel/pkg/install.sh) finds it: the fifo0 vnic's
# address if there is one, else that of the link whose MAC is
# /usbkey/config's admin_nic (or admin_nic itself when it names an aggr).
# Polled (a DHCP lease may still be on its way), at most DOGEOS_READY_TRIES.
function dg_admin_ip {
	typeset nic mac link addr n=0
	[[ -z $DG_ADMIN_IP ]] || return 0
	nic=$(sed -n 's/^admin_nic=//p' "$DG_USBKEY_CONFIG" 2>/dev/null | sed -n 1p)
	while :; do
		((n += 1))
		addr=$(dg_addr_of fifo0)
		if [[ -z $addr && -n $nic ]]; then
			case $nic in
			aggr*) link=$nic ;;
			*)
				mac=$(dg_mac_norm "$nic")
				# shellcheck disable=SC2016 # an awk program
				link=$(dladm show-phys -m -o LINK,ADDRESS 2>/dev/null </dev/null | while read -r l a; do
					[[ $(dg_mac_norm "$a") != "$mac" ]] || { printf '%s\n' "$l"; break; }
				done)
				;;
			esac
			[[ -z $link ]] || addr=$(dg_addr_of "$link")
		fi
		if [[ -n $addr ]] && dg_is_ipv4 "$addr"; then
			DG_ADMIN_IP=$addr
			return 0
		fi
		((n < DOGEOS_READY_TRIES)) ||
		    dg_fatal "no admin address for chunter to announce: no fifo0 vnic and no IPv4 address on the link of admin_nic '${nic:-unset}' ($(dg_node_path "$DG_USBKEY_CONFIG")) after $n tries"
		sleep "$DOGEOS_READY_SLEEP"
	done
}

# Step (every boot): chunter configured as its own installer does
# (project-fifo chunter rel/pkg/install.sh): /var/log/chunter exists,
# imgadm is initialised when /var/imgadm is missing, and chunter.conf's
# `ip = 127.0.0.1:4200` is replaced by the admin address, so chunter does
# not register with FiFo as 127.0.0.1. An address set on purpose is kept
# if the node has it; one it does not have is an error.
function dg_step_chunter_config {
	typeset conf=$DG_CHUNTER_DIR/etc/chunter.conf cur host port
	mkdir -p "$DG_CHUNTER_LOG_DIR" || dg_fatal "cannot create $(dg_node_path "$DG_CHUNTER_LOG_DIR")"
	if [[ ! -d $DG_IMGADM_DIR ]]; then
		# Offline media: imgadm may have no source to reach; what chunter
		# needs is the directory imgadm would make.
		dg_run imgadm update ||
		    dg_log "warning: imgadm update failed (no image source reachable?); creating $(dg_node_path "$DG_IMGADM_DIR")/images"
	fi
	mkdir -p "$DG_IMGADM_DIR/images" || dg_fatal "cannot create $(dg_node_path "$DG_IMGADM_DIR")/images"
	if [[ ! -f $conf ]]; then
		[[ -f $conf.example ]] || dg_fatal "$(dg_node_path "$conf").example is missing"
		cp "$conf.example" "$conf" || dg_fatal "cannot create $(dg_node_path "$conf")"
	fi
	dg_admin_ip
	cur=$(sed -n 's/^ip[[:space:]]*=[[:space:]]*//p' "$conf" | sed -n 1p)
	host=${cur%:*}
	port=${cur##*:}
	[[ $cur == *:* && -n $port ]] || port=4200
	case $host in
	'' | 127.0.0.1)
		# shellcheck disable=SC2016 # an awk program
		if ! "$DG_AWK" -v line="ip = $DG_ADMIN_IP:$port" '
		    /^ip[ \t]*=/ { if (!done) print line; done = 1; next }
		    { print }
		    END { if (!done) print line }' "$conf" >"$conf.dogeos-new" ||
		    ! mv "$conf.dogeos-new" "$conf"; then
			dg_fatal "cannot write $(dg_node_path "$conf")"
		fi
		dg_log "chunter.conf: ip = $DG_ADMIN_IP:$port (was '${cur:-unset}')"
		;;
	"$DG_ADMIN_IP") ;;
	*)
		ipadm show-addr -o ADDROBJ,ADDR 2>/dev/null </dev/null | grep -q "[[:space:]]$host/" ||
		    dg_fatal "$(dg_node_path "$conf") announces $host, an address this node does not have (admin address: $DG_ADMIN_IP)"
		dg_log "chunter.conf announces $host (set on purpose; the admin address is $DG_ADMIN_IP)"
		;;
	esac
}

# Step (every boot), after chunter is enabled: it comes online and its
# configuration announces an address of this node; said on the console.
# chunter's own commands (/opt/chunter/bin/chunter) report no address, so
# its configuration is what is checked. The build made sure chunter.xml
# depends on nothing that waits for us (no milestone/multi-user).
function dg_step_chunter_announce {
	typeset conf=$DG_CHUNTER_DIR/etc/chunter.conf ip
	dg_svc_wait "$DG_CHUNTER_FMRI" chunter
	dg_admin_ip
	ip=$(sed -n 's/^ip[[:space:]]*=[[:space:]]*//p' "$conf" | sed -n 1p)
	[[ -n $ip && ${ip%:*} != 127.0.0.1 ]] ||
	    dg_fatal "chunter announces '${ip:-nothing}', not this node's address"
	dg_log "chunter online, announcing $ip"
	dg_console "chunter announces $ip to FiFo (admin address $DG_ADMIN_IP)"
}

# Step (every boot): the SMF repository lives on the ramdisk, so make sure
# epmd and chunter are known and enabled (then dg_step_chunter_announce).
function dg_step_chunter_services {
	typeset s
	# epmd comes from fifo_zlogin for a chunter that needs it (lib/zlogin.sh).
	dg_zlogin_check_provided
	for s in $DG_CHUNTER_SMF; do
		dg_smf_ensure "svc:/network/$s:default" "$s"
	done
}
