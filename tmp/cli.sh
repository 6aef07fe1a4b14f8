set -x
S=/work/h7/.venv/bin/sysd
$S introspect org.freedesktop.hostname1 /org/freedesktop/hostname1 | head -30
$S introspect org.freedesktop.hostname1 /org/freedesktop/hostname1 org.freedesktop.hostname1 --json | head -c 600; echo
$S introspect org.freedesktop.systemd1 /org/freedesktop/systemd1 Manager | head -5
$S call --destination org.freedesktop.hostname1 /org/freedesktop/hostname1 org.freedesktop.hostname1 SetPrettyHostname '"CLI"' false
$S call --destination org.freedesktop.hostname1 /org/freedesktop/hostname1 org.freedesktop.hostname1 SetPrettyHostname 1 false; echo rc=$?
$S call --destination org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus GetNameOwner '"org.freedesktop.hostname1"'
$S call /org/freedesktop/systemd1 org.freedesktop.systemd1.Manager GetUnit s '"dbus.service"'
$S call /org/freedesktop/systemd1 org.freedesktop.systemd1.Manager GetUnit '"dbus.service"'
$S introspect org.nope /; echo rc=$?
$S introspect org.freedesktop.hostname1 /nope; echo rc=$?
