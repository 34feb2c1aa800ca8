# SPDX-License-Identifier: GPL-2.0
#
# Read one test machine's console log (as written by selftests/runner/init.sh)
# and judge the run.  Called by run.sh as
#
#	awk -v machine=NAME -v mode=tests|demo|bench -f parse.awk LOG
#
# Prints what went wrong (one "MACHINE: reason" line each, with offending
# lines indented under it) and, as the last line, "@result P F S BAD" where P,
# F and S count passed, failed and skipped test cases and BAD is 1 when the
# run failed in any way (a failed case, a crash or hang, a kernel splat).
#
# Counting, per the kselftest TAP the suite prints:
#   - only lines between "# ringvm-test: NAME" and "# ringvm-test-exit:"
#     count, and only top-level result lines: "ok N ..." passed,
#     "ok N ... # SKIP ..." skipped, "not ok N ..." failed.  The harness's
#     "# Totals" line and nested ("# ok") lines are not counted again;
#   - a test that exits non-zero without printing "not ok" is one failure,
#     except exit code 4 (KSFT_SKIP) with no result lines, which is one skip;
#   - a missing end marker means the guest crashed or hung.
#
# Kernel splats are looked for in every line, console and the dmesg dump
# alike (with "quiet" the console hides KERN_WARNING, so a WARN_ON shows only
# in the dump).  The forms are matched, not any line containing "WARNING:":
# Bochs boots print "RETBleed: WARNING: Spectre v2 mitigation leaves CPU
# vulnerable ...", which is not a failure.

function fail_reason(msg)
{
	reasons[++nreasons] = machine ": " msg
	bad = 1
}

function note_line(idx, line)
{
	if (nlines[idx] < 20)
		lines[idx, ++nlines[idx]] = line
	else
		nlines_dropped[idx]++
}

# Which splat, if any, LINE shows; "" when none.
function splat_kind(line)
{
	if (line ~ /RETBleed: WARNING:/)
		return ""
	if (line ~ /WARNING: CPU:/ ||
	    index(line, "------------[ cut here ]------------"))
		return "a kernel warning splat"
	if (line ~ /(^|[^A-Za-z0-9_])BUG:/ || line ~ /kernel BUG at /)
		return "a kernel BUG"
	if (line ~ /(^|[^A-Za-z0-9_])Oops([^A-Za-z0-9_]|$)/ ||
	    line ~ /general protection fault/)
		return "a kernel oops"
	if (line ~ /Kernel panic/)
		return "a kernel panic"
	if (line ~ /soft lockup|detected hard LOCKUP/ ||
	    line ~ /rcu_[a-z_]+ self-detected stall/ ||
	    line ~ /rcu: INFO: rcu_[a-z_]+ detected stalls/ ||
	    line ~ /INFO: task .* blocked for more than/)
		return "a lockup or stall report"
	# Lockdep's headers: "WARNING: possible circular locking dependency
	# detected", "WARNING: inconsistent lock state", "WARNING: held lock
	# freed!", "WARNING: HARDIRQ-safe -> HARDIRQ-unsafe lock order
	# detected", "WARNING: suspicious RCU usage", and the like.
	if (line ~ /(^|\] )WARNING: (possible |.*[Ll]ock|.*RCU)/ ||
	    line ~ /possible circular locking dependency/ ||
	    line ~ /possible recursive locking detected/ ||
	    line ~ /inconsistent lock state/ ||
	    line ~ /suspicious RCU usage/ ||
	    line ~ /bad unlock balance detected/)
		return "a lockdep report"
	# "UBSAN: shift-out-of-bounds in ...", "BUG: KASAN: slab-out-of-
	# bounds in ..." (the latter is a BUG: above as well).
	if (line ~ /UBSAN:/ || line ~ /KASAN:/)
		return "a sanitizer report"
	# kmemleak's own report is judged object by object, below; this is
	# its verbose form in the log.
	if (line ~ /unreferenced object 0x/)
		return "a kmemleak report"
	if (line ~ /Kernel memory leak detector disabled/)
		return "kmemleak turning itself off (no leak check)"
	return ""
}

