#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Check that uapi/linux/ringvm_netlink.h says what uapi/ringvm.yaml says.

The header is hand-written in the layout ynl-gen-c gives a genetlink spec
(attributes numbered from 1 as RINGVM_A_<SET>_<ATTR>, commands from 1 as
RINGVM_CMD_<OP>, __..._MAX / ..._MAX closing each enum).  This derives
those names and values from the spec and compares them with the enums the
header defines.  Exit 1 and a list of differences when they disagree.
"""
import re
import sys
import yaml


def c_name(*parts):
    return "_".join(p.upper().replace("-", "_") for p in parts)


def expected(spec):
    fam = spec["name"]
    want = {}
    for d in spec.get("definitions", []):
        if "header" in d:
            continue
        for i, e in enumerate(d["entries"]):
            name = e["name"] if isinstance(e, dict) else e
            val = 1 << i if d["type"] == "flags" else i
            want[c_name(fam, d["name"], name)] = val
    for aset in spec["attribute-sets"]:
        prefix = c_name(fam, "a", aset["name"])
        for i, attr in enumerate(aset["attributes"], start=1):
            want[c_name(prefix, attr["name"])] = i
        n = len(aset["attributes"])
        want["__" + prefix + "_MAX"] = n + 1
        want[prefix + "_MAX"] = n
    ops = spec["operations"]["list"]
    for i, op in enumerate(ops, start=1):
        want[c_name(fam, "cmd", op["name"])] = i
    want["__" + c_name(fam, "cmd_max")] = len(ops) + 1
    want[c_name(fam, "cmd_max")] = len(ops)
    return want


def parse_enums(text):
    """Values of the enumerators of every enum in a C header."""
    got = {}
    for body in re.findall(r"enum\s*\w*\s*\{(.*?)\}", text, re.S):
        val = -1
        for item in body.split(","):
            item = re.sub(r"/\*.*?\*/", "", item, flags=re.S).strip()
            if not item:
                continue
            name, _, expr = item.partition("=")
            name, expr = name.strip(), expr.strip()
            if expr:
                expr = re.sub(r"[A-Z_][A-Z0-9_]*",
                              lambda m: str(got[m.group(0)]), expr)
                val = eval(expr, {"__builtins__": {}})  # noqa: S307
            else:
                val += 1
            got[name] = val
    return got


def main():
    spec_path, hdr_path = sys.argv[1:3]
    with open(spec_path) as f:
        spec = yaml.safe_load(f)
    with open(hdr_path) as f:
        text = f.read()
    want, got = expected(spec), parse_enums(text)
    bad = [f"{k}: spec says {v}, header says {got.get(k)}"
           for k, v in want.items() if got.get(k) != v]
    bad += [f"{k}: in header, not in spec" for k in got if k not in want]
    name = spec["name"]
    for macro, val in (("FAMILY_NAME", f'"{name}"'),
                       ("MCGRP_EVENTS", '"events"')):
        if not re.search(rf"#define\s+{c_name(name, macro)}\s+{val}", text):
            bad.append(f"{c_name(name, macro)} is not {val}")
    for b in bad:
        print(f"check-spec: {b}")
    if bad:
        return 1
    print(f"check-spec: {hdr_path} matches {spec_path} ({len(want)} names)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
