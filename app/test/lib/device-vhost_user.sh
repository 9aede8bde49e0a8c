# Device provider "vhost_user" of test-lib.sh (sourced): DPDK 22.11's own
# vhost library, Debian's dpdk-testpmd with a net_vhost port, on this host,
# so the e2e scripts written for the VM run unchanged against a software
# switch. VV_VDPA_DEV is the socket.
#
#   VV_PEER_CLIENT=1   the peer connects to us (for our server=1)
#   VV_PEER_SOCK       the socket path (default: $VV_TMP/vu.sock)

DEVICE_KIND=vhost_user
DEVICE_VDPA_NAME=
VV_PEER_SOCK=${VV_PEER_SOCK:-$VV_TMP/vu.sock}
# vhost-user shares memory by file; DPDK's default of one file per hugepage
# exceeds the protocol's 8 regions.
VV_EAL_EXTRA="${VV_EAL_EXTRA:-} --single-file-segments"

device_start() { # MODE [testpmd args]
	_mode=$1
	shift
	_n=$(_vv_seq)
	DEV_LOG="$VV_OUT/peer-$_n.log"
	_iface="iface=$VV_PEER_SOCK"
	if [ "${VV_PEER_CLIENT:-0}" = 1 ]; then
		_iface="$_iface,client=1"
	else
		# A peer that was killed leaves its socket behind; bind refuses it.
		rm -f "$VV_PEER_SOCK"
	fi
	_tp_start dev 7 "$DEV_LOG" dpdk-testpmd -l 0,1 --main-lcore 0 --no-pci \
		--file-prefix "vvdev$_n" --single-file-segments \
		--vdev "net_vhost0,$_iface,queues=${VV_PEER_QUEUES:-1}" -- \
		-i --nb-cores=1 --nb-ports=1 --forward-mode="$_mode" \
		--total-num-mbufs="$VV_MBUFS" "$@"
	_tp_wait_ready dev 60 || return 1
	if [ "${VV_PEER_CLIENT:-0}" != 1 ] && [ ! -S "$VV_PEER_SOCK" ]; then
		vv_err "the peer did not create $VV_PEER_SOCK (log: $DEV_LOG)"
		return 1
	fi
	VV_VDPA_DEV=$VV_PEER_SOCK
	vv_log "peer up: $VV_PEER_SOCK (testpmd $_mode${VV_PEER_CLIENT:+, client}, log $DEV_LOG)"
}

device_stop() { _dev_session_stop peer; }

device_cleanup() {
	_vv_kill_started
	rm -f "$VV_PEER_SOCK"
}
