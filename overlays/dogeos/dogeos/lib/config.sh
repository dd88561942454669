# DogeOS first boot: reading and validating configuration.
#
# Files are KEY='value' lines, as the compose stage renders them (values
# escaped for single-quoted shell: ' becomes '\''). They are PARSED here,
# never sourced or eval'd as text: a line that is not a comment, blank, or
# KEY='value' with a known KEY is rejected. Every key, its default and its
# validation are documented in overlays/dogeos/README.md; keep them in step.

DG_CONF_KEYS='DOGEOS_ROLE DOGEOS_MEDIA DOGEOS_MEDIA_URL DOGEOS_ANSWERS_TARGET
DOGEOS_READY_TRIES DOGEOS_READY_SLEEP DOGEOS_READY_TCP
DOGEOS_FIFO_ZONE_ALIAS DOGEOS_FIFO_NIC_TAG DOGEOS_FIFO_VLAN_ID DOGEOS_FIFO_IP
DOGEOS_FIFO_NETMASK DOGEOS_FIFO_GATEWAY DOGEOS_FIFO_RESOLVERS
DOGEOS_FIFO_MEMORY_MB DOGEOS_FIFO_QUOTA_GB DOGEOS_FIFO_PACKAGES
DOGEOS_FIFO_ORG DOGEOS_FIFO_ADMIN_USER DOGEOS_FIFO_ADMIN_PASSWORD
DOGEOS_SNARL_PORT DOGEOS_SNIFFLE_PORT DOGEOS_HOWL_PORT
DOGEOS_WIGGLE_HTTP_PORT DOGEOS_WIGGLE_HTTPS_PORT DOGEOS_HTTP_PORT
DOGEOS_HTTPS_PORT DOGEOS_ROOT_SHADOW'

# Keys of the media description (dogeos/media.conf on the media), stored as
# MEDIA_<KEY>. Unknown keys there are ignored so older scripts can read
# newer media.
DG_MEDIA_KEYS='MEDIA_FORMAT DOGEOS_VERSION CHUNTER_VERSION CHUNTER_FILE
CHUNTER_SHA256 ZLOGIN_VERSION ZLOGIN_FILE ZLOGIN_SHA256 IMAGE_UUID IMAGE_MANIFEST IMAGE_FILE IMAGE_SHA256 PKG_REPO
FIFO_PACKAGES FIFO_VERSION'

# Defaults; values in the environment are deliberately ignored (SMF gives
# the method a clean environment; tests must not leak settings in).
function dg_conf_defaults {
	typeset k
	for k in $DG_CONF_KEYS; do
		eval "$k=''; DG_SRC_$k='default'"
	done
	DOGEOS_ANSWERS_TARGET='/usbkey/private/answers.json'
	DOGEOS_READY_TRIES='120'
	DOGEOS_READY_SLEEP='5'
	DOGEOS_READY_TCP='yes'
	DOGEOS_FIFO_ZONE_ALIAS='fifo'
	DOGEOS_FIFO_NIC_TAG='admin'
	DOGEOS_FIFO_MEMORY_MB='3072'
	DOGEOS_FIFO_QUOTA_GB='40'
	DOGEOS_FIFO_ORG='DogeOS'
	DOGEOS_FIFO_ADMIN_USER='admin'
	DOGEOS_SNARL_PORT='4200'
	DOGEOS_SNIFFLE_PORT='4210'
	DOGEOS_HOWL_PORT='4240'
	DOGEOS_WIGGLE_HTTP_PORT='8080'
	DOGEOS_WIGGLE_HTTPS_PORT='8443'
	DOGEOS_HTTP_PORT='80'
	DOGEOS_HTTPS_PORT='443'
	for k in $DG_MEDIA_KEYS; do
		eval "MEDIA_$k=''"
	done
}

