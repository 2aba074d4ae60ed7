#!/bin/bash
# Runs the pollux test suite against HAProxy, to check the tests themselves:
#   POLLUX_TEST_BIN=$PWD/tests/reference/haproxy.sh cargo test --test tcp_balance -- poll
# Maps --poller NAME to -de/-dp; in the foreground turns SIGTERM/SIGINT into exit 0.
# Expected differences: HAProxy's select refuses fds > FD_SETSIZE; messages use [FILE:LINE].
args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --poller) shift; case "$1" in epoll) ;; poll) args+=(-de);; select) args+=(-de -dp);; *) echo "--poller $1: unknown" >&2; exit 1;; esac ;;
    *) args+=("$1");;
  esac
  shift
done
for a in "${args[@]}"; do case "$a" in -db|-d) fg=1;; esac; done
if [ -z "$fg" ]; then exec /usr/sbin/haproxy "${args[@]}"; fi
/usr/sbin/haproxy "${args[@]}" &
pid=$!
trap 'kill -TERM $pid; wait $pid; exit 0' TERM INT
wait $pid; rc=$?
wait $pid; exit $rc
