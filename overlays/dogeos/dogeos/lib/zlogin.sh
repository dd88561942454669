# DogeOS first boot: fifo_zlogin in /opt/fifo_zlogin, the service chunter
# 0.7.1 and later require (their share/chunter.xml depends on
# svc:/fifo/zlogin:default and svc:/network/epmd:default). FiFo ships it as
# a separate artifact; it is installed before chunter, the way its own
# installer does (project-fifo/fifo-zlogin rel/pkg/install.sh@0.7.2): the
# tree unpacked into /opt, /var/log/fifo_zlogin made, share/epmd.xml and
# share/fifo_zlogin.xml copied to /opt/custom/smf (imported by SmartOS at
# every boot) and imported now. Upgraded like chunter when the media carry
# a newer version (the old tree kept as /opt/fifo_zlogin.old-<version>).

DG_ZLOGIN_DIR=$DG_ROOT/opt/fifo_zlogin
DG_ZLOGIN_LOG_DIR=$DG_ROOT/var/log/fifo_zlogin
DG_ZLOGIN_FMRI='svc:/fifo/zlogin:default'
# Its manifests, in its installer's order (fifo_zlogin.xml requires epmd).
DG_ZLOGIN_SMF='epmd fifo_zlogin'

# dg_zlogin_fmri NAME: the service a manifest of DG_ZLOGIN_SMF defines.
function dg_zlogin_fmri {
	case $1 in
	epmd) printf 'svc:/network/epmd:default' ;;
	*) printf '%s' "$DG_ZLOGIN_FMRI" ;;
	esac
}

# dg_zlogin_unpack: extract the media's fifo_zlogin into /opt/fifo_zlogin.dogeos-new.
function dg_zlogin_unpack {
	typeset s
	set --
	for s in $DG_ZLOGIN_SMF; do
		set -- "$@" "share/$s.xml"
	done
	dg_media_unpack ZLOGIN_FILE "$MEDIA_ZLOGIN_SHA256" "$DG_ZLOGIN_DIR" fifo_zlogin "$MEDIA_ZLOGIN_VERSION" "$@" || return 1
	dg_media_unpacked "$DG_ZLOGIN_DIR" fifo_zlogin
}

# dg_zlogin_smf_install: as its installer does, the log directory, then
# the manifests into /opt/custom/smf, each imported.
function dg_zlogin_smf_install {
	typeset s
	mkdir -p "$DG_ZLOGIN_LOG_DIR" || dg_fatal "cannot create $(dg_node_path "$DG_ZLOGIN_LOG_DIR")"
	for s in $DG_ZLOGIN_SMF; do
		dg_smf_install "$DG_ZLOGIN_DIR/share" "$s"
	done
}

# Step (every boot): install from the media when absent, upgrade when they
# carry a newer version, else nothing. Media without fifo_zlogin: chunter
# 0.7.0 and older need none (the build refuses a chunter that does).
function dg_step_zlogin {
	typeset have want
	have=$(dg_chunter_version "$DG_ZLOGIN_DIR")
	if ! dg_media_find any; then
		dg_log "fifo_zlogin ${have:-not installed}; no media to compare with"
		return 0
	fi
	want=$MEDIA_ZLOGIN_VERSION
	if [[ -z $MEDIA_ZLOGIN_FILE ]]; then
		dg_log "the media carry no fifo_zlogin${have:+; keeping $have}"
		return 0
	fi
	if [[ $have == unknown ]]; then
		dg_log "warning: $(dg_node_path "$DG_ZLOGIN_DIR") has no version DogeOS can read; leaving it alone"
		return 0
	fi
	if [[ -n $have ]]; then
		dg_semver_cmp "$want" "$have"
		if ((DG_CMP <= 0)); then
			dg_log "fifo_zlogin $have installed; media carry $want: nothing to do"
			return 0
		fi
		dg_log "upgrading fifo_zlogin $have to $want"
	else
		dg_log "installing fifo_zlogin $want"
	fi
	dg_zlogin_unpack || dg_fatal "cannot prepare fifo_zlogin $want"
	dg_swap_in fifo_zlogin "$DG_ZLOGIN_DIR" "$DG_ZLOGIN_FMRI" "$have" "$want"
	dg_zlogin_smf_install
}

# Step (every boot): the SMF repository lives on the ramdisk, so make sure
# epmd and fifo_zlogin are known and enabled (their manifests create the
# default instance enabled; enabling again is harmless).
function dg_step_zlogin_services {
	typeset s
	[[ -d $DG_ZLOGIN_DIR ]] || return 0
	for s in $DG_ZLOGIN_SMF; do
		dg_smf_ensure "$(dg_zlogin_fmri "$s")" "$s"
	done
}

# dg_zlogin_check_provided: a chunter whose manifest requires fifo_zlogin
# (lbivens/chunter:share/chunter.xml, 0.7.1 and later) on a node without it
# fails with what to do, before its services are looked for.
function dg_zlogin_check_provided {
	[[ ! -d $DG_ZLOGIN_DIR ]] || return 0
	grep -q "svc:/fifo/zlogin" "$DG_CHUNTER_DIR/share/chunter.xml" 2>/dev/null || return 0
	dg_fatal "chunter requires $DG_ZLOGIN_FMRI, but fifo_zlogin is not installed and the media carry none (build with fifo.zlogin)"
}

# Step (every boot), after chunter is enabled and before its own check:
# epmd and fifo_zlogin, which chunter requires, are online. A chunter that
# requires fifo_zlogin on a node without it fails here, not by timing out.
function dg_step_zlogin_ready {
	typeset s
	dg_zlogin_check_provided
	[[ -d $DG_ZLOGIN_DIR ]] || return 0
	for s in $DG_ZLOGIN_SMF; do
		dg_svc_wait "$(dg_zlogin_fmri "$s")"
	done
	dg_log "fifo_zlogin $(dg_chunter_version "$DG_ZLOGIN_DIR") online (svc:/network/epmd:default, $DG_ZLOGIN_FMRI)"
}