# dg_kv_parse FILE KIND: KIND is "conf" (keys of DG_CONF_KEYS, unknown keys
# are errors) or "media" (DG_MEDIA_KEYS stored as MEDIA_*, unknown ignored).
# On a malformed line sets DG_PARSE_ERROR and returns 1.
function dg_kv_parse {
	typeset file=$1 kind=$2 shown line key raw val rest n=0 trimmed
	typeset keys
	shown=$(dg_node_path "$file")
	DG_PARSE_ERROR=''
	if [[ $kind == media ]]; then keys=$DG_MEDIA_KEYS; else keys=$DG_CONF_KEYS; fi
	keys=" ${keys//$DG_NL/ } "
	while IFS= read -r line || [[ -n $line ]]; do
		((n += 1))
		# The USB key's copy may have been edited on Windows.
		line=${line%$'\r'}
		trimmed=$line
		while [[ $trimmed == [\ \	]* ]]; do trimmed=${trimmed#?}; done
		case $trimmed in
		'' | '#'*) continue ;;
		esac
		key=${line%%=*}
		case $key in
		"$line" | '' | [!A-Z]* | *[!A-Z0-9_]*)
			DG_PARSE_ERROR="$shown line $n: not a KEY='value' line"
			return 1
			;;
		esac
		raw=${line#*=}
		case $raw in
		"'"*"'") ;;
		*)
			DG_PARSE_ERROR="$shown line $n: the value of $key must be in single quotes"
			return 1
			;;
		esac
		raw=${raw#"'"}
		raw=${raw%"'"}
		# Undo the only escape single-quoted shell has: '\'' for a quote.
		val=''
		while [[ $raw == *"'"* ]]; do
			rest=${raw#*"'"}
			case $rest in
			"\\''"*) ;;
			*)
				DG_PARSE_ERROR="$shown line $n: stray quote in the value of $key"
				return 1
				;;
			esac
			val="$val${raw%%"'"*}'"
			raw=${rest#"\\''"}
		done
		val=$val$raw
		if [[ $kind == media ]]; then
			case $keys in
			*" $key "*) eval "MEDIA_$key=\$val" ;;
			*) dg_log "note: $shown line $n: unknown media key $key ignored" ;;
			esac
		else
			case $keys in
			*" $key "*) ;;
			*)
				DG_PARSE_ERROR="$shown line $n: unknown setting $key"
				return 1
				;;
			esac
			eval "$key=\$val; DG_SRC_$key=\"\$shown line \$n\""
		fi
	done <"$file"
	return 0
}

# dg_conf_load_file FILE: parse one configuration file or die (config error).
function dg_conf_load_file {
	[[ -f $1 ]] || return 0
	dg_kv_parse "$1" conf || dg_config_error "$DG_PARSE_ERROR"
	dg_log "read $(dg_node_path "$1")"
}

# --- value checks ------------------------------------------------------

