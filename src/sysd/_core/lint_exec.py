"""Value checks of systemd 252's remaining execution-context and small parsers, for
:mod:`sysd._core.lint`.

Security labels (``SELinuxContext=``, ``AppArmorProfile=``, ``SmackProcessLabel=``),
``SecureBits=``, ``CPUAffinity=``, ``NUMAMask=``, ``CoredumpFilter=``, the logging settings
(``SyslogFacility=``, ``LogNamespace=``), ``Personality=``, ``PassEnvironment=``,
``ExecSearchPath=``, and the small socket/swap/unit ones (``SocketProtocol=``,
``BindToDevice=``, ``Priority=``, ``*ExitStatus=``, the obsolete ``RequiresOverridable=``),
ported from ``src/core/load-fragment.c`` and ``src/shared/conf-parser.c`` as
:mod:`sysd._core.lint_values` ports the others.  Pure: no I/O.
"""

from __future__ import annotations

import re
from typing import Final

from . import unitname
from .lint_cgroup import cpu_set_problems, ifname_valid
from .lint_sandbox import (
    PATH_CHECK_ABSOLUTE,
    credential_name_valid,
    filename_is_valid,
    names,
    path_simplify_and_warn,
)
from .lint_sandbox import words as _words
from .lint_values import (
    FULL_SPECIFIERS,
    Problem,
    _Check,
    _string_is_safe,
    _table_or_number,
    _unit_deps,
    _warn,
    bad_specifier,
    has_specifier,
)
from .props import execute
from .props._c import (
    CUNESCAPE,
    DONT_COALESCE_SEPARATORS,
    RETAIN_ESCAPE,
    UNESCAPE_SEPARATORS,
    UNQUOTE,
    Bad,
    cunescape,
    extract_first_word,
    extract_many_words,
    parse_boolean,
    safe_atoi,
    safe_atoi64,
    safe_atou,
    unbase64mem,
    unhexmem,
)
from .props._kit import parse_ip_protocol
from .props._tables import COREDUMP_FILTER_BITS, LOG_FACILITY_BY_NAME

__all__ = ["CHECKS"]

_EINVAL: Final = "Invalid argument"
_ERANGE: Final = "Numerical result out of range"


def _label(key: str, value: str, ltype: str, unit_type: str) -> list[Problem]:
    """config_parse_exec_selinux_context & co: ``[-]LABEL``; a bad specifier is fatal without -."""
    if not value:
        return []
    ignore = value.startswith("-")
    rest = value[1:] if ignore else value
    if bad_specifier(rest, FULL_SPECIFIERS) is None:
        return []
    if ignore:
        return _warn(f"Failed to resolve unit specifiers in '{rest}', ignoring: Invalid slot")
    return [Problem("error", f"Failed to resolve unit specifiers in '{rest}': Invalid slot", True)]


def _silent(key: str, value: str, ltype: str, unit_type: str) -> list[Problem]:
    """Parsers that never complain about a value (config_parse_exec_secure_bits: unknown names
    are skipped; config_parse_string without CONFIG_PARSE_STRING_SAFE)."""
    return []


def _mount_apivfs(key: str, value: str, ltype: str, unit_type: str) -> list[Problem]:
    if not value or parse_boolean(value) is not None:
        return []
    return _warn(f"Failed to parse boolean value, ignoring: {value}")


_HEX: Final = re.compile("(0[xX])?[0-9a-fA-F]+")
_NUMBER: Final = re.compile(r"[+-]?(0[xX][0-9a-fA-F]+|0[bB][01]+|0[oO]?[0-7]*|[1-9][0-9]*)")


def _coredump_filter(key: str, value: str, ltype: str, unit_type: str) -> list[Problem]:
    if not value:
        return []
    try:
        execute.coredump_filter([], key, value)
    except Bad:
        error = _EINVAL
        for word in _words(value, 0)[0]:  # the first word that is no name decides
            if word in ("default", "all") or word in COREDUMP_FILTER_BITS:
                continue
            error = _ERANGE if _HEX.fullmatch(word.lstrip(" \t\n\r").lstrip("-")) else _EINVAL
            break
        return _warn(f"Failed to parse the CoredumpFilter={value}, ignoring: {error}")
    return []


def _cpu_affinity(key: str, value: str, ltype: str, unit_type: str) -> list[Problem]:
    if value == "numa":
        return []
    if bad_specifier(value, FULL_SPECIFIERS) is not None:
        return _warn(f"Failed to resolve unit specifiers in '{value}', ignoring: Invalid slot")
    if has_specifier(value):
        return []
    return cpu_set_problems(key, value)


