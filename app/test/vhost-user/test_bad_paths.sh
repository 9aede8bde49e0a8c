#!/bin/sh
# vhost-user test: paths that cannot work are refused at probe with a
# message that names the cause, and testpmd exits by itself (no hang, no
# signal). The backend is chosen by what the path is: a path that does not
# exist is an error, never taken for a socket.
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/test-lib.sh"

T=bad_paths
failed=0
dir="$VV_TMP/badpaths"
rm -rf "$dir"
mkdir -p "$dir"

expect_refusal() { # CASE PATTERN VDEV
	name="$T.$1.$VV_DRIVER"
	driver_testpmd "$3"
	reason=
	if [ "$DRV_RC" = 0 ]; then
		reason="testpmd accepted '$3' (exit 0)"
	elif [ "$DRV_RC" = 124 ] || [ "$DRV_RC" = 137 ]; then
		reason="testpmd hung (killed after ${VV_TP_TIMEOUT}s)"
	elif [ "$DRV_RC" -ge 128 ]; then
		reason="testpmd died by signal $((DRV_RC - 128))"
	elif ! grep -qiE -- "$2" "$DRV_LOG"; then
		reason="exit $DRV_RC but no message matching /$2/"
	fi
	if [ -z "$reason" ]; then
		vv_log "$1: $(grep -iE -- "$2" "$DRV_LOG" | head -n1)"
		vv_pass "$name"
	else
		vv_fail "$name" "$reason" "$DRV_LOG"
		failed=$((failed + 1))
	fi
}

: > "$dir/regular-file"
# A socket file with nobody listening: what a crashed switch leaves.
python3 -c 'import socket, sys
s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])' "$dir/stale.sock"
long="$dir/$(printf '%0120d' 0).sock"

expect_refusal missing 'does not exist' "$(vv_vdev "$dir/missing.sock")"
expect_refusal regular_file 'neither a vhost-vdpa character device nor a vhost-user socket' \
	"$(vv_vdev "$dir/regular-file")"
expect_refusal nobody_listens 'nothing listens on this socket' \
	"$(vv_vdev "$dir/stale.sock")"
expect_refusal server_no_folder 'folder of .* does not exist' \
	"$(vv_vdev "$dir/no-such-dir/vu.sock" server=1)"
expect_refusal server_on_file 'exists and is not a socket' \
	"$(vv_vdev "$dir/regular-file" server=1)"
expect_refusal server_on_chardev 'server=1 is for vhost-user sockets' \
	"$(vv_vdev /dev/null server=1)"
expect_refusal path_too_long 'shorter than' "$(vv_vdev "$long" server=1)"
expect_refusal server_bad_value 'invalid server=2' \
	"$(vv_vdev "$dir/x.sock" server=2)"

# A listening switch's socket is never taken over by server=1.
if device_start io; then
	expect_refusal server_on_live_socket 'another process listens' \
		"$(vv_vdev "$VV_PEER_SOCK" server=1)"
	[ -S "$VV_PEER_SOCK" ] || {
		vv_fail "$T.live_socket_kept.$VV_DRIVER" "the peer's socket was removed"
		failed=$((failed + 1))
	}
	device_stop || true
else
	vv_fail "$T.server_on_live_socket.$VV_DRIVER" "peer did not start"
	failed=$((failed + 1))
fi

# server=1 and no peer ever connects: probe gives up with a hint.
expect_refusal server_no_peer 'no vhost-user peer connected' \
	"$(vv_vdev "$dir/lonely.sock" server=1)"
[ ! -e "$dir/lonely.sock" ] || {
	vv_fail "$T.server_socket_removed.$VV_DRIVER" "the refused port left $dir/lonely.sock behind"
	failed=$((failed + 1))
}
vv_cleanup
rm -rf "$dir"
[ $failed = 0 ]