function dg_is_uint {
	case $1 in
	'' | *[!0-9]*) return 1 ;;
	0) return 0 ;;
	0*) return 1 ;;
	esac
	((${#1} <= 9))
}

function dg_is_ipv4 {
	typeset s=$1 o n=0
	case $s in
	*[!0-9.]* | .* | *. | *..*) return 1 ;;
	esac
	while :; do
		o=${s%%.*}
		((n += 1))
		dg_is_uint "$o" || return 1
		((o <= 255)) || return 1
		[[ $s == *.* ]] || break
		s=${s#*.}
	done
	((n == 4))
}

function dg_ipv4_to_int {
	typeset s=$1 o v=0
	while :; do
		o=${s%%.*}
		((v = v * 256 + o))
		[[ $s == *.* ]] || break
		s=${s#*.}
	done
	printf '%s' "$v"
}

function dg_is_netmask {
	typeset v inv
	dg_is_ipv4 "$1" || return 1
	v=$(dg_ipv4_to_int "$1")
	((v != 0)) || return 1
	# Contiguous ones: the inverted mask plus one is a power of two.
	((inv = 4294967295 - v))
	(((inv & (inv + 1)) == 0))
}

function dg_is_name {
	case $1 in
	'' | *[!A-Za-z0-9._-]* | [.-]*) return 1 ;;
	esac
	((${#1} <= 64))
}

function dg_is_abs_path {
	case $1 in
	/*) ;;
	*) return 1 ;;
	esac
	case $1 in
	*[!A-Za-z0-9._/-]* | */../* | */.. | *//*) return 1 ;;
	esac
	return 0
}

function dg_is_url {
	case $1 in
	http://?* | https://?*) ;;
	*) return 1 ;;
	esac
	case $1 in
	*[!A-Za-z0-9._~:/?#@!\$\&\(\)*+,\;=%-]*) return 1 ;;
	esac
	return 0
}

# dg_is_pkg_list LIST: package names separated by spaces; no character a
# shell would glob or split on otherwise, so the list may be expanded bare.
function dg_is_pkg_list {
	case " $1 " in
	*[!A-Za-z0-9._+\ -]* | *" -"*) return 1 ;;
	esac
	return 0
}

# dg_is_sha512_crypt HASH: a crypt(3) SHA-512 hash as /etc/shadow holds it:
# $6$[rounds=N$]<salt: 1-16 of [./0-9A-Za-z]>$<hash: 86 of the same>.
function dg_is_sha512_crypt {
	typeset s=$1 r salt
	# shellcheck disable=SC2016 # a literal $6$
	case $s in
	'$6$'*) s=${s#'$6$'} ;;
	*) return 1 ;;
	esac
	case $s in
	rounds=*'$'*)
		r=${s%%'$'*}
		dg_is_uint "${r#rounds=}" || return 1
		s=${s#*'$'}
		;;
	esac
	[[ $s == *'$'* ]] || return 1
	salt=${s%%'$'*}
	s=${s#*'$'}
	case $salt in
	'' | *[!./0-9A-Za-z]*) return 1 ;;
	esac
	case $s in
	*[!./0-9A-Za-z]*) return 1 ;;
	esac
	((${#salt} <= 16 && ${#s} == 86))
}

# dg_bad KEY WHY: config error naming the key, its value and where it was set.
function dg_bad {
	typeset key=$1 why=$2 val src
	eval "val=\${$key}; src=\${DG_SRC_$key}"
	# Secrets are named, never shown.
	if [[ $key == DOGEOS_FIFO_ADMIN_PASSWORD || $key == DOGEOS_ROOT_SHADOW ]]; then
		dg_config_error "$key (from $src): $why"
	fi
	dg_config_error "$key='$val' (from $src): $why"
}

function dg_check_range {
	typeset key=$1 min=$2 max=$3 val
	eval "val=\${$key}"
	if ! dg_is_uint "$val" || ((val < min || val > max)); then
		dg_bad "$key" "must be a whole number from $min to $max"
	fi
}

# dg_conf_validate: check every setting; the first bad one ends the run.
function dg_conf_validate {
	case $DOGEOS_ROLE in
	hypervisor | head) ;;
	'') dg_bad DOGEOS_ROLE "is required: 'hypervisor' or 'head'" ;;
	*) dg_bad DOGEOS_ROLE "must be 'hypervisor' or 'head'" ;;
	esac
	if [[ -n $DOGEOS_MEDIA ]] && ! dg_is_abs_path "$DOGEOS_MEDIA"; then
		dg_bad DOGEOS_MEDIA "must be an absolute path of [A-Za-z0-9._/-]"
	fi
	if [[ -n $DOGEOS_MEDIA_URL ]] && ! dg_is_url "$DOGEOS_MEDIA_URL"; then
		dg_bad DOGEOS_MEDIA_URL "must be an http:// or https:// URL without spaces or quotes"
	fi
	dg_is_abs_path "$DOGEOS_ANSWERS_TARGET" ||
	    dg_bad DOGEOS_ANSWERS_TARGET "must be an absolute path"
	dg_check_range DOGEOS_READY_TRIES 1 100000
	dg_check_range DOGEOS_READY_SLEEP 0 3600
	case $DOGEOS_READY_TCP in
	yes | no) ;;
	*) dg_bad DOGEOS_READY_TCP "must be 'yes' or 'no'" ;;
	esac
	if [[ -n $DOGEOS_ROOT_SHADOW ]] && ! dg_is_sha512_crypt "$DOGEOS_ROOT_SHADOW"; then
		dg_bad DOGEOS_ROOT_SHADOW "must be a crypt(3) SHA-512 hash '\$6\$salt\$hash' (never a plain password)"
	fi
	dg_conf_validate_zone
	dg_conf_validate_ports
	if [[ $DOGEOS_ROLE == head ]]; then
		[[ -n $DOGEOS_FIFO_IP ]] ||
		    dg_bad DOGEOS_FIFO_IP "is required on a head node: an IPv4 address or 'dhcp'"
		if [[ $DOGEOS_FIFO_IP != dhcp && -z $DOGEOS_FIFO_NETMASK ]]; then
			dg_bad DOGEOS_FIFO_NETMASK "is required with a static DOGEOS_FIFO_IP"
		fi
	fi
	# No FiFo secret travels on the media: the head node makes its own.
	if [[ -n $DOGEOS_FIFO_ADMIN_PASSWORD ]]; then
		dg_bad DOGEOS_FIFO_ADMIN_PASSWORD "is not accepted: the head node makes the FiFo admin password itself at first boot (root only, /usbkey/dogeos/fifo-admin-password); remove the setting"
	fi
	return 0
}

