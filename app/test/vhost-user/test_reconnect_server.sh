#!/bin/sh
# vhost-user test: test_reconnect.sh with the roles swapped. Our port
# listens (server=1) and the peer connects to it (client=1), leaves, and
# connects again.
VV_PEER_CLIENT=1
export VV_PEER_CLIENT
exec sh "$(dirname "$0")/test_reconnect.sh"
