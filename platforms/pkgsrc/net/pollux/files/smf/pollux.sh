#!@SMF_METHOD_SHELL@
#
# $NetBSD$
#
# SMF method for pollux (pkgsrc, illumos): start, and refresh the HAProxy way
# (check the configuration, then start a new pollux with -sf and the old pid,
# which stops accepting and finishes its sessions; needs a pollux that
# supports -sf). The manifest runs this as @POLLUX_USER@.

. /lib/svc/share/smf_include.sh

POLLUX="@PREFIX@/sbin/pollux"
CONFIG="$(svcprop -p config/file "${SMF_FMRI}" 2>/dev/null)"
: "${CONFIG:=@PKG_SYSCONFDIR@/pollux.cfg}"
PIDFILE="@VARBASE@/pollux/pollux.pid"	# OWN_DIRS_PERMS in the Makefile

case "$1" in
start)
	"${POLLUX}" -c -q -f "${CONFIG}" || exit $SMF_EXIT_ERR_CONFIG
	"${POLLUX}" -D -p "${PIDFILE}" -f "${CONFIG}" || exit $SMF_EXIT_ERR_FATAL
	;;
refresh)
	"${POLLUX}" -c -q -f "${CONFIG}" || exit $SMF_EXIT_ERR_CONFIG
	"${POLLUX}" -D -p "${PIDFILE}" -f "${CONFIG}" -sf "$(cat "${PIDFILE}")" ||
	    exit $SMF_EXIT_ERR_FATAL
	;;
*)
	echo "usage: $0 start|refresh" >&2
	exit $SMF_EXIT_ERR_FATAL
	;;
esac
exit $SMF_EXIT_OK