# The FiFo zone's settings, checked on every node (a typo is a typo).
function dg_conf_validate_zone {
	typeset r
	dg_is_name "$DOGEOS_FIFO_ZONE_ALIAS" ||
	    dg_bad DOGEOS_FIFO_ZONE_ALIAS "must be 1-64 characters of [A-Za-z0-9._-]"
	case $DOGEOS_FIFO_NIC_TAG in
	'' | *[!A-Za-z0-9_]*) dg_bad DOGEOS_FIFO_NIC_TAG "must be a NIC tag name of [A-Za-z0-9_]" ;;
	esac
	[[ -z $DOGEOS_FIFO_VLAN_ID ]] || dg_check_range DOGEOS_FIFO_VLAN_ID 1 4094
	case $DOGEOS_FIFO_IP in
	'' | dhcp) ;;
	*) dg_is_ipv4 "$DOGEOS_FIFO_IP" ||
	    dg_bad DOGEOS_FIFO_IP "must be an IPv4 address or 'dhcp'" ;;
	esac
	if [[ -n $DOGEOS_FIFO_NETMASK ]] && ! dg_is_netmask "$DOGEOS_FIFO_NETMASK"; then
		dg_bad DOGEOS_FIFO_NETMASK "must be a dotted netmask such as 255.255.255.0"
	fi
	if [[ -n $DOGEOS_FIFO_GATEWAY ]] && ! dg_is_ipv4 "$DOGEOS_FIFO_GATEWAY"; then
		dg_bad DOGEOS_FIFO_GATEWAY "must be an IPv4 address"
	fi
	r=$DOGEOS_FIFO_RESOLVERS
	case $r in
	,* | *, | *,,*) dg_bad DOGEOS_FIFO_RESOLVERS "must be IPv4 addresses separated by commas" ;;
	esac
	while [[ -n $r ]]; do
		dg_is_ipv4 "${r%%,*}" ||
		    dg_bad DOGEOS_FIFO_RESOLVERS "must be IPv4 addresses separated by commas"
		if [[ $r == *,* ]]; then r=${r#*,}; else r=''; fi
	done
	dg_check_range DOGEOS_FIFO_MEMORY_MB 1024 1048576
	dg_check_range DOGEOS_FIFO_QUOTA_GB 10 100000
	dg_is_pkg_list "$DOGEOS_FIFO_PACKAGES" ||
	    dg_bad DOGEOS_FIFO_PACKAGES "must be package names of [A-Za-z0-9._+-] separated by spaces"
	dg_is_name "$DOGEOS_FIFO_ORG" ||
	    dg_bad DOGEOS_FIFO_ORG "must be 1-64 characters of [A-Za-z0-9._-]"
	dg_is_name "$DOGEOS_FIFO_ADMIN_USER" ||
	    dg_bad DOGEOS_FIFO_ADMIN_USER "must be 1-64 characters of [A-Za-z0-9._-]"
}

# The FiFo ports: valid, and no two services (nor epmd) on one port.
function dg_conf_validate_ports {
	typeset k v seen
	seen=' 4369 '
	for k in DOGEOS_SNARL_PORT DOGEOS_SNIFFLE_PORT DOGEOS_HOWL_PORT \
	    DOGEOS_WIGGLE_HTTP_PORT DOGEOS_WIGGLE_HTTPS_PORT DOGEOS_HTTP_PORT \
	    DOGEOS_HTTPS_PORT; do
		dg_check_range "$k" 1 65535
		eval "v=\${$k}"
		case $seen in
		*" $v "*) dg_bad "$k" "clashes with another FiFo port (or epmd's 4369)" ;;
		esac
		seen="$seen$v "
	done
}
