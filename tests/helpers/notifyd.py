#!/usr/bin/env python3
# A notification daemon for tests: owns org.freedesktop.Notifications on
# the session bus it is given (DBUS_SESSION_BUS_ADDRESS) and appends one
# line per Notify call to the file named by argv[1]:
#   <app_name>|<replaces_id>|<summary>|<body with newlines as \n>|<urgency>
# It writes "ready" to argv[1].ready once it owns the name.
# With --hang (after the file name) it records each Notify call but never
# answers it: a hung daemon, which must not stall its client.
import sys
import dbus
import dbus.service
from dbus.mainloop.glib import DBusGMainLoop
from gi.repository import GLib

IFACE = "org.freedesktop.Notifications"
PATH = "/org/freedesktop/Notifications"


class Daemon(dbus.service.Object):
    def __init__(self, bus, out, hang):
        super().__init__(bus, PATH)
        self.out = out
        self.hang = hang
        self.last = 0

    @dbus.service.method(IFACE, in_signature="susssasa{sv}i", out_signature="u",
                         async_callbacks=("reply", "error"))
    def Notify(self, app, replaces, icon, summary, body, actions, hints, timeout, reply, error):
        urgency = int(hints.get("urgency", -1))
        with open(self.out, "a") as f:
            f.write("%s|%d|%s|%s|%d\n" % (app, replaces, summary, body.replace("\n", "\\n"), urgency))
        if self.hang:
            return
        if not replaces:
            self.last += 1
            replaces = self.last
        reply(dbus.UInt32(replaces))

    @dbus.service.method(IFACE, in_signature="", out_signature="as")
    def GetCapabilities(self):
        return ["body"]

    @dbus.service.method(IFACE, in_signature="", out_signature="ssss")
    def GetServerInformation(self):
        return ("gust-test-notifyd", "gust", "1", "1.2")

    @dbus.service.method(IFACE, in_signature="u", out_signature="")
    def CloseNotification(self, nid):
        pass


def main():
    DBusGMainLoop(set_as_default=True)
    bus = dbus.SessionBus()
    name = dbus.service.BusName(IFACE, bus, do_not_queue=True)
    Daemon(bus, sys.argv[1], sys.argv[2:] == ["--hang"])
    with open(sys.argv[1] + ".ready", "w") as f:
        f.write("ready\n")
    GLib.MainLoop().run()
    del name


main()
