/* The C floor of the bus benchmark: the same calls as bench_bus.py makes with
 * sysd, done with libsystemd's sd-bus the way systemctl does them.
 *
 *   floor get       BUS N UNIT          N sequential Properties.Get(Unit.ActiveState)
 *   floor listunits BUS N               N sequential Manager.ListUnits, every field read
 *   floor getall    BUS N UNIT          N sequential Properties.GetAll(systemd1.Service),
 *                                       every value in the reply visited (generic walk)
 *   floor status    BUS N UNIT          N sequential pairs GetAll(systemd1.Unit) +
 *                                       GetAll(systemd1.Service) (what a typed status needs),
 *                                       every value of both replies visited (generic walk)
 *   floor pipelined BUS N WINDOW UNIT   N Gets in flight at once via sd_bus_call_method_async,
 *                                       at most WINDOW unanswered (0: all sent up front)
 *   floor oneshot   BUS UNIT            print ActiveState of UNIT, like `systemctl is-active`
 *   floor events    BUS                 stream unit state changes (the events benchmark): Subscribe,
 *                                       one match for the units' PropertiesChanged, then a line
 *                                       "MONOTONIC_NS UNIT ACTIVE SUB" for every unit whose
 *                                       ActiveState/SubState changed; "ready" once subscribed
 *   floor spawn     BUS N WINDOW PREFIX N transient oneshot units PREFIX-I.service (/bin/true)
 *                                       started, at most WINDOW StartTransientUnit in flight
 *
 * BUS is "system" (sd_bus_open_system: /run/dbus/system_bus_socket, Hello) or
 * "private" (sd_bus_new + unix:path=/run/systemd/private + sd_bus_start, no Hello:
 * what systemctl's bus_connect_system_systemd does as root).
 *
 * The timed subcommands connect, warm up with a few untimed calls, time the N
 * calls with CLOCK_MONOTONIC and print one JSON object:
 *   {"case": ..., "bus": ..., "n": N, "seconds": total, "per_call_us": mean}
 * Replies are decoded as far as a caller needs them (the Get's string, every
 * field of every ListUnits row, every basic value of GetAll), so the floor does
 * the same work sysd does when it turns a reply into Python values.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <search.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <systemd/sd-bus.h>

#define DEST "org.freedesktop.systemd1"
#define MANAGER_PATH "/org/freedesktop/systemd1"
#define MANAGER_IFACE "org.freedesktop.systemd1.Manager"
#define UNIT_IFACE "org.freedesktop.systemd1.Unit"
#define SERVICE_IFACE "org.freedesktop.systemd1.Service"
#define PROPS_IFACE "org.freedesktop.DBus.Properties"
#define WARMUP 20

static const char *dest; /* NULL on the private socket (no bus to route by name) */

static void die(const char *what, int r, const sd_bus_error *err) {
    fprintf(stderr, "floor: %s: %s\n", what,
            err && sd_bus_error_is_set(err) ? err->message : strerror(-r));
    exit(1);
}

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static sd_bus *open_bus(const char *kind) {
    sd_bus *bus = NULL;
    int r;
    if (strcmp(kind, "system") == 0) {
        dest = DEST;
        r = sd_bus_open_system(&bus);
        if (r < 0)
            die("sd_bus_open_system", r, NULL);
    } else if (strcmp(kind, "private") == 0) {
        dest = NULL;
        r = sd_bus_new(&bus);
        if (r < 0)
            die("sd_bus_new", r, NULL);
        r = sd_bus_set_address(bus, "unix:path=/run/systemd/private");
        if (r < 0)
            die("sd_bus_set_address", r, NULL);
        r = sd_bus_start(bus);
        if (r < 0)
            die("sd_bus_start /run/systemd/private", r, NULL);
    } else {
        fprintf(stderr, "floor: BUS must be system or private, not %s\n", kind);
        exit(2);
    }
    return bus;
}

static char *unit_path(const char *unit) {
    char *path = NULL;
    int r = sd_bus_path_encode("/org/freedesktop/systemd1/unit", unit, &path);
    if (r < 0)
        die("sd_bus_path_encode", r, NULL);
    return path;
}

static double cpu_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double cpu_start;

/* called right before the timed loop: remember the process's CPU time then */
static double start_clock(void) {
    cpu_start = cpu_now();
    return now();
}