def _numa_mask(key: str, value: str, ltype: str, unit_type: str) -> list[Problem]:
    if value == "all":
        return []  # the mask of all nodes is the machine's (its failure is not checked)
    out = cpu_set_problems(key, value)
    if any(p.severity == "error" for p in out):
        out += _warn(f"Failed to parse NUMA node mask, ignoring: {value}")
    return out


_LOG_NAMESPACE_MAX: Final = 255 - 32 - 1


def _log_namespace(key: str, value: str, ltype: str, unit_type: str) -> list[Problem]:
    if not value:
        return []
    if bad_specifier(value, FULL_SPECIFIERS) is not None:
        return _warn(f"Failed to resolve unit specifiers in {value}, ignoring: Invalid slot")
    if has_specifier(value):
        return []
    valid = (
        filename_is_valid(value)
        and len(value.encode("utf-8", "surrogateescape")) <= _LOG_NAMESPACE_MAX
        and unitname.instance_is_valid(value)
        and _string_is_safe(value)
        and not any(c in value for c in "*?[")
    )
    if not valid:
        return _warn(f"Specified log namespace name is not valid, ignoring: {value}")
    return []


def _personality(key: str, value: str, ltype: str, unit_type: str) -> list[Problem]:
    """config_parse_personality on x86-64: the native ABI and its secondary one (x86)."""
    if value in ("", "x86-64", "x86"):
        return []
    return _warn(f"Failed to parse personality, ignoring: {value}")


_ENV_NAME: Final = re.compile("[A-Za-z_][A-Za-z0-9_]*")


def _pass_environ(key: str, value: str, ltype: str, unit_type: str) -> list[Problem]:
    if not value:
        return []
    out: list[Problem] = []
    found, failed = _words(value, UNQUOTE)
    for word in found:
        if bad_specifier(word, FULL_SPECIFIERS) is not None:
            out += _warn(f"Failed to resolve specifiers in {word}, ignoring: Invalid slot")
        elif not has_specifier(word) and not _ENV_NAME.fullmatch(word):
            out += _warn(f"Invalid environment name for {key}, ignoring: {word}")
    if failed:
        out += _warn(f"Trailing garbage in {key}, ignoring: {value}")
    return out


def _colon_separated_paths(key: str, value: str, ltype: str, unit_type: str) -> list[Problem]:
    """config_parse_colon_separated_paths (ExecSearchPath=): absolute paths split at ``:``."""
    if not value:
        return []
    p: str | None = value
    while True:
        try:
            word, p = extract_first_word(p, ":", DONT_COALESCE_SEPARATORS)
        except Bad:
            return _warn(f"Failed to extract first word, ignoring: {value}")
        if word is None:
            return []
        if bad_specifier(word, FULL_SPECIFIERS) is not None:
            return _warn(f"Failed to resolve unit specifiers in '{word}', ignoring: Invalid slot")
        if has_specifier(word):
            continue
        problem = path_simplify_and_warn(word, PATH_CHECK_ABSOLUTE, key)
        if problem:
            return problem


def _socket_protocol(key: str, value: str, ltype: str, unit_type: str) -> list[Problem]:
    """parse_socket_protocol(): udplite or sctp."""
    if parse_ip_protocol(value) in (136, 132):
        return []
    return _warn(f"Failed to parse socket protocol, ignoring: {value}")


def _bind_to_device(key: str, value: str, ltype: str, unit_type: str) -> list[Problem]:
    if not value or value == "*" or ifname_valid(value):
        return []
    return _warn(f"Invalid interface name, ignoring: {value}")


def _exit_status(key: str, value: str, ltype: str, unit_type: str) -> list[Problem]:
    """config_parse_exit_status: 0..255 (safe_atou8)."""
    if not value:
        return []
    n = safe_atou(value)
    if n is not None and n <= 255:
        return []
    stripped = value.strip(" \t\n\r")
    error = _ERANGE if _NUMBER.fullmatch(stripped) else _EINVAL
    return _warn(f"Failed to parse exit status '{value}', ignoring: {error}")


