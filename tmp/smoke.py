import sysd, subprocess, json
with sysd.connect(private=False) as sd:
    for dest, path in [("org.freedesktop.hostname1","/org/freedesktop/hostname1"),("org.freedesktop.timedate1","/org/freedesktop/timedate1"),("org.freedesktop.locale1","/org/freedesktop/locale1"),("org.freedesktop.login1","/org/freedesktop/login1"),("org.freedesktop.machine1","/org/freedesktop/machine1"),(None,"/org/freedesktop/systemd1"), ("org.freedesktop.resolve1", "/org/freedesktop/resolve1")]:
        try:
            p = sd.proxy(dest, path)
        except Exception as e:
            print(dest, type(e).__name__, e); continue
        print(p, p.interfaces)
        for name in p.interfaces:
            i = p.interface(name)
            print(" ", i)
    p = sd.proxy("org.freedesktop.hostname1","/org/freedesktop/hostname1")
    print(p.hostname1.get("hostname"), p.hostname1.get_all())
    print(p.hostname1.set_hostname)
    try:
        p.hostname1.set_hostname(1, False)
    except sysd.InvalidCallError as e:
        print("ERR", e)
    with p.hostname1.properties_changed() as ch:
        p.hostname1.set_pretty_hostname("Smoke X", False)
        print(ch.next(10))
    for bad in [("org.nope.x", "/"), ("org.freedesktop.hostname1", "/nope")]:
        try: sd.proxy(*bad)
        except Exception as e: print(type(e).__name__, e)