static void report(const char *name, const char *bus, long n, double seconds, const char *extra) {
    double cpu = cpu_now() - cpu_start;
    printf("{\"case\": \"%s\", \"bus\": \"%s\", \"n\": %ld, \"seconds\": %.9f, "
           "\"cpu_seconds\": %.9f, \"per_call_us\": %.3f%s}\n",
           name, bus, n, seconds, cpu, seconds / (double)n * 1e6, extra ? extra : "");
}

/* ------------------------------------------------------------------ Get */

static void get_once(sd_bus *bus, const char *path) {
    sd_bus_error err = SD_BUS_ERROR_NULL;
    sd_bus_message *reply = NULL;
    const char *state;
    int r = sd_bus_call_method(bus, dest, path, PROPS_IFACE, "Get", &err, &reply, "ss",
                               UNIT_IFACE, "ActiveState");
    if (r < 0)
        die("Get", r, &err);
    r = sd_bus_message_read(reply, "v", "s", &state);
    if (r < 0)
        die("reading Get reply", r, NULL);
    sd_bus_message_unref(reply);
}

static int cmd_get(const char *kind, long n, const char *unit) {
    sd_bus *bus = open_bus(kind);
    char *path = unit_path(unit);
    for (int i = 0; i < WARMUP; i++)
        get_once(bus, path);
    double t0 = start_clock();
    for (long i = 0; i < n; i++)
        get_once(bus, path);
    report("get", kind, n, now() - t0, NULL);
    free(path);
    sd_bus_flush_close_unref(bus);
    return 0;
}

/* ------------------------------------------------------------ ListUnits */

static long listunits_once(sd_bus *bus) {
    sd_bus_error err = SD_BUS_ERROR_NULL;
    sd_bus_message *reply = NULL;
    const char *id, *desc, *load, *active, *sub, *following, *upath, *jtype, *jpath;
    uint32_t jid;
    long rows = 0;
    int r = sd_bus_call_method(bus, dest, MANAGER_PATH, MANAGER_IFACE, "ListUnits", &err,
                               &reply, NULL);
    if (r < 0)
        die("ListUnits", r, &err);
    r = sd_bus_message_enter_container(reply, SD_BUS_TYPE_ARRAY, "(ssssssouso)");
    if (r < 0)
        die("reading ListUnits reply", r, NULL);
    while ((r = sd_bus_message_read(reply, "(ssssssouso)", &id, &desc, &load, &active, &sub,
                                    &following, &upath, &jid, &jtype, &jpath)) > 0)
        rows++;
    if (r < 0)
        die("reading ListUnits row", r, NULL);
    sd_bus_message_exit_container(reply);
    sd_bus_message_unref(reply);
    return rows;
}

static int cmd_listunits(const char *kind, long n) {
    sd_bus *bus = open_bus(kind);
    long rows = 0;
    char extra[64];
    for (int i = 0; i < 3; i++)
        rows = listunits_once(bus);
    double t0 = start_clock();
    for (long i = 0; i < n; i++)
        rows = listunits_once(bus);
    double dt = now() - t0;
    snprintf(extra, sizeof extra, ", \"units\": %ld", rows);
    report("listunits", kind, n, dt, extra);
    sd_bus_flush_close_unref(bus);
    return 0;
}

/* --------------------------------------------------------------- GetAll */

/* Visit every value of the current container, as a generic decoder must
 * (systemctl show walks GetAll replies the same way). Returns values seen. */
static long walk(sd_bus_message *m) {
    long seen = 0;
    for (;;) {
        char type;
        const char *contents;
        int r = sd_bus_message_peek_type(m, &type, &contents);
        if (r < 0)
            die("peek", r, NULL);
        if (r == 0)
            return seen;
        if (type == SD_BUS_TYPE_ARRAY || type == SD_BUS_TYPE_VARIANT || type == SD_BUS_TYPE_STRUCT ||
            type == SD_BUS_TYPE_DICT_ENTRY) {
            r = sd_bus_message_enter_container(m, type, contents);
            if (r < 0)
                die("enter", r, NULL);
            seen += walk(m);
            r = sd_bus_message_exit_container(m);
            if (r < 0)
                die("exit", r, NULL);
        } else {
            union {
                uint64_t u64;
                double d;
                const char *s;
                int i;
            } v;
            r = sd_bus_message_read_basic(m, type, &v);
            if (r < 0)
                die("read_basic", r, NULL);
            seen++;
        }
    }
}

static long getall_iface(sd_bus *bus, const char *path, const char *iface) {
    sd_bus_error err = SD_BUS_ERROR_NULL;
    sd_bus_message *reply = NULL;
    int r = sd_bus_call_method(bus, dest, path, PROPS_IFACE, "GetAll", &err, &reply, "s", iface);
    if (r < 0)
        die("GetAll", r, &err);
    long seen = walk(reply);
    sd_bus_message_unref(reply);
    return seen;
}

