#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# ynl-payload.sh DEST: what the kernel's ynl client needs to run in the
# test machines' busybox initramfs, as a tree to merge at its root:
#
#   /usr/bin/python3                 Debian's python3.11
#   /lib64/ld-linux-x86-64.so.2, /lib/x86_64-linux-gnu/*.so.*
#                                    the C libraries it links
#   /usr/lib/python311.zip           compiled (.pyc) stdlib modules and
#                                    python3-yaml's pure-Python yaml: only
#                                    those the client imports
#   /usr/lib/python3.11/lib-dynload  the extension modules it imports that
#                                    need no other library (_json)
#   /ringvm/ynl/cli.py, lib/         tools/net/ynl from linux-source-6.12
#   /ringvm/ynl/ringvm.yaml          uapi/ringvm.yaml
#   /ringvm/ynl/ynl                  runs cli.py: ynl --spec ... --do ...
#
# The modules are found by running the client here under Debian's python
# with -X importtime on ringvm's spec (the host has no ringvm family, so
# it stops after resolving the family: every import is done by then).
# Optional imports whose extension needs a library not shipped (_bz2,
# _lzma, _uuid, yaml's libyaml binding) are left out; their importers fall
# back to Python.  Modules imported only on demand are added by name
# (textwrap).  jsonschema is not shipped: the client runs with
# --no-schema in the guest, and `make` validates the spec against the same
# schema (scripts/check-spec-schema.py).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
dest=${1:?usage: ynl-payload.sh DEST}
py=/usr/bin/python3.11
ynl=$("$top/scripts/ynl.sh")/tools/net/ynl
dist=/usr/lib/python3/dist-packages
[ -x "$py" ] || { echo "ynl-payload.sh: $py missing (python3)" >&2; exit 1; }
[ -f "$dist/yaml/__init__.py" ] ||
	{ echo "ynl-payload.sh: python3-yaml missing" >&2; exit 1; }

rm -rf "$dest"
mkdir -p "$dest"/usr/bin "$dest"/usr/lib/python3.11/lib-dynload \
	"$dest"/lib/x86_64-linux-gnu "$dest"/lib64 "$dest"/ringvm/ynl
cp "$py" "$dest/usr/bin/python3"

# The libraries python3 links, where its loader looks for them.
libs=$(ldd "$py" | awk '$2 == "=>" && $3 ~ /^\// { print $3 }')
for l in $libs; do
	cp -L "$l" "$dest/lib/x86_64-linux-gnu/"
done
cp -L /lib64/ld-linux-x86-64.so.2 "$dest/lib64/"

# The modules the client imports.
mods=$(cd "$top" && { PYTHONPATH=$dist "$py" -S -X importtime "$ynl/cli.py" \
	--no-schema --spec uapi/ringvm.yaml --do caps-get 2>&1 >/dev/null ||
	true; } | awk -F'|' '/^import time:/ && $3 !~ /package/ {
		gsub(/ /, "", $3); print $3 }')
[ -n "$mods" ] || { echo "ynl-payload.sh: no imports traced" >&2; exit 1; }
# Imported only on demand: textwrap by argparse for --help.
PYTHONPATH=$dist "$py" -S - "$dest" $mods textwrap <<'PY'
import importlib.util
import os
import py_compile
import subprocess
import sys
import tempfile
import zipfile

dest, mods = sys.argv[1], sys.argv[2:]
shipped = set(os.listdir(os.path.join(dest, "lib/x86_64-linux-gnu")))
pyc = {}
for name in mods:
    if name == "lib" or name.startswith("lib."):
        continue                        # the client's own package
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        continue
    if spec is None or not spec.origin or not os.path.isfile(spec.origin):
        continue                        # built in, frozen, or absent
    origin = spec.origin
    if origin.endswith(".so"):
        need = subprocess.run(["ldd", origin], capture_output=True,
                              text=True).stdout
        libs = {l.split()[0] for l in need.splitlines() if "=>" in l}
        if libs <= shipped and "/dist-packages/" not in origin:
            out = os.path.join(dest, "usr/lib/python3.11/lib-dynload")
            subprocess.run(["cp", origin, out], check=True)
        continue
    arc = name.replace(".", "/")
    arc += "/__init__.pyc" if spec.submodule_search_locations else ".pyc"
    pyc[arc] = origin

with tempfile.TemporaryDirectory() as tmp, \
        zipfile.ZipFile(os.path.join(dest, "usr/lib/python311.zip"), "w",
                        zipfile.ZIP_STORED) as z:
    for arc, src in sorted(pyc.items()):
        out = os.path.join(tmp, "x.pyc")
        py_compile.compile(src, cfile=out, dfile=arc[:-1], doraise=True)
        z.write(out, arc)
print(f"ynl-payload: {len(pyc)} modules in python311.zip")
PY

cp "$ynl/cli.py" "$dest/ringvm/ynl/"
cp -r "$ynl/lib" "$dest/ringvm/ynl/"
"$py" -m compileall -q "$dest/ringvm/ynl"
cp "$top/uapi/ringvm.yaml" "$dest/ringvm/ynl/"
cat >"$dest/ringvm/ynl/ynl" <<'SH'
#!/bin/sh
# The kernel's ynl client (tools/net/ynl/cli.py of Linux 6.12).
PYTHONHOME=/usr exec /usr/bin/python3 -S /ringvm/ynl/cli.py "$@"
SH
chmod 755 "$dest/ringvm/ynl/ynl"
