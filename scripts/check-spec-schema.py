#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Validate uapi/ringvm.yaml against the kernel's genetlink schema.

    check-spec-schema.py SCHEMA SPEC           validate; exit 1 on an error
    check-spec-schema.py --selftest SCHEMA SPEC
        prove that the check bites: SPEC must pass, and copies of it with
        one planted error each (an unknown key, a wrong type, a missing
        required key, a bad name) must fail

SCHEMA is Documentation/netlink/genetlink.yaml from the kernel sources
(scripts/ynl.sh), the strictest of the genetlink schemas, the one ynl
itself picks for "protocol: genetlink".  Runs Debian's python3 with
python3-jsonschema and python3-yaml.
"""
import copy
import sys

import jsonschema
import yaml


def load(path):
    with open(path, encoding="utf-8") as f:
        return yaml.safe_load(f)


def errors(schema, spec):
    """The validation errors, each as 'path: message'."""
    v = jsonschema.Draft7Validator(schema)
    return ["/".join(str(p) for p in e.absolute_path) + ": " + e.message
            for e in sorted(v.iter_errors(spec), key=lambda e: e.path)]


def attr(spec, aset, name):
    for s in spec["attribute-sets"]:
        if s["name"] == aset:
            for a in s["attributes"]:
                if a["name"] == name:
                    return a
    raise KeyError(f"{aset}/{name}")


def op(spec, name):
    for o in spec["operations"]["list"]:
        if o["name"] == name:
            return o
    raise KeyError(name)


# Each: what it plants, and a function that plants it in a copy.
BROKEN = [
    ("an unknown top-level key",
     lambda s: s.update({"unknown-key": 1})),
    ("an unknown attribute type (u33)",
     lambda s: attr(s, "vm", "max-vcpus").update({"type": "u33"})),
    ("an attribute name of the wrong type (a number)",
     lambda s: attr(s, "caps", "arch").update({"name": 7})),
    ("an unknown key in an operation",
     lambda s: op(s, "vm-new").update({"admin": True})),
    ("an operation without its name",
     lambda s: op(s, "vm-del").pop("name")),
    ("an unknown operation flag",
     lambda s: op(s, "vm-new").update({"flags": ["root-only"]})),
    ("a multicast group with an unknown key",
     lambda s: s["mcast-groups"]["list"][0].update({"id": 1})),
]


def main(argv):
    selftest = len(argv) > 1 and argv[1] == "--selftest"
    args = argv[2:] if selftest else argv[1:]
    if len(args) != 2:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    schema, spec = load(args[0]), load(args[1])
    jsonschema.Draft7Validator.check_schema(schema)
    errs = errors(schema, spec)
    for e in errs:
        print(f"{args[1]}: {e}", file=sys.stderr)
    if errs:
        print(f"{args[1]}: does not validate against {args[0]}",
              file=sys.stderr)
        return 1
    if not selftest:
        return 0
    bad = 0
    for what, plant in BROKEN:
        broken = copy.deepcopy(spec)
        plant(broken)
        if not errors(schema, broken):
            print(f"check-spec-schema selftest: {what} passed validation",
                  file=sys.stderr)
            bad = 1
    if not bad:
        print(f"check-spec-schema: {args[1]} validates; "
              f"{len(BROKEN)} broken copies fail")
    return bad


if __name__ == "__main__":
    sys.exit(main(sys.argv))