static long getall_once(sd_bus *bus, const char *path) {
    return getall_iface(bus, path, SERVICE_IFACE);
}

static int cmd_getall(const char *kind, long n, const char *unit) {
    sd_bus *bus = open_bus(kind);
    char *path = unit_path(unit);
    long seen = 0;
    char extra[64];
    for (int i = 0; i < WARMUP; i++)
        seen = getall_once(bus, path);
    double t0 = start_clock();
    for (long i = 0; i < n; i++)
        getall_once(bus, path);
    double dt = now() - t0;
    snprintf(extra, sizeof extra, ", \"values\": %ld", seen);
    report("getall", kind, n, dt, extra);
    free(path);
    sd_bus_flush_close_unref(bus);
    return 0;
}

/* --------------------------------------------------------------- status */

/* What a typed status snapshot of a service needs: both GetAll replies, fully read. */
static long status_once(sd_bus *bus, const char *path) {
    return getall_iface(bus, path, UNIT_IFACE) + getall_iface(bus, path, SERVICE_IFACE);
}

static int cmd_status(const char *kind, long n, const char *unit) {
    sd_bus *bus = open_bus(kind);
    char *path = unit_path(unit);
    long seen = 0;
    char extra[64];
    for (int i = 0; i < WARMUP; i++)
        seen = status_once(bus, path);
    double t0 = start_clock();
    for (long i = 0; i < n; i++)
        status_once(bus, path);
    double dt = now() - t0;
    snprintf(extra, sizeof extra, ", \"values\": %ld", seen);
    report("status", kind, n, dt, extra);
    free(path);
    sd_bus_flush_close_unref(bus);
    return 0;
}

/* ------------------------------------------------------------ pipelined */

struct pipe {
    sd_bus *bus;
    const char *path;
    long total, sent, done, errors;
};

static void send_get(struct pipe *p);

static int on_reply(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
    struct pipe *p = userdata;
    const char *state;
    (void)ret_error;
    if (sd_bus_message_is_method_error(m, NULL))
        p->errors++;
    else if (sd_bus_message_read(m, "v", "s", &state) < 0)
        p->errors++;
    p->done++;
    if (p->sent < p->total)
        send_get(p);
    return 0;
}

static void send_get(struct pipe *p) {
    /* NULL slot: the call is "floating", its slot freed with the reply */
    int r = sd_bus_call_method_async(p->bus, NULL, dest, p->path, PROPS_IFACE, "Get", on_reply,
                                     p, "ss", UNIT_IFACE, "ActiveState");
    if (r < 0)
        die("sd_bus_call_method_async", r, NULL);
    p->sent++;
}

static double pipelined_once(sd_bus *bus, const char *path, long n, long window, long *errors) {
    struct pipe p = {bus, path, n, 0, 0, 0};
    long first = window > 0 && window < n ? window : n;
    double t0 = start_clock();
    for (long i = 0; i < first; i++)
        send_get(&p);
    while (p.done < n) {
        int r = sd_bus_process(bus, NULL);
        if (r < 0)
            die("sd_bus_process", r, NULL);
        if (r > 0)
            continue;
        r = sd_bus_wait(bus, UINT64_MAX);
        if (r < 0 && r != -EINTR)
            die("sd_bus_wait", r, NULL);
    }
    *errors = p.errors;
    return now() - t0;
}

static int cmd_pipelined(const char *kind, long n, long window, const char *unit) {
    sd_bus *bus = open_bus(kind);
    char *path = unit_path(unit);
    long errors = 0;
    char extra[96];
    pipelined_once(bus, path, 64, window, &errors);
    double dt = pipelined_once(bus, path, n, window, &errors);
    snprintf(extra, sizeof extra, ", \"window\": %ld, \"errors\": %ld", window, errors);
    report("pipelined", kind, n, dt, extra);
    free(path);
    sd_bus_flush_close_unref(bus);
    return 0; /* error replies are counted in "errors" */
}

/* -------------------------------------------------------------- oneshot */

static int cmd_oneshot(const char *kind, const char *unit) {
    sd_bus *bus = open_bus(kind);
    char *path = unit_path(unit);
    sd_bus_error err = SD_BUS_ERROR_NULL;
    char *state = NULL;
    int r = sd_bus_get_property_string(bus, dest, path, UNIT_IFACE, "ActiveState", &err, &state);
    if (r < 0)
        die("Get ActiveState", r, &err);
    puts(state);
    free(state);
    free(path);
    sd_bus_flush_close_unref(bus);
    return 0;
}