def _swap_priority(key: str, value: str, ltype: str, unit_type: str) -> list[Problem]:
    if not value:
        return []
    n = safe_atoi(value)
    if n is None:
        return _warn(f"Invalid swap priority '{value}', ignoring.")
    if n < -1:
        return _warn(
            "Sorry, swap priorities smaller than -1 may only be assigned by the kernel itself, "
            f"ignoring: {value}"
        )
    if n > 32767:
        return _warn(f"Swap priority out of range, ignoring: {value}")
    return []


def _long(key: str, value: str, ltype: str, unit_type: str) -> list[Problem]:
    """config_parse_long: safe_atoli() (64 bits here)."""
    if safe_atoi64(value) is not None:
        return []
    return _warn(f"Failed to parse long value, ignoring: {value}")


def _obsolete_unit_deps(key: str, value: str, ltype: str, unit_type: str) -> list[Problem]:
    new = {"UNIT_REQUIRES": "Requires", "UNIT_REQUISITE": "Requisite"}.get(ltype, ltype)
    return [
        *_warn(
            f"Unit dependency type {key}= is obsolete, replacing by {new}=, please update your "
            "unit file"
        ),
        *_unit_deps(key, value, ltype, unit_type),
    ]


# ----------------------------------------------------------------------------- data, images


def _input_text(key: str, value: str, ltype: str, unit_type: str) -> list[Problem]:
    """config_parse_exec_input_text (StandardInputText=): C escapes, then specifiers."""
    if not value:
        return []
    try:
        text = cunescape(value).decode("utf-8", "surrogateescape")
    except Bad:
        return _warn(f"Failed to decode C escaped text '{value}', ignoring: {_EINVAL}")
    if bad_specifier(text, FULL_SPECIFIERS) is not None:
        return _warn(f"Failed to resolve unit specifiers in '{text}', ignoring: Invalid slot")
    return []


def _input_data(key: str, value: str, ltype: str, unit_type: str) -> list[Problem]:
    """config_parse_exec_input_data (StandardInputData=): base64."""
    if not value:
        return []
    try:
        unbase64mem(value)
    except Bad:
        return _warn(f"Failed to decode base64 data, ignoring: {value}")
    return []


_JOURNAL_FIELD: Final = re.compile("[A-Z][A-Z0-9_]{0,63}", re.ASCII)


def _log_extra_fields(key: str, value: str, ltype: str, unit_type: str) -> list[Problem]:
    """config_parse_log_extra_fields: quoted ``FIELD=VALUE`` words."""
    if not value:
        return []
    out: list[Problem] = []
    found, failed = _words(value, CUNESCAPE | UNQUOTE)
    for word in found:
        if bad_specifier(word, FULL_SPECIFIERS) is not None:
            out += _warn(f"Failed to resolve unit specifiers in {word}, ignoring: Invalid slot")
            continue
        if has_specifier(word):
            continue
        name, eq, _ = word.partition("=")
        if not eq:
            out += _warn(f"Log field lacks '=' character, ignoring: {word}")
        elif not _JOURNAL_FIELD.fullmatch(name):
            out += _warn(f"Log field name is invalid, ignoring: {word}")
    if failed:
        out += _warn(f"Invalid syntax, ignoring: {value}")
    return out


def _root_hash(key: str, value: str, ltype: str, unit_type: str) -> list[Problem]:
    """config_parse_exec_root_hash: a path, or at least 16 bytes in hex."""
    if not value or value.startswith("/"):
        return []
    try:
        decoded = unhexmem(value)
    except Bad:
        return _warn(f"Failed to decode RootHash=, ignoring: {value}")
    if len(decoded) < 16:
        return _warn(f"RootHash= is too short, ignoring: {value}")
    return []


def _root_hash_sig(key: str, value: str, ltype: str, unit_type: str) -> list[Problem]:
    """config_parse_exec_root_hash_sig: a path, or ``base64:DATA``."""
    if not value or value.startswith("/"):
        return []
    if not value.startswith("base64:"):
        return _warn(
            "Failed to decode RootHashSignature=, not a path but doesn't start with 'base64:', "
            f"ignoring: {value}"
        )
    try:
        unbase64mem(value[7:])
    except Bad:
        return _warn(f"Failed to decode RootHashSignature=, ignoring: {value}")
    return []


