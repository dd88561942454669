# DogeOS first boot: semantic-version comparison in portable shell.
# Follows semver.org 2.0.0 precedence (section 11): numeric core fields,
# then a release outranks its pre-releases, then pre-release identifiers
# left to right (numeric < alphanumeric, numbers by value, text in ASCII
# order, a shorter list first). Build metadata (+...) is ignored. Lenient
# where the operator is: a leading "v" and a missing ".z" / ".y.z" are
# accepted (1.2 == 1.2.0). Results go to the global DG_CMP (-1, 0, 1) so
# no subshell is needed.

# dg_semver_valid VERSION: 0 when VERSION parses.
function dg_semver_valid {
	typeset v=${1#v} core pre='' build='' field n=0
	[[ -n $v ]] || return 1
	if [[ $v == *+* ]]; then
		build=${v#*+}
		v=${v%%+*}
		dg_semver_idents_ok "$build" || return 1
	fi
	if [[ $v == *-* ]]; then
		pre=${v#*-}
		v=${v%%-*}
		dg_semver_idents_ok "$pre" || return 1
	fi
	core=$v
	[[ -n $core ]] || return 1
	while :; do
		field=${core%%.*}
		((n += 1))
		case $field in
		'' | *[!0-9]*) return 1 ;;
		esac
		[[ $core == *.* ]] || break
		core=${core#*.}
	done
	((n <= 3))
}

# Dot-separated identifiers of [0-9A-Za-z-], none empty.
function dg_semver_idents_ok {
	typeset s=$1 id
	[[ -n $s ]] || return 1
	while :; do
		id=${s%%.*}
		case $id in
		'' | *[!0-9A-Za-z-]*) return 1 ;;
		esac
		[[ $s == *.* ]] || return 0
		s=${s#*.}
	done
}

# dg_num_cmp A B: compare unsigned decimal strings of any length.
function dg_num_cmp {
	typeset a=$1 b=$2
	while ((${#a} > 1)) && [[ $a == 0* ]]; do a=${a#0}; done
	while ((${#b} > 1)) && [[ $b == 0* ]]; do b=${b#0}; done
	if ((${#a} != ${#b})); then
		if ((${#a} < ${#b})); then DG_CMP=-1; else DG_CMP=1; fi
	elif [[ $a == "$b" ]]; then
		DG_CMP=0
	elif [[ $a < $b ]]; then
		DG_CMP=-1
	else
		DG_CMP=1
	fi
}

# dg_core_cmp A B: dotted numeric cores, missing fields count as 0.
function dg_core_cmp {
	typeset a=$1 b=$2 x y
	DG_CMP=0
	while [[ -n $a || -n $b ]]; do
		x=${a%%.*}
		y=${b%%.*}
		[[ -n $x ]] || x=0
		[[ -n $y ]] || y=0
		dg_num_cmp "$x" "$y"
		((DG_CMP == 0)) || return 0
		if [[ $a == *.* ]]; then a=${a#*.}; else a=''; fi
		if [[ $b == *.* ]]; then b=${b#*.}; else b=''; fi
	done
}

# dg_pre_cmp A B: pre-release identifier lists (both non-empty).
function dg_pre_cmp {
	typeset a=$1 b=$2 x y xnum ynum
	while :; do
		if [[ -z $a && -z $b ]]; then DG_CMP=0; return 0; fi
		if [[ -z $a ]]; then DG_CMP=-1; return 0; fi
		if [[ -z $b ]]; then DG_CMP=1; return 0; fi
		x=${a%%.*}
		y=${b%%.*}
		xnum=1 ynum=1
		case $x in *[!0-9]*) xnum=0 ;; esac
		case $y in *[!0-9]*) ynum=0 ;; esac
		if ((xnum && ynum)); then
			dg_num_cmp "$x" "$y"
		elif ((xnum)); then
			DG_CMP=-1
		elif ((ynum)); then
			DG_CMP=1
		elif [[ $x == "$y" ]]; then
			DG_CMP=0
		elif [[ $x < $y ]]; then
			DG_CMP=-1
		else
			DG_CMP=1
		fi
		((DG_CMP == 0)) || return 0
		if [[ $a == *.* ]]; then a=${a#*.}; else a=''; fi
		if [[ $b == *.* ]]; then b=${b#*.}; else b=''; fi
	done
}

# dg_semver_cmp A B: sets DG_CMP to -1, 0 or 1. Both must be valid.
function dg_semver_cmp {
	typeset a=${1#v} b=${2#v} apre='' bpre=''
	a=${a%%+*}
	b=${b%%+*}
	if [[ $a == *-* ]]; then apre=${a#*-}; a=${a%%-*}; fi
	if [[ $b == *-* ]]; then bpre=${b#*-}; b=${b%%-*}; fi
	dg_core_cmp "$a" "$b"
	((DG_CMP == 0)) || return 0
	if [[ -z $apre && -z $bpre ]]; then
		DG_CMP=0
	elif [[ -z $apre ]]; then
		DG_CMP=1
	elif [[ -z $bpre ]]; then
		DG_CMP=-1
	else
		dg_pre_cmp "$apre" "$bpre"
	fi
}