/* --------------------------------------------------------------- events */

/* The events benchmark's C loop: what a consumer of unit state changes does with sd-bus,
 * as `systemctl --wait`/`busctl monitor` would, with the work a typed stream does per
 * signal: decode the unit's name from its path, read the changed ActiveState/SubState,
 * compare with the last state seen of that unit (a hash table), report only changes. */

struct unit_state {
    char active[32];
    char sub[32];
};

static int on_properties_changed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
    const char *iface, *name, *value;
    const char *active = NULL, *sub = NULL;
    char *unit = NULL;
    int r;
    (void)userdata;
    (void)ret_error;
    r = sd_bus_message_read(m, "s", &iface);
    if (r < 0 || strcmp(iface, UNIT_IFACE) != 0)
        return 0;
    r = sd_bus_message_enter_container(m, SD_BUS_TYPE_ARRAY, "{sv}");
    if (r < 0)
        die("reading PropertiesChanged", r, NULL);
    while ((r = sd_bus_message_enter_container(m, SD_BUS_TYPE_DICT_ENTRY, "sv")) > 0) {
        r = sd_bus_message_read(m, "s", &name);
        if (r < 0)
            die("reading a property name", r, NULL);
        if (strcmp(name, "ActiveState") == 0 || strcmp(name, "SubState") == 0) {
            r = sd_bus_message_read(m, "v", "s", &value);
            if (r < 0)
                die("reading a state", r, NULL);
            if (name[0] == 'A')
                active = value;
            else
                sub = value;
        } else {
            r = sd_bus_message_skip(m, "v");
            if (r < 0)
                die("skipping a property", r, NULL);
        }
        r = sd_bus_message_exit_container(m);
        if (r < 0)
            die("exit dict entry", r, NULL);
    }
    if (r < 0)
        die("reading PropertiesChanged entries", r, NULL);
    if (!active && !sub)
        return 0;
    r = sd_bus_path_decode(sd_bus_message_get_path(m), "/org/freedesktop/systemd1/unit", &unit);
    if (r <= 0)
        return 0;
    ENTRY key = {.key = unit, .data = NULL}, *found = NULL;
    found = hsearch(key, FIND);
    struct unit_state *st;
    if (found) {
        st = found->data;
        free(unit);
        unit = found->key;
    } else {
        st = calloc(1, sizeof *st);
        key.data = st;
        if (!st || !(found = hsearch(key, ENTER)))
            die("hsearch", -ENOMEM, NULL);
    }
    int changed = 0;
    if (active && strcmp(active, st->active) != 0) {
        snprintf(st->active, sizeof st->active, "%s", active);
        changed = 1;
    }
    if (sub && strcmp(sub, st->sub) != 0) {
        snprintf(st->sub, sizeof st->sub, "%s", sub);
        changed = 1;
    }
    if (changed) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        printf("%lld %s %s %s\n", (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec, unit,
               st->active, st->sub);
        fflush(stdout);
    }
    return 0;
}

static int cmd_events(const char *kind) {
    sd_bus *bus = open_bus(kind);
    sd_bus_error err = SD_BUS_ERROR_NULL;
    int r;
    if (!hcreate(1 << 16))
        die("hcreate", -ENOMEM, NULL);
    /* the match first, then Subscribe: no change is lost between the two */
    r = sd_bus_match_signal(bus, NULL, dest, NULL, PROPS_IFACE, "PropertiesChanged",
                            on_properties_changed, NULL);
    if (r < 0)
        die("sd_bus_match_signal", r, NULL);
    r = sd_bus_call_method(bus, dest, MANAGER_PATH, MANAGER_IFACE, "Subscribe", &err, NULL,
                           NULL);
    if (r < 0)
        die("Subscribe", r, &err);
    puts("ready");
    fflush(stdout);
    for (;;) {
        r = sd_bus_process(bus, NULL);
        if (r < 0)
            die("sd_bus_process", r, NULL);
        if (r > 0)
            continue;
        r = sd_bus_wait(bus, UINT64_MAX);
        if (r < 0 && r != -EINTR)
            die("sd_bus_wait", r, NULL);
    }
    return 0; /* not reached: the benchmark kills the loop */
}

/* ---------------------------------------------------------------- spawn */

