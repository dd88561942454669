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
	typeset new=$DG_ZLOGIN_DIR.dogeos-new s
	dg_media_file ZLOGIN_FILE "$MEDIA_ZLOGIN_SHA256"
	rm -rf "$new" "$new.tmp" || return 1
	mkdir -p "$new.tmp" || return 1
	dg_log "unpack $(dg_node_path "$DG_FILE")"
	if ! (cd "$new.tmp" && gzip -dc "$DG_FILE" | tar xof -) >>"$DG_LOG" 2>&1; then
		rm -rf "$new.tmp"
		dg_fatal "cannot unpack $(dg_node_path "$DG_FILE")"
	fi
	[[ -d $new.tmp/fifo_zlogin ]] ||
	    dg_fatal "$(dg_node_path "$DG_FILE") has no top directory fifo_zlogin/"
	for s in $DG_ZLOGIN_SMF; do
		[[ -f $new.tmp/fifo_zlogin/share/$s.xml ]] ||
		    dg_fatal "$(dg_node_path "$DG_FILE") lacks fifo_zlogin/share/$s.xml"
	done
	printf '%s\n' "$MEDIA_ZLOGIN_VERSION" >"$new.tmp/fifo_zlogin/.dogeos-version" || return 1
	mv "$new.tmp/fifo_zlogin" "$new" && rmdir "$new.tmp"
}

# dg_zlogin_smf_install: as its installer does, the log directory, then
# the manifests into /opt/custom/smf, each imported.
function dg_zlogin_smf_install {
	typeset s
	mkdir -p "$DG_ZLOGIN_LOG_DIR" || dg_fatal "cannot create $(dg_node_path "$DG_ZLOGIN_LOG_DIR")"
	mkdir -p "$DG_CUSTOM_SMF" || dg_fatal "cannot create $(dg_node_path "$DG_CUSTOM_SMF")"
	for s in $DG_ZLOGIN_SMF; do
		cp "$DG_ZLOGIN_DIR/share/$s.xml" "$DG_CUSTOM_SMF/$s.xml" ||
		    dg_fatal "cannot copy $s.xml to $(dg_node_path "$DG_CUSTOM_SMF")"
		dg_run svccfg import "$DG_CUSTOM_SMF/$s.xml" ||
		    dg_fatal "svccfg import $s.xml failed"
	done
}

# Step (every boot): install from the media when absent, upgrade when they
# carry a newer version, else nothing. Media without fifo_zlogin: chunter
# 0.7.0 and older need none (the build refuses a chunter that does).
function dg_step_zlogin {
	typeset have want old
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
	if [[ -n $have ]]; then
		if svcs -H -o state "$DG_ZLOGIN_FMRI" >/dev/null 2>&1; then
			dg_run svcadm disable -s "$DG_ZLOGIN_FMRI" ||
			    dg_fatal "cannot stop fifo_zlogin for the upgrade"
		fi
		old=$(dg_backup_name "$DG_ZLOGIN_DIR" "$have")
		mv "$DG_ZLOGIN_DIR" "$old" || dg_fatal "cannot move the old fifo_zlogin aside"
		dg_log "kept fifo_zlogin $have as $(dg_node_path "$old")"
	fi
	mv "$DG_ZLOGIN_DIR.dogeos-new" "$DG_ZLOGIN_DIR" ||
	    dg_fatal "cannot move fifo_zlogin $want into place"
	dg_zlogin_smf_install
}

# Step (every boot): the SMF repository lives on the ramdisk, so make sure
# epmd and fifo_zlogin are known and enabled (their manifests create the
# default instance enabled; enabling again is harmless).
function dg_step_zlogin_services {
	typeset s fmri
	[[ -d $DG_ZLOGIN_DIR ]] || return 0
	for s in $DG_ZLOGIN_SMF; do
		fmri=$(dg_zlogin_fmri "$s")
		if ! svcs -H -o state "$fmri" >/dev/null 2>&1; then
			[[ -f $DG_CUSTOM_SMF/$s.xml ]] ||
			    dg_fatal "$fmri is unknown and $(dg_node_path "$DG_CUSTOM_SMF")/$s.xml is missing"
			dg_run svccfg import "$DG_CUSTOM_SMF/$s.xml" ||
			    dg_fatal "svccfg import $s.xml failed"
		fi
		dg_run svcadm enable "$fmri" || dg_fatal "svcadm enable $fmri failed"
	done
}

# dg_svc_wait FMRI: poll the global zone's FMRI until online, at most
# DOGEOS_READY_TRIES times DOGEOS_READY_SLEEP s apart; maintenance fails
# at once.
function dg_svc_wait {
	typeset fmri=$1 n=0 state
	while :; do
		((n += 1))
		state=$(svcs -H -o state "$fmri" 2>/dev/null </dev/null) || state=unknown
		[[ $state != online ]] || return 0
		[[ $state != maintenance ]] ||
		    dg_fatal "$fmri is in maintenance (see svcs -xv $fmri)"
		((n < DOGEOS_READY_TRIES)) ||
		    dg_fatal "$fmri not online: still '${state:-unknown}' after $n polls ${DOGEOS_READY_SLEEP}s apart"
		sleep "$DOGEOS_READY_SLEEP"
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
