# Known reference failures for the test runners (sourced; POSIX sh).
#
# vv_xfail_known SUMMARY KNOWN KEY_OF
#   Marks each "FAIL ID: ..." line of SUMMARY whose ID ends in .ref and is
#   listed in KNOWN ("KIND RESULT-PREFIX WHY" per line; KEY_OF, a function,
#   turns an ID into "KIND/RESULT" for the match) as "XFAIL ID: ...", and
#   prints each with the reason and our result for the same case.
vv_xfail_known() {
	_sum=$1 _known=$2 _key_of=$3
	_x=$(mktemp)
	while read -r _line; do
		_id=$(echo "$_line" | sed -n 's/^FAIL \([^:]*\):.*/\1/p')
		case $_id in *.ref) ;; *) continue ;; esac
		_key=$($_key_of "${_id%.ref}")
		_why=$(grep -v '^#' "$_known" 2>/dev/null | while read -r _kk _pre _rest; do
			case $_key in "$_kk/$_pre"*) echo "$_rest"; break ;; esac
		done)
		[ -n "$_why" ] && echo "$_id|$_why" >> "$_x"
	done < "$_sum"
	if [ -s "$_x" ]; then
		echo
		echo "where the reference fails (known, not counted) and ours:"
		while IFS='|' read -r _id _why; do
			_ours=$(grep -E "^(PASS|FAIL) ${_id%.ref}.ours[:]?( |$)" "$_sum" | head -n1 | cut -d' ' -f1)
			echo "  XFAIL $_id: $_why; ours: ${_ours:-not run}"
			sed -i "/^FAIL $(echo "$_id" | sed 's#[/.]#\\&#g'):/s/^FAIL /XFAIL /" "$_sum"
		done < "$_x"
	fi
	rm -f "$_x"
}
