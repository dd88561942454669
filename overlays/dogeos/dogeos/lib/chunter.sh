# DogeOS first boot: chunter, FiFo's hypervisor agent, in /opt/chunter.
#
# Installed from the media when absent, upgraded when the media carry a
# newer version (the old tree is kept as /opt/chunter.old-<version>), never
# updated online. The archive on the media is a gzip'd tar whose top
# directory is `chunter/`; its SMF manifests are share/epmd.xml and
# share/chunter.xml (as chunter's own installer ships them). They are
# copied to /opt/custom/smf, which SmartOS imports at every boot, and
# imported now.

DG_CHUNTER_FMRI='svc:/network/chunter:default'
DG_CHUNTER_SMF='epmd chunter'

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
	typeset new=$DG_CHUNTER_DIR.dogeos-new s
	dg_media_file CHUNTER_FILE "$MEDIA_CHUNTER_SHA256"
	rm -rf "$new" "$new.tmp" || return 1
	mkdir -p "$new.tmp" || return 1
	dg_log "unpack $(dg_node_path "$DG_FILE")"
	# illumos tar has no -z and wants its key letters bare; 'o' gives the
	# files to the extracting user (GNU tar reads the same old-style keys).
	if ! (cd "$new.tmp" && gzip -dc "$DG_FILE" | tar xof -) >>"$DG_LOG" 2>&1; then
		rm -rf "$new.tmp"
		dg_fatal "cannot unpack $(dg_node_path "$DG_FILE")"
	fi
	[[ -d $new.tmp/chunter ]] ||
	    dg_fatal "$(dg_node_path "$DG_FILE") has no top directory chunter/"
	for s in $DG_CHUNTER_SMF; do
		[[ -f $new.tmp/chunter/share/$s.xml ]] ||
		    dg_fatal "$(dg_node_path "$DG_FILE") lacks chunter/share/$s.xml"
	done
	printf '%s\n' "$MEDIA_CHUNTER_VERSION" >"$new.tmp/chunter/.dogeos-version" || return 1
	# As chunter's own installer does: a configuration from the example.
	s=$new.tmp/chunter/etc/chunter.conf
	if [[ ! -f $s && -f $s.example ]]; then
		cp "$s.example" "$s" || return 1
	fi
	mv "$new.tmp/chunter" "$new" && rmdir "$new.tmp"
}

# dg_chunter_smf_install: copy the manifests where SmartOS imports them at
# boot, and import them now.
function dg_chunter_smf_install {
	typeset s
	mkdir -p "$DG_CUSTOM_SMF" || dg_fatal "cannot create $(dg_node_path "$DG_CUSTOM_SMF")"
	for s in $DG_CHUNTER_SMF; do
		cp "$DG_CHUNTER_DIR/share/$s.xml" "$DG_CUSTOM_SMF/$s.xml" ||
		    dg_fatal "cannot copy $s.xml to $(dg_node_path "$DG_CUSTOM_SMF")"
		dg_run svccfg import "$DG_CUSTOM_SMF/$s.xml" ||
		    dg_fatal "svccfg import $s.xml failed"
	done
}

# dg_chunter_backup_name VERSION: the first free /opt/chunter.old-VERSION[.N].
function dg_chunter_backup_name {
	typeset base=$DG_CHUNTER_DIR.old-$1 n=1 name
	name=$base
	while [[ -e $name ]]; do
		name=$base.$n
		((n += 1))
	done
	printf '%s' "$name"
}

# Step (every boot): install, or upgrade from newer media, or nothing.
function dg_step_chunter {
	typeset have want old
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
		mv "$DG_CHUNTER_DIR.dogeos-new" "$DG_CHUNTER_DIR" ||
		    dg_fatal "cannot move chunter into place"
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
	if svcs -H -o state "$DG_CHUNTER_FMRI" >/dev/null 2>&1; then
		dg_run svcadm disable -s "$DG_CHUNTER_FMRI" ||
		    dg_fatal "cannot stop chunter for the upgrade"
	fi
	old=$(dg_chunter_backup_name "$have")
	mv "$DG_CHUNTER_DIR" "$old" || dg_fatal "cannot move the old chunter aside"
	dg_log "kept chunter $have as $(dg_node_path "$old")"
	mv "$DG_CHUNTER_DIR.dogeos-new" "$DG_CHUNTER_DIR" ||
	    dg_fatal "cannot move chunter $want into place"
	dg_chunter_smf_install
}

# Step (every boot): the SMF repository lives on the ramdisk, so make sure
# epmd and chunter are known and enabled. chunter is not waited for: it may
# depend on milestones that wait for us.
function dg_step_chunter_services {
	typeset s fmri
	for s in $DG_CHUNTER_SMF; do
		fmri=svc:/network/$s:default
		if ! svcs -H -o state "$fmri" >/dev/null 2>&1; then
			[[ -f $DG_CUSTOM_SMF/$s.xml ]] ||
			    dg_fatal "$fmri is unknown and $(dg_node_path "$DG_CUSTOM_SMF")/$s.xml is missing"
			dg_run svccfg import "$DG_CUSTOM_SMF/$s.xml" ||
			    dg_fatal "svccfg import $s.xml failed"
		fi
		dg_run svcadm enable "$fmri" || dg_fatal "svcadm enable $fmri failed"
	done
}