# The kmemleak object being read ends: keep it if it is ringvm's, that
# is, if its allocation backtrace names a function of ringvm or an
# address in module space that no longer resolves (ringvm was unloaded
# after the tests; only ringvm, kvm, kvm_amd, kvm_intel and msr are ever
# loaded); else only count it.
function kmemleak_close(	i)
{
	if (km_cur == "")
		return
	if (km_ours) {
		kml_ours++
		for (i = 1; i <= km_n; i++)
			note_line("kmemleak", km_rec[i])
	} else {
		kml_other++
	}
	km_cur = ""
}

BEGIN {
	passed = failed = skipped = 0
	cur = ""
	# The benchmark (run.sh --bench) is a row of demo steps too.
	demo_like = mode == "demo" || mode == "bench"
}

{
	gsub(/\r/, "")
}

# kmemleak's report (init.sh dumps /sys/kernel/debug/kmemleak on kernels
# that have it): records of the form
#	unreferenced object 0xffff888004a1c000 (size 64):
#	  comm "insmod", pid 95, jiffies 4294671140 (age 30.624s)
#	  hex dump (first 32 bytes):
#	    00 00 00 00 ...  ................
#	  backtrace:
#	    [<00000000c0b1e7e5>] __kmalloc+0x4c/0x170
#	    [<00000000a3e0c6b6>] ringvm_vm_create+0x1d/0x380 [ringvm]
# The hex dump is memory, so no splat is looked for in here.
/^# ringvm-kmemleak-begin/	{ in_kmemleak = 1; next }
/^# ringvm-kmemleak-end/	{ kmemleak_close(); in_kmemleak = 0; next }
/^# ringvm-kmemleak-fail: / {
	sub(/^# ringvm-kmemleak-fail: /, "")
	kml_fail = kml_fail (kml_fail == "" ? "" : "; ") $0
	next
}
in_kmemleak {
	if ($0 ~ /^unreferenced object 0x/) {
		kmemleak_close()
		km_cur = $0
		km_ours = 0
		km_n = 0
	}
	if (km_cur == "")
		next
	# The first lines and the backtrace, not the hex dump.
	if ($0 !~ /^    [0-9a-f][0-9a-f] / && $0 !~ /^  hex dump/)
		if (km_n < 12)
			km_rec[++km_n] = $0
	if ($0 ~ /\[ringvm\]$/ || $0 ~ /\] ringvm_/ ||
	    $0 ~ /^    \[<[0-9a-f]+>\] 0xffffffff[c-f][0-9a-f]+$/)
		km_ours = 1
	next
}

# Splats first: a marker line is never one, and a splat line inside a
# test's output must still be seen.
{
	kind = splat_kind($0)
	if (kind != "") {
		where = in_dmesg ? "the kernel log (dmesg)" : "the console"
		key = where " shows " kind
		if (!(key in splat_seen)) {
			splat_seen[key] = ++nsplats
			splat_key[nsplats] = key
		}
		note_line("splat" splat_seen[key], $0)
	}
}

/^# ringvm-runner: start/	{ started = 1; next }
/^# ringvm-runner: end/		{ ended = 1; next }
/^# ringvm-dmesg-begin/		{ in_dmesg = 1; next }
/^# ringvm-dmesg-end/		{ in_dmesg = 0; next }
in_dmesg			{ next }

/^# ringvm-test: / {
	if (cur != "") {
		failed++
		failed_exit[++nfailed_exit] = cur " printed no exit marker"
	}
	cur = $3
	cur_results = cur_failed = ncase_msgs = 0
	ntests++
	next
}

/^# ringvm-test-exit: / {
	name = $3
	rc = $4
	if (rc != 0 && !cur_failed) {
		if (rc == 4 && !cur_results) {
			skipped++
		} else {
			failed++
			failed_exit[++nfailed_exit] = name " exited with " rc \
				" without printing \"not ok\""
		}
	}
	cur = ""
	next
}

# What the harness says about a failing case: its "FILE.c:LINE:CASE:"
# lines (failed expectations and their TH_LOG text) since the case's
# "#  RUN", shown under the case's "not ok" so that a CI log that keeps
# only the summary still says why.
cur != "" && /^#[ \t]+RUN[ \t]/ {
	ncase_msgs = 0
	next
}