struct spawn {
    sd_bus *bus;
    const char *prefix;
    long total, sent, done, errors;
};

static void send_spawn(struct spawn *s);

static int on_spawned(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
    struct spawn *s = userdata;
    (void)ret_error;
    if (sd_bus_message_is_method_error(m, NULL)) {
        if (s->errors++ == 0)
            fprintf(stderr, "floor: StartTransientUnit: %s\n", sd_bus_message_get_error(m)->message);
    }
    s->done++;
    if (s->sent < s->total)
        send_spawn(s);
    return 0;
}

static void send_spawn(struct spawn *s) {
    sd_bus_message *m = NULL;
    char name[256];
    int r;
    snprintf(name, sizeof name, "%s-%ld.service", s->prefix, s->sent);
    r = sd_bus_message_new_method_call(s->bus, &m, dest, MANAGER_PATH, MANAGER_IFACE,
                                       "StartTransientUnit");
    if (r < 0)
        die("new StartTransientUnit", r, NULL);
    r = sd_bus_message_append(m, "ss", name, "fail");
    if (r >= 0)
        r = sd_bus_message_append(m, "a(sv)", 2, "Type", "s", "oneshot", "ExecStart", "a(sasb)",
                                  1, "/bin/true", 1, "/bin/true", 0);
    if (r >= 0)
        r = sd_bus_message_append(m, "a(sa(sv))", 0);
    if (r < 0)
        die("building StartTransientUnit", r, NULL);
    r = sd_bus_call_async(s->bus, NULL, m, on_spawned, s, 0);
    if (r < 0)
        die("sd_bus_call_async", r, NULL);
    sd_bus_message_unref(m);
    s->sent++;
}

static int cmd_spawn(const char *kind, long n, long window, const char *prefix) {
    sd_bus *bus = open_bus(kind);
    struct spawn s = {bus, prefix, n, 0, 0, 0};
    long first = window > 0 && window < n ? window : n;
    char extra[64];
    double t0 = start_clock();
    for (long i = 0; i < first; i++)
        send_spawn(&s);
    while (s.done < n) {
        int r = sd_bus_process(bus, NULL);
        if (r < 0)
            die("sd_bus_process", r, NULL);
        if (r > 0)
            continue;
        r = sd_bus_wait(bus, UINT64_MAX);
        if (r < 0 && r != -EINTR)
            die("sd_bus_wait", r, NULL);
    }
    snprintf(extra, sizeof extra, ", \"window\": %ld, \"errors\": %ld", window, s.errors);
    report("spawn", kind, n, now() - t0, extra);
    sd_bus_flush_close_unref(bus);
    return s.errors ? 1 : 0;
}

static long num(const char *s) {
    char *end;
    long v = strtol(s, &end, 10);
    if (*s == '\0' || *end != '\0' || v < 0) {
        fprintf(stderr, "floor: not a count: %s\n", s);
        exit(2);
    }
    return v;
}

int main(int argc, char **argv) {
    const char *cmd = argc > 1 ? argv[1] : "";
    if (strcmp(cmd, "get") == 0 && argc == 5)
        return cmd_get(argv[2], num(argv[3]), argv[4]);
    if (strcmp(cmd, "listunits") == 0 && argc == 4)
        return cmd_listunits(argv[2], num(argv[3]));
    if (strcmp(cmd, "getall") == 0 && argc == 5)
        return cmd_getall(argv[2], num(argv[3]), argv[4]);
    if (strcmp(cmd, "status") == 0 && argc == 5)
        return cmd_status(argv[2], num(argv[3]), argv[4]);
    if (strcmp(cmd, "pipelined") == 0 && argc == 6)
        return cmd_pipelined(argv[2], num(argv[3]), num(argv[4]), argv[5]);
    if (strcmp(cmd, "oneshot") == 0 && argc == 4)
        return cmd_oneshot(argv[2], argv[3]);
    if (strcmp(cmd, "events") == 0 && argc == 3)
        return cmd_events(argv[2]);
    if (strcmp(cmd, "spawn") == 0 && argc == 6)
        return cmd_spawn(argv[2], num(argv[3]), num(argv[4]), argv[5]);
    fprintf(stderr,
            "usage: floor get BUS N UNIT | listunits BUS N | getall BUS N UNIT |\n"
            "             status BUS N UNIT | pipelined BUS N WINDOW UNIT | oneshot BUS UNIT |\n"
            "             events BUS | spawn BUS N WINDOW PREFIX\n"
            "       BUS: system | private\n");
    return 2;
}
