#!@RCD_SCRIPTS_SHELL@
#
# $NetBSD$
#
# PROVIDE: pollux
# REQUIRE: DAEMON
# KEYWORD: shutdown
#
# rc.d script for pollux (pkgsrc, NetBSD), after HAProxy's. In /etc/rc.conf:
#   pollux=YES
# and optionally pollux_config (file or directory), pollux_flags
# (e.g. "--poller poll"). pollux has no 'user' keyword yet: rc.subr starts it
# as @POLLUX_USER@.
#
# /etc/rc.d/pollux reload checks the configuration, then starts a new pollux
# with -sf and the old pid, which stops accepting and finishes its sessions
# (HAProxy's soft reload; needs a pollux that supports -sf).

if [ -f /etc/rc.subr ]; then
	. /etc/rc.subr
fi

name="pollux"
rcvar=$name
command="@PREFIX@/sbin/pollux"
piddir="@VARBASE@/pollux"	# OWN_DIRS_PERMS in the Makefile
pidfile="${piddir}/pollux.pid"
pollux_user="@POLLUX_USER@"
: ${pollux_config:="@PKG_SYSCONFDIR@/pollux.cfg"}
command_args="-D -p ${pidfile} -f ${pollux_config}"
required_files="${pollux_config}"

extra_commands="reload configtest"
start_precmd="pollux_prestart"
reload_cmd="pollux_reload"
configtest_cmd="pollux_configtest"

pollux_configtest()
{
	${command} -c -q -f "${pollux_config}"
}

pollux_prestart()
{
	mkdir -p "${piddir}" && chown "${pollux_user}" "${piddir}" &&
	pollux_configtest
}

pollux_reload()
{
	pollux_configtest || return 1
	if [ ! -r "${pidfile}" ]; then
		echo "${name} not running? (no ${pidfile})."
		return 1
	fi
	su -m "${pollux_user}" -c \
	    "${command} ${pollux_flags} ${command_args} -sf $(cat "${pidfile}")"
}

load_rc_config $name
run_rc_command "$1"
