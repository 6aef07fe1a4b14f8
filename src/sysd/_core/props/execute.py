"""Process execution: ``bus_append_execute_property()`` (service, socket, mount)."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Final

from . import _tables as T
from ._c import (
    CUNESCAPE,
    DONT_COALESCE_SEPARATORS,
    RETAIN_ESCAPE,
    UINT64_MAX,
    UNESCAPE_SEPARATORS,
    UNQUOTE,
    WHITESPACE,
    Bad,
    cunescape,
    dbus_str,
    dbus_strv,
    extract_first_word,
    extract_many_words,
    parse_boolean,
    parse_size,
    path_simplify,
    safe_atoi,
    safe_atou64,
    safe_atoux64,
    split_words,
    unbase64mem,
    unhexmem,
)
from ._kit import (
    USEC_INFINITY,
    Assignment,
    Handler,
    Out,
    boolean,
    errno_or_action,
    i32,
    mode,
    nsec,
    parse_sec,
    parse_time_usec,
    sec_rename,
    string,
    strv,
    table_or_number,
    u32,
)
from .cgroup import parse_cpu_set

__all__ = ["HANDLERS", "LIST_JOIN", "LIST_WORDS", "numa_max_node"]

RLIM_INFINITY: Final = UINT64_MAX
MS_REC: Final = 16384


# ----------------------------------------------------------------------- small enumerations


def _enum(table: Mapping[str, int], maximum: int, what: str) -> Handler:
    def handler(out: Out, field: str, eq: str) -> None:
        n = table_or_number(table, maximum, eq)
        if n is None:
            raise Bad(what)
        out.append(Assignment(field, "i", n))

    return handler


log_level = _enum(T.LOG_LEVEL_BY_NAME, T.LOG_LEVEL_MAX, "a log level (emerg ... debug, or 0-7)")
log_facility = _enum(
    T.LOG_FACILITY_BY_NAME, T.LOG_FACILITY_MAX, "a syslog facility such as daemon or local0"
)
ioprio_class = _enum(
    T.IOPRIO_CLASS_BY_NAME, T.IOPRIO_CLASS_MAX, "an IO class: none, realtime, best-effort, idle"
)
sched_policy = _enum(
    T.SCHED_POLICY_BY_NAME, 2**31 - 1, "a scheduling policy: other, batch, idle, fifo, rr"
)


def secure_bits(out: Out, field: str, eq: str) -> None:
    """``secure_bits_from_string()``: unknown words are ignored, bad quoting ends the list."""
    bits = 0
    rest: str | None = eq
    while True:
        try:
            word, rest = extract_first_word(rest, None, UNQUOTE)
        except Bad:
            break
        if word is None:
            break
        bits |= T.SECURE_BITS_BY_NAME.get(word, 0)
    out.append(Assignment(field, "i", bits))


def nice(out: Out, field: str, eq: str) -> None:
    n = safe_atoi(eq)
    if n is None or not -20 <= n <= 19:
        raise Bad("a nice level between -20 and 19")
    out.append(Assignment(field, "i", n))


def ioprio_priority(out: Out, field: str, eq: str) -> None:
    n = safe_atoi(eq)
    if n is None or not 0 <= n <= 7:
        raise Bad("an IO priority between 0 and 7")
    out.append(Assignment(field, "i", n))


def coredump_filter(out: Out, field: str, eq: str) -> None:
    mask = 0
    rest: str | None = eq
    while True:
        word, rest = extract_first_word(rest, None, 0)
        if word is None:
            break
        if word == "default":
            mask |= T.COREDUMP_FILTER_MASK_DEFAULT
        elif word == "all":
            mask = T.COREDUMP_FILTER_MASK_ALL
        elif word in T.COREDUMP_FILTER_BITS:
            mask |= 1 << T.COREDUMP_FILTER_BITS[word]
        else:
            n = safe_atoux64(word)
            if n is None:
                raise Bad("coredump filter names (private-anonymous ... all, default) or hex masks")
            mask |= n
    out.append(Assignment(field, "t", mask))


def mount_flags(out: Out, field: str, eq: str) -> None:
    n = 0 if not eq else T.MOUNT_PROPAGATION_BY_NAME.get(eq)
    if n is None:
        raise Bad("shared, slave or private")
    out.append(Assignment(field, "t", n))


def numa_policy(out: Out, field: str, eq: str) -> None:
    n = T.MPOL_BY_NAME.get(eq)
    if n is None:
        raise Bad("a NUMA policy: default, preferred, bind, interleave or local")
    out.append(Assignment(field, "i", n))


def _read_numa_max_node() -> int:
    """``numa_max_node()``: the highest ``/sys/devices/system/node/nodeN``, 1023 if unknown.

    The one place the property language looks at the local system: ``NUMAMask=all`` means
    "every node of this machine", and systemd-run expands it on the client in the same way.
    """
    try:
        entries = list(os.scandir("/sys/devices/system/node"))
    except OSError:
        return 1023
    highest = 0
    for entry in entries:
        if entry.name.startswith("node") and entry.is_dir(follow_symlinks=False):
            n = safe_atoi(entry.name[4:])
            if n is not None and n > highest:
                highest = n
    return highest


#: Replaceable (tests, or a caller that knows the target machine better).
numa_max_node: Callable[[], int] = _read_numa_max_node


def numa_mask(out: Out, field: str, eq: str) -> None:
    if eq == "all":
        top = numa_max_node()
        if top >= 8192:
            raise Bad("NUMA node numbers below 8192")
        data = ((1 << (top + 1)) - 1).to_bytes((top + 1 + 63) // 64 * 8, "little")
    else:
        data = parse_cpu_set(eq)
    out.append(Assignment(field, "ay", data))


def cpu_affinity(out: Out, field: str, eq: str) -> None:
    if eq == "numa":
        out.append(Assignment("CPUAffinityFromNUMA", "b", True))
    else:
        out.append(Assignment(field, "ay", parse_cpu_set(eq)))


# ----------------------------------------------------------------------- environment, stdio


def environment_file(out: Out, field: str, eq: str) -> None:
    if not eq:
        out.append(Assignment("EnvironmentFiles", "a(sb)", []))
    else:
        optional = eq[0] == "-"
        out.append(
            Assignment(
                "EnvironmentFiles", "a(sb)", [(dbus_str(eq[1:] if optional else eq), optional)]
            )
        )


def set_credential(out: Out, field: str, eq: str) -> None:
    if not eq:
        out.append(Assignment(field, "a(say)", []))
        return
    name, data = extract_first_word(eq, ":", DONT_COALESCE_SEPARATORS)
    if name is None or data is None:
        raise Bad("ID:DATA")
    if field == "SetCredentialEncrypted":
        value = unbase64mem(data)
    else:
        value = cunescape(data, accept_nul=True)
    out.append(Assignment(field, "a(say)", [(dbus_str(name), value)]))


def load_credential(out: Out, field: str, eq: str) -> None:
    if not eq:
        out.append(Assignment(field, "a(ss)", []))
        return
    name, path = extract_first_word(eq, ":", DONT_COALESCE_SEPARATORS)
    if name is None:  # pragma: no cover - C checks it; cannot happen for a non-empty eq
        raise Bad("ID[:PATH]")
    if not path:
        path = eq  # one field only: "inherit from above" (the whole value is passed twice)
    out.append(Assignment(field, "a(ss)", [(dbus_str(name), dbus_str(path))]))


def log_extra_fields(out: Out, field: str, eq: str) -> None:
    out.append(Assignment(field, "aay", [eq.encode("utf-8", "surrogateescape")]))


_STDIO_PREFIXES: Final = (
    ("fd:", "FileDescriptorName"),
    ("file:", "File"),
    ("append:", "FileToAppend"),
    ("truncate:", "FileToTruncate"),
)


def standard_io(out: Out, field: str, eq: str) -> None:
    for prefix, suffix in _STDIO_PREFIXES:
        if eq.startswith(prefix):
            out.append(Assignment(field + suffix, "s", dbus_str(eq[len(prefix) :])))
            return
    out.append(Assignment(field, "s", dbus_str(eq)))


def standard_input_text(out: Out, field: str, eq: str) -> None:
    out.append(Assignment(field, "ay", cunescape(eq) + b"\n"))


def standard_input_data(out: Out, field: str, eq: str) -> None:
    out.append(Assignment(field, "ay", unbase64mem(eq)))


# ----------------------------------------------------------------------- resource limits


def _rlimit_one(kind: str, text: str) -> int:
    if text == "infinity" and kind != "nice":  # rlimit_parse_nice() has no "infinity"
        return RLIM_INFINITY
    if kind == "u64":
        n = safe_atou64(text)
        if n is None or n >= RLIM_INFINITY:
            raise Bad("a number or infinity, optionally SOFT:HARD")
        return n
    if kind == "size":
        n = parse_size(text, 1024)
        if n >= RLIM_INFINITY:
            raise Bad("a size such as 8M or infinity, optionally SOFT:HARD")
        return n
    if kind == "sec":
        t = parse_sec(text)
        return RLIM_INFINITY if t == USEC_INFINITY else -(-t // 1_000_000)
    if kind == "usec":
        t = parse_time_usec(text)
        return RLIM_INFINITY if t == USEC_INFINITY else t
    # nice: +N / -N are nice levels, a bare number is the raw limit (0..40)
    if text[:1] == "+":
        n = safe_atou64(text[1:])
        if n is None or n >= 20:
            raise Bad("a nice level (+0..+19, -0..-20) or a raw limit 0..40")
        return 20 - n
    if text[:1] == "-":
        n = safe_atou64(text[1:])
        if n is None or n > 20:
            raise Bad("a nice level (+0..+19, -0..-20) or a raw limit 0..40")
        return 20 + n
    n = safe_atou64(text)
    if n is None or n > 40:
        raise Bad("a nice level (+0..+19, -0..-20) or a raw limit 0..40")
    return n


def rlimit(out: Out, field: str, eq: str) -> None:
    """``Limit<RES>=SOFT[:HARD]`` -> ``Limit<RES>`` (hard) and ``Limit<RES>Soft``."""
    kind = T.RLIMIT_KIND[field[5:]]
    soft_text, rest = extract_first_word(eq, ":", DONT_COALESCE_SEPARATORS)
    soft = _rlimit_one(kind, soft_text or "")
    hard_text, rest = extract_first_word(rest, ":", DONT_COALESCE_SEPARATORS)
    if rest:
        raise Bad("SOFT:HARD with at most one colon")
    if hard_text is None:
        hard = soft
    else:
        hard = _rlimit_one(kind, hard_text)
        if soft > hard:
            raise Bad("a soft limit not above the hard limit")
    out.append(Assignment(field, "t", hard))
    out.append(Assignment(field + "Soft", "t", soft))


# ----------------------------------------------------------------------- security


def label_with_ignore(out: Out, field: str, eq: str) -> None:
    """AppArmorProfile=, SmackProcessLabel=: ``-`` prefix means "ignore if missing"."""
    ignore = eq[:1] == "-"
    out.append(Assignment(field, "(bs)", (ignore, dbus_str(eq[1:] if ignore else eq))))


def capabilities(out: Out, field: str, eq: str) -> None:
    """``capability_set_from_string()``: unknown names are skipped, ``~`` inverts."""
    invert = eq[:1] == "~"
    rest: str | None = eq[1:] if invert else eq
    mask = 0
    while True:
        try:
            word, rest = extract_first_word(rest, None, UNQUOTE)
        except Bad:
            break
        if word is None:
            break
        n = safe_atoi(word)
        if n is not None:
            if 0 <= n < 64:
                mask |= 1 << n
            continue
        n = T.CAPABILITY_BY_NAME.get(word.lower() if word.isascii() else word)
        if n is not None:
            mask |= 1 << n
    out.append(Assignment(field, "t", ~mask & UINT64_MAX if invert else mask))


def allow_deny_list(out: Out, field: str, eq: str) -> None:
    """RestrictAddressFamilies=, SystemCallFilter=, ...: ``[~]WORD...`` -> ``(bas)``."""
    allow = eq[:1] != "~"
    words = split_words(eq if allow else eq[1:], UNQUOTE)
    out.append(Assignment(field, "(bas)", (allow, dbus_strv(words))))


def restrict_namespaces(out: Out, field: str, eq: str) -> None:
    b = parse_boolean(eq)
    if b is not None:
        flags = 0 if b else T.NAMESPACE_FLAGS_ALL
    else:
        invert = eq[:1] == "~"
        rest: str | None = eq[1:] if invert else eq
        flags = 0
        while True:
            word, rest = extract_first_word(rest, None, 0)
            if word is None:
                break
            flag = T.NAMESPACE_FLAG_BY_NAME.get(word)
            if flag is None:
                raise Bad(
                    "a boolean or namespace names (cgroup ipc net mnt pid user uts), ~ to invert"
                )
            flags |= flag
        if invert:
            flags = ~flags & T.NAMESPACE_FLAGS_ALL
    out.append(Assignment(field, "t", flags))


# ----------------------------------------------------------------------- file system


def _separator_before(before: str | None, after: str | None) -> str:
    """The character C sees at ``p[-1]`` once ``before`` has been advanced to ``after``."""
    if before is None or after is None or len(after) >= len(before):
        return ""
    return before[len(before) - len(after) - 1]


def bind_paths(out: Out, field: str, eq: str) -> None:
    """BindPaths=, BindReadOnlyPaths=: ``[-]SRC[:DEST[:rbind|norbind]]`` ..."""
    entries = []
    seps = ":" + WHITESPACE
    flags = UNQUOTE | DONT_COALESCE_SEPARATORS
    rest: str | None = eq
    while True:
        before = rest
        source, rest = extract_first_word(rest, seps, flags)
        if source is None:
            break
        ignore = source[:1] == "-"
        if ignore:
            source = source[1:]
        mount_flags = MS_REC
        if _separator_before(before, rest) == ":":
            before = rest
            destination, rest = extract_first_word(rest, seps, flags)
            if destination is None:  # pragma: no cover - unreachable, kept from C
                raise Bad("a destination after ':'")
            if _separator_before(before, rest) == ":":
                options, rest = extract_first_word(rest, None, UNQUOTE)
                if options == "norbind":
                    mount_flags = 0
                elif options and options != "rbind":
                    raise Bad("rbind or norbind as the option")
        else:
            destination = source
        entries.append((dbus_str(source), dbus_str(destination), ignore, mount_flags))
    out.append(Assignment(field, "a(ssbt)", entries))


def temporary_file_system(out: Out, field: str, eq: str) -> None:
    entries = []
    rest: str | None = eq
    while True:
        word, rest = extract_first_word(rest, None, UNQUOTE)
        if word is None:
            break
        path, options = extract_first_word(word, ":", DONT_COALESCE_SEPARATORS)
        entries.append((dbus_str(path or ""), dbus_str(options or "")))
    out.append(Assignment(field, "a(ss)", entries))


def root_hash(out: Out, field: str, eq: str) -> None:
    if eq.startswith("/"):
        out.append(Assignment("RootHashPath", "s", dbus_str(eq)))
        return
    data = unhexmem(eq)
    if len(data) < 16:
        raise Bad("an absolute path or a hex-encoded hash of at least 16 bytes")
    out.append(Assignment(field, "ay", data))


def root_hash_signature(out: Out, field: str, eq: str) -> None:
    if eq.startswith("/"):
        out.append(Assignment("RootHashSignaturePath", "s", dbus_str(eq)))
        return
    if not eq.startswith("base64:"):
        raise Bad("an absolute path or base64:DATA")
    out.append(Assignment(field, "ay", unbase64mem(eq[7:])))


_IMAGE_WORD: Final = CUNESCAPE | UNESCAPE_SEPARATORS


def root_image_options(out: Out, field: str, eq: str) -> None:
    """``strv_split_colon_pairs()``: ``[PARTITION:]OPTIONS`` ..."""
    entries = []
    rest: str | None = eq
    while True:
        group, rest = extract_first_word(rest, None, UNQUOTE | RETAIN_ESCAPE)
        if group is None:
            break
        (first, second), left, found = extract_many_words(group, ":", _IMAGE_WORD, 2)
        if found == 0:
            continue
        if left:
            raise Bad("PARTITION:OPTIONS pairs with one colon each")
        if second:
            entries.append((dbus_str(first or ""), dbus_str(second)))
        else:
            entries.append(("root", dbus_str(first or "")))
    out.append(Assignment(field, "a(ss)", entries))


def _image_options(rest: str | None) -> list[tuple[str, str]]:
    options = []
    while True:
        (partition, opts), rest, found = extract_many_words(rest, ":", _IMAGE_WORD, 2)
        if found == 0:
            break
        if found == 1:
            options.append(("root", dbus_str(partition or "")))
            break
        options.append((dbus_str(partition or ""), dbus_str(opts or "")))
    return options


def mount_images(out: Out, field: str, eq: str) -> None:
    """``[-]SOURCE:DEST[:PARTITION:OPTIONS...]`` ..."""
    entries = []
    rest: str | None = eq
    while True:
        group, rest = extract_first_word(rest, None, UNQUOTE | RETAIN_ESCAPE)
        if group is None:
            break
        (source, destination), left, found = extract_many_words(group, ":", _IMAGE_WORD, 2)
        if found == 0:
            continue
        source = source or ""
        permissive = source[:1] == "-"
        if permissive:
            source = source[1:]
        if not destination:
            raise Bad("[-]SOURCE:DESTINATION[:OPTIONS]")
        entries.append((dbus_str(source), dbus_str(destination), permissive, _image_options(left)))
    out.append(Assignment(field, "a(ssba(ss))", entries))


def extension_images(out: Out, field: str, eq: str) -> None:
    """``[-]SOURCE[:PARTITION:OPTIONS...]`` ..."""
    entries = []
    rest: str | None = eq
    while True:
        group, rest = extract_first_word(rest, None, UNQUOTE | RETAIN_ESCAPE)
        if group is None:
            break
        source, left = extract_first_word(group, ":", _IMAGE_WORD)
        if source is None:
            continue
        permissive = source[:1] == "-"
        if permissive:
            source = source[1:]
        entries.append((dbus_str(source), permissive, _image_options(left)))
    out.append(Assignment(field, "a(sba(ss))", entries))


def exec_directory(out: Out, field: str, eq: str) -> None:
    """StateDirectory= & co: ``NAME[:SYMLINK]`` ... -> the list and/or ``<field>Symlink``."""
    sources: list[str] = []
    symlinks: list[tuple[str, str, int]] = []
    rest: str | None = eq
    while True:
        group, rest = extract_first_word(rest, None, UNQUOTE)
        if group is None:
            break
        (source, destination), _, found = extract_many_words(
            group, ":", UNQUOTE | DONT_COALESCE_SEPARATORS, 2
        )
        if found == 0:  # pragma: no cover - a word always yields one
            raise Bad("NAME[:SYMLINK] entries")
        source = dbus_str(path_simplify(source or ""))
        if destination:
            symlinks.append((source, dbus_str(path_simplify(destination)), 0))
        else:
            sources.append(source)
    if sources:
        out.append(Assignment(field, "as", sources))
    if symlinks:
        out.append(Assignment(field + "Symlink", "a(sst)", symlinks))


# ----------------------------------------------------------------------- the group

HANDLERS: Final[dict[str, Handler]] = {
    **dict.fromkeys(
        ("User", "Group", "UtmpIdentifier", "UtmpMode", "PAMName", "TTYPath", "WorkingDirectory",
         "RootDirectory", "SyslogIdentifier", "ProtectSystem", "ProtectHome", "SELinuxContext",
         "RootImage", "RootVerity", "RuntimeDirectoryPreserve", "Personality", "KeyringMode",
         "ProtectProc", "ProcSubset", "NetworkNamespacePath", "IPCNamespacePath", "LogNamespace"),
        string,
    ),
    **dict.fromkeys(
        ("IgnoreSIGPIPE", "TTYVHangup", "TTYReset", "TTYVTDisallocate", "PrivateTmp",
         "PrivateDevices", "PrivateNetwork", "PrivateUsers", "PrivateMounts", "PrivateIPC",
         "NoNewPrivileges", "SyslogLevelPrefix", "MemoryDenyWriteExecute", "RestrictRealtime",
         "DynamicUser", "RemoveIPC", "ProtectKernelTunables", "ProtectKernelModules",
         "ProtectKernelLogs", "ProtectClock", "ProtectControlGroups", "MountAPIVFS",
         "CPUSchedulingResetOnFork", "LockPersonality", "ProtectHostname", "RestrictSUIDSGID"),
        boolean,
    ),
    **dict.fromkeys(
        ("ReadWriteDirectories", "ReadOnlyDirectories", "InaccessibleDirectories",
         "ReadWritePaths", "ReadOnlyPaths", "InaccessiblePaths", "ExecPaths", "NoExecPaths",
         "ExecSearchPath", "ExtensionDirectories", "ConfigurationDirectory", "SupplementaryGroups",
         "SystemCallArchitectures"),
        strv(UNQUOTE),
    ),
    "SyslogLevel": log_level,
    "LogLevelMax": log_level,
    "SyslogFacility": log_facility,
    "SecureBits": secure_bits,
    "CPUSchedulingPolicy": sched_policy,
    "CPUSchedulingPriority": i32,
    "OOMScoreAdjust": i32,
    "CoredumpFilter": coredump_filter,
    "Nice": nice,
    "SystemCallErrorNumber": errno_or_action,
    "IOSchedulingClass": ioprio_class,
    "IOSchedulingPriority": ioprio_priority,
    **dict.fromkeys(
        ("RuntimeDirectoryMode", "StateDirectoryMode", "CacheDirectoryMode", "LogsDirectoryMode",
         "ConfigurationDirectoryMode", "UMask"),
        mode,
    ),
    "TimerSlackNSec": nsec,
    "LogRateLimitIntervalSec": sec_rename,
    "LogRateLimitBurst": u32,
    "TTYRows": u32,
    "TTYColumns": u32,
    "MountFlags": mount_flags,
    **dict.fromkeys(
        ("Environment", "UnsetEnvironment", "PassEnvironment"), strv(UNQUOTE | CUNESCAPE)
    ),
    "EnvironmentFile": environment_file,
    "SetCredential": set_credential,
    "SetCredentialEncrypted": set_credential,
    "LoadCredential": load_credential,
    "LoadCredentialEncrypted": load_credential,
    "LogExtraFields": log_extra_fields,
    "StandardInput": standard_io,
    "StandardOutput": standard_io,
    "StandardError": standard_io,
    "StandardInputText": standard_input_text,
    "StandardInputData": standard_input_data,
    **{"Limit" + name: rlimit for name in T.RLIMIT_KIND},
    "AppArmorProfile": label_with_ignore,
    "SmackProcessLabel": label_with_ignore,
    "CapabilityBoundingSet": capabilities,
    "AmbientCapabilities": capabilities,
    "CPUAffinity": cpu_affinity,
    "NUMAPolicy": numa_policy,
    "NUMAMask": numa_mask,
    **dict.fromkeys(
        ("RestrictAddressFamilies", "RestrictFileSystems", "SystemCallFilter", "SystemCallLog",
         "RestrictNetworkInterfaces"),
        allow_deny_list,
    ),
    "RestrictNamespaces": restrict_namespaces,
    "BindPaths": bind_paths,
    "BindReadOnlyPaths": bind_paths,
    "TemporaryFileSystem": temporary_file_system,
    "RootHash": root_hash,
    "RootHashSignature": root_hash_signature,
    "RootImageOptions": root_image_options,
    "MountImages": mount_images,
    "ExtensionImages": extension_images,
    **dict.fromkeys(
        ("StateDirectory", "RuntimeDirectory", "CacheDirectory", "LogsDirectory"), exec_directory
    ),
}  # fmt: skip

LIST_WORDS: Final = frozenset(
    {"ReadWriteDirectories", "ReadOnlyDirectories", "InaccessibleDirectories", "ReadWritePaths",
     "ReadOnlyPaths", "InaccessiblePaths", "ExecPaths", "NoExecPaths", "ExecSearchPath",
     "ExtensionDirectories", "ConfigurationDirectory", "SupplementaryGroups",
     "SystemCallArchitectures", "SecureBits", "Environment", "UnsetEnvironment",
     "PassEnvironment", "CapabilityBoundingSet", "AmbientCapabilities", "CPUAffinity", "NUMAMask",
     "RestrictAddressFamilies", "RestrictFileSystems", "SystemCallFilter", "SystemCallLog",
     "RestrictNetworkInterfaces", "TemporaryFileSystem", "StateDirectory", "RuntimeDirectory",
     "CacheDirectory", "LogsDirectory"}
)  # fmt: skip
LIST_JOIN: Final = frozenset(
    {"CoredumpFilter", "RestrictNamespaces", "BindPaths", "BindReadOnlyPaths", "RootImageOptions",
     "MountImages", "ExtensionImages"}
)  # fmt: skip