def _set_credential(key: str, value: str, ltype: str, unit_type: str) -> list[Problem]:
    """config_parse_set_credential: ``ID:DATA`` (base64 for SetCredentialEncrypted=)."""
    if not value:
        return []
    try:
        word, p = extract_first_word(value, ":", DONT_COALESCE_SEPARATORS)
    except Bad:
        return _warn(f"Failed to extract credential name, ignoring: {value}")
    if word is None or not p:
        return _warn(f"Invalid syntax, ignoring: {value}")
    if bad_specifier(word, FULL_SPECIFIERS) is not None:
        return _warn(f'Failed to resolve unit specifiers in "{word}", ignoring: Invalid slot')
    if not has_specifier(word) and not credential_name_valid(word):
        return _warn(f'Credential name "{word}" not valid, ignoring.')
    if ltype not in ("0", "false"):
        try:
            unbase64mem(p)
        except Bad:
            return _warn("Encrypted credential data not valid Base64 data, ignoring.")
        return []
    try:
        cunescape(p, accept_nul=True)
    except Bad:
        return _warn(f'Can\'t unescape "{p}", ignoring: {_EINVAL}')
    return []


def _temporary_filesystems(key: str, value: str, ltype: str, unit_type: str) -> list[Problem]:
    """config_parse_temporary_filesystems (TemporaryFileSystem=): ``PATH[:OPTIONS]`` words."""
    if not value:
        return []
    out: list[Problem] = []
    found, failed = _words(value, UNQUOTE)
    for word in found:
        try:
            path, _ = extract_first_word(word, ":", DONT_COALESCE_SEPARATORS)
        except Bad:
            out += _warn(f"Failed to extract first word, ignoring: {word}")
            continue
        if path is None:
            out += _warn(f"Invalid syntax, ignoring: {word}")
            continue
        if bad_specifier(path, FULL_SPECIFIERS) is not None:
            out += _warn(f"Failed to resolve unit specifiers in {path}, ignoring: Invalid slot")
            continue
        if not has_specifier(path):
            out += path_simplify_and_warn(path, PATH_CHECK_ABSOLUTE, key) or []
    if failed:
        out += _warn(f"Failed to extract first word, ignoring: {value}")
    return out


_BIND_SEPARATORS: Final = ": \t\n\r"


def _next_bind_word(p: str) -> tuple[str | None, str | None, bool]:
    """extract_first_word(":" WHITESPACE, UNQUOTE|DONT_COALESCE): (word, rest, ended by ':')."""
    word, rest = extract_first_word(p, _BIND_SEPARATORS, UNQUOTE | DONT_COALESCE_SEPARATORS)
    colon = rest is not None and len(rest) < len(p) and p[len(p) - len(rest) - 1] == ":"
    return word, rest, colon


def _bind_paths(key: str, value: str, ltype: str, unit_type: str) -> list[Problem]:
    """config_parse_bind_paths (BindPaths=, BindReadOnlyPaths=): ``[-]SRC[:DST[:OPTIONS]]``."""
    if not value:
        return []
    out: list[Problem] = []
    p: str | None = value
    while True:
        try:
            source, p, colon = _next_bind_word(p or "") if p is not None else (None, None, False)
        except Bad:
            return out + _warn(f"Failed to parse {key}, ignoring: {value}")
        if source is None:
            return out
        if bad_specifier(source, FULL_SPECIFIERS) is not None:
            out += _warn(f'Failed to resolve unit specifiers in "{source}", ignoring: Invalid slot')
            continue
        s = source[1:] if source.startswith("-") else source
        if not has_specifier(s):
            problem = path_simplify_and_warn(s, PATH_CHECK_ABSOLUTE, key)
            if problem:
                out += problem
                continue
        if not colon:
            continue
        try:
            destination, p, colon = _next_bind_word(p or "")
        except Bad:
            return out + _warn(f"Failed to parse {key}, ignoring: {value}")
        if destination is None:
            out += _warn(f"Missing argument after ':', ignoring: {s}")
            continue
        if bad_specifier(destination, FULL_SPECIFIERS) is not None:
            message = f'Failed to resolve specifiers in "{destination}", ignoring: Invalid slot'
            out += _warn(message)
            continue
        if not has_specifier(destination):
            problem = path_simplify_and_warn(destination, PATH_CHECK_ABSOLUTE, key)
            if problem:
                out += problem
                continue
        if colon:
            try:
                options, p = extract_first_word(p, None, UNQUOTE)
            except Bad:
                return out + _warn(f"Failed to parse {key}=, ignoring: {value}")
            if options not in (None, "", "rbind", "norbind"):
                out += _warn(f"Invalid option string, ignoring setting: {options}")


_FILESYSTEM_GROUPS: Final = names(
    "@basic-api @anonymous @application @auxiliary-api @common-block @historical-block @network "
    "@privileged-api @security @temporary @known"
)