cur != "" && /^# [A-Za-z0-9_.-]+\.c:[0-9]+:/ {
	if (ncase_msgs < 4)
		case_msgs[++ncase_msgs] = substr($0, 3)
	next
}

cur != "" && /^not ok [0-9]+/ {
	failed++
	cur_failed++
	cur_results++
	note_line("notok", cur ": " $0)
	for (i = 1; i <= ncase_msgs; i++)
		note_line("notok", "    " case_msgs[i])
	ncase_msgs = 0
	next
}

cur != "" && /^ok [0-9]+/ {
	cur_results++
	if ($0 ~ /#[ \t]*[Ss][Kk][Ii][Pp]/)
		skipped++
	else
		passed++
	next
}

# Demo mode: show each step and what it printed, remember failing steps:
# an exit code other than the one wanted, or output a check refused.
demo_like && /^# ringvm-demo: / {
	sub(/^# ringvm-demo: /, "")
	demo_out[++ndemo] = "$ " $0
	next
}

demo_like && /^# ringvm-demo-fail: / {
	sub(/^# ringvm-demo-fail: /, "")
	demo_failed[++ndemo_failed] = $0
	next
}

demo_like && /^# ringvm-demo-exit: / {
	ndemo_steps++
	rc = $3
	want = $4
	if (rc != 0)
		demo_out[++ndemo] = "(exit " rc ")"
	if (rc != want) {
		sub(/^# ringvm-demo-exit: [0-9]+ [0-9]+ /, "")
		demo_failed[++ndemo_failed] = $0 " (exit " rc ", wanted " \
			want ")"
	}
	next
}

demo_like && /^# ringvm-demo-done/ {
	demo_done = 1
	next
}

demo_like && /^# ringvm-bench-table-(begin|end)/ {
	next
}

demo_like && started && !ended {
	demo_out[++ndemo] = $0
}

END {
	if (demo_like) {
		for (i = 1; i <= ndemo; i++)
			print demo_out[i]
		if (started && !demo_done)
			fail_reason("demo stopped after " ndemo_steps " steps")
		for (i = 1; i <= ndemo_failed; i++)
			fail_reason("demo step failed: " demo_failed[i])
	}

	if (!started)
		fail_reason("the guest never reached /init (no start marker)")
	else if (!ended)
		fail_reason("no end marker: the guest crashed or hung" \
			    (cur != "" ? " in test " cur : ""))
	if (!demo_like && started && ntests == 0)
		fail_reason("no test ran")
	if (failed)
		fail_reason(failed " test case(s) failed")
	for (i = 1; i <= nlines["notok"]; i++)
		reasons[nreasons] = reasons[nreasons] "\n    " lines["notok", i]
	if (nlines_dropped["notok"])
		reasons[nreasons] = reasons[nreasons] "\n    ... " \
			nlines_dropped["notok"] " more"
	for (i = 1; i <= nfailed_exit; i++)
		fail_reason(failed_exit[i])
	if (kml_fail != "")
		fail_reason("kmemleak: " kml_fail)
	if (kml_ours) {
		fail_reason("kmemleak: " kml_ours " unreferenced object(s)" \
			" allocated by ringvm")
		for (i = 1; i <= nlines["kmemleak"]; i++)
			reasons[nreasons] = reasons[nreasons] "\n    " \
					    lines["kmemleak", i]
		if (nlines_dropped["kmemleak"])
			reasons[nreasons] = reasons[nreasons] "\n    ... " \
				nlines_dropped["kmemleak"] " more lines"
	}
	for (s = 1; s <= nsplats; s++) {
		fail_reason(splat_key[s])
		for (i = 1; i <= nlines["splat" s]; i++)
			reasons[nreasons] = reasons[nreasons] "\n    " \
					    lines["splat" s, i]
		if (nlines_dropped["splat" s])
			reasons[nreasons] = reasons[nreasons] "\n    ... " \
				nlines_dropped["splat" s] " more"
	}

	for (i = 1; i <= nreasons; i++)
		print reasons[i]
	if (kml_other)
		print machine ": kmemleak: " kml_other " unreferenced" \
			" object(s) not allocated by ringvm (not counted;" \
			" see the console log)"
	printf "@result %d %d %d %d\n", passed, failed, skipped, bad
}