def _restrict_filesystems(key: str, value: str, ltype: str, unit_type: str) -> list[Problem]:
    """config_parse_restrict_filesystems: any names; unknown @groups are warned about."""
    if not value:
        return []
    rest = value[1:] if value.startswith("~") else value
    out: list[Problem] = []
    found, failed = _words(rest, UNQUOTE)
    for word in found:
        if word.startswith("@") and word not in _FILESYSTEM_GROUPS:
            out += _warn(f"bpf-lsm: Unknown filesystem group, ignoring: {word}")
    if failed:
        out += _warn(f"Trailing garbage in {key}, ignoring: {rest}")
    return out


_PARTITIONS: Final = names(
    "root root-secondary root-other usr usr-secondary usr-other home srv esp xbootldr swap "
    "root-verity root-secondary-verity root-other-verity usr-verity usr-secondary-verity "
    "usr-other-verity root-verity-sig root-secondary-verity-sig root-other-verity-sig "
    "usr-verity-sig usr-secondary-verity-sig usr-other-verity-sig tmp var"
)
_IMAGE_FLAGS: Final = CUNESCAPE | UNESCAPE_SEPARATORS


def _options_problems(partition: str, options: str) -> list[Problem]:
    """One ``PARTITION:OPTIONS`` pair of the image settings."""
    if partition not in _PARTITIONS:
        return _warn(f"Invalid partition name {partition}, ignoring")
    if bad_specifier(options, FULL_SPECIFIERS) is not None:
        return _warn(f"Failed to resolve unit specifiers in {options}, ignoring: Invalid slot")
    return []


def _root_image_options(key: str, value: str, ltype: str, unit_type: str) -> list[Problem]:
    """config_parse_root_image_options: ``[PARTITION:]OPTIONS`` words (strv_split_colon_pairs)."""
    if not value:
        return []
    pairs: list[tuple[str, str]] = []
    tuples, failed = _words(value, UNQUOTE | RETAIN_ESCAPE)
    try:
        if failed:
            raise Bad("syntax")
        for t in tuples:
            (first, second), rest, found = extract_many_words(t, ":", _IMAGE_FLAGS, 2)
            if not found:
                continue
            if rest:
                raise Bad("more than two fields")
            pairs.append((first or "", second or ""))
    except Bad:
        return _warn(f"Failed to parse {key}, ignoring: {value}")
    out: list[Problem] = []
    for first, second in pairs:
        out += _options_problems(first, second) if second else _options_problems("root", first)
    return out


def _image_options_loop(q: str | None, first: str) -> list[Problem]:
    """The ``PARTITION:OPTIONS`` pairs after an image's paths; ``first`` is named by systemd's
    message for a lone option string (its source path, for MountImages=)."""
    out: list[Problem] = []
    while True:
        before = q
        try:
            (partition, options), q, found = extract_many_words(q, ":", _IMAGE_FLAGS, 2)
        except Bad:
            return [*out, *_warn(f"Invalid syntax, ignoring: {before}")]
        if not found:
            return out
        if found == 1:
            if bad_specifier(partition or "", FULL_SPECIFIERS) is not None:
                message = f"Failed to resolve unit specifiers in {first}, ignoring: Invalid slot"
                out += _warn(message)
            return out
        out += _options_problems(partition or "", options or "")


def _mount_images(key: str, value: str, ltype: str, unit_type: str) -> list[Problem]:
    """config_parse_mount_images: ``[-]SOURCE:DEST[:PARTITION:OPTIONS...]`` words."""
    if not value:
        return []
    out: list[Problem] = []
    tuples, failed = _words(value, UNQUOTE | RETAIN_ESCAPE)
    for t in tuples:
        try:
            (first, second), q, found = extract_many_words(t, ":", _IMAGE_FLAGS, 2)
        except Bad:
            return [*out, *_warn(f"Invalid syntax in {key}=, ignoring: {t}")]
        if not found or first is None:
            continue
        src = first[1:] if first.startswith("-") else first
        if bad_specifier(src, FULL_SPECIFIERS) is not None:
            out += _warn(f'Failed to resolve unit specifiers in "{src}", ignoring: Invalid slot')
            continue
        if not has_specifier(src):
            problem = path_simplify_and_warn(src, PATH_CHECK_ABSOLUTE, key)
            if problem:
                out += problem
                continue
        if not second:
            out += _warn(f"Missing destination in {key}, ignoring: {value}")
            continue
        if bad_specifier(second, FULL_SPECIFIERS) is not None:
            out += _warn(f'Failed to resolve specifiers in "{second}", ignoring: Invalid slot')
            continue
        if not has_specifier(second):
            problem = path_simplify_and_warn(second, PATH_CHECK_ABSOLUTE, key)
            if problem:
                out += problem
                continue
        out += _image_options_loop(q, first)
    if failed:
        out += _warn(f"Invalid syntax {key}={value}, ignoring: {_EINVAL}")
    return out


def _extension_images(key: str, value: str, ltype: str, unit_type: str) -> list[Problem]:
    """config_parse_extension_images: ``[-]SOURCE[:PARTITION:OPTIONS...]`` words."""
    if not value:
        return []
    out: list[Problem] = []
    tuples, failed = _words(value, UNQUOTE | RETAIN_ESCAPE)
    for t in tuples:
        try:
            source, q = extract_first_word(t, ":", _IMAGE_FLAGS)
        except Bad:
            return [*out, *_warn(f"Invalid syntax in {key}=, ignoring: {t}")]
        if source is None:
            continue
        src = source[1:] if source.startswith("-") else source
        if bad_specifier(src, FULL_SPECIFIERS) is not None:
            out += _warn(f'Failed to resolve unit specifiers in "{src}", ignoring: Invalid slot')
            continue
        if not has_specifier(src):
            problem = path_simplify_and_warn(src, PATH_CHECK_ABSOLUTE, key)
            if problem:
                out += problem
                continue
        out += _image_options_loop_ext(q)
    if failed:
        out += _warn(f"Invalid syntax {key}={value}, ignoring: {_EINVAL}")
    return out


def _image_options_loop_ext(q: str | None) -> list[Problem]:
    """ExtensionImages= names the lone option string itself in its message."""
    out: list[Problem] = []
    while True:
        before = q
        try:
            (partition, options), q, found = extract_many_words(q, ":", _IMAGE_FLAGS, 2)
        except Bad:
            return [*out, *_warn(f"Invalid syntax, ignoring: {before}")]
        if not found:
            return out
        if found == 1:
            p = partition or ""
            if bad_specifier(p, FULL_SPECIFIERS) is not None:
                out += _warn(f"Failed to resolve unit specifiers in {p}, ignoring: Invalid slot")
            return out
        out += _options_problems(partition or "", options or "")


_FACILITIES: Final = " ".join(LOG_FACILITY_BY_NAME)

CHECKS: Final[dict[str, _Check]] = {
    "config_parse_exec_selinux_context": _label,
    "config_parse_exec_apparmor_profile": _label,
    "config_parse_exec_smack_process_label": _label,
    "config_parse_exec_secure_bits": _silent,
    "config_parse_string": _silent,
    "config_parse_exec_mount_apivfs": _mount_apivfs,
    "config_parse_exec_coredump_filter": _coredump_filter,
    "config_parse_exec_cpu_affinity": _cpu_affinity,
    "config_parse_numa_mask": _numa_mask,
    "config_parse_log_facility": _table_or_number(
        _FACILITIES, 127, "Failed to parse log facility", empty_ok=False
    ),
    "config_parse_log_namespace": _log_namespace,
    "config_parse_personality": _personality,
    "config_parse_pass_environ": _pass_environ,
    "config_parse_colon_separated_paths": _colon_separated_paths,
    "config_parse_socket_protocol": _socket_protocol,
    "config_parse_socket_bindtodevice": _bind_to_device,
    "config_parse_exit_status": _exit_status,
    "config_parse_swap_priority": _swap_priority,
    "config_parse_long": _long,
    "config_parse_obsolete_unit_deps": _obsolete_unit_deps,
    "config_parse_exec_input_text": _input_text,
    "config_parse_exec_input_data": _input_data,
    "config_parse_log_extra_fields": _log_extra_fields,
    "config_parse_exec_root_hash": _root_hash,
    "config_parse_exec_root_hash_sig": _root_hash_sig,
    "config_parse_set_credential": _set_credential,
    "config_parse_temporary_filesystems": _temporary_filesystems,
    "config_parse_bind_paths": _bind_paths,
    "config_parse_restrict_filesystems": _restrict_filesystems,
    "config_parse_root_image_options": _root_image_options,
    "config_parse_mount_images": _mount_images,
    "config_parse_extension_images": _extension_images,
}
