#!/usr/bin/env bash
# test_report_formats.sh — `faultstack report --format json|junit|sarif`:
# each parses (python3 json / xml.etree), carries every finding of the
# findings view with its file, line, fault and repro, and exits 1 with findings,
# 0 without.
#
# Database: a fault-induced fd leak (demo_fd_leak, only=open,nth=2), a baseline
# leak (demo_fork_child_leak), a crash (demo_crash_null, only=malloc,nth=2),
# an anomaly and a leak in one run (demo_mismatched_release, only=fflush,nth=1)
# and a timeout (demo_hang sleep, --timeout 2). The crash's symbol is then
# changed to one with XML/JSON specials, a tab and a byte that is not UTF-8.
#
# JUnit: GitLab and Jenkins read <testsuites>/<testsuite>/<testcase>/<failure>
# with tests/failures counts; checked: the counts add up, one failing testcase
# per finding (file, line, repro in the message), a passing summary testcase.
# SARIF 2.1.0: checked against the parts of the OASIS schema that code
# scanning needs (version, $schema, tool.driver.name and rules, results with
# ruleId/ruleIndex/level/message.text, physicalLocation uri + region.startLine,
# relatedLocations for the fault); no schema file is downloaded.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
fs_init report_formats
fs_need_python

fs_new_db formats
fs_run --fail only=open,nth=2 -- "$DEMO_BIN/demo_fd_leak" "$DEMO_SRC/fd_leak.c" "$SCRATCH/copy.out"
assert_status 1
fs_run -- "$DEMO_BIN/demo_fork_child_leak" "$DEMO_SRC/fd_leak.c" exit
assert_status 1
fs_run --fail only=malloc,nth=2 -- "$DEMO_BIN/demo_crash_null" 3
assert_status 1
fs_run --fail only=fflush,nth=1 -- "$DEMO_BIN/demo_mismatched_release" "$SCRATCH/report.txt" Title
assert_status 1
fs_run --timeout 2 --fail only=malloc,nth=1 -- "$DEMO_BIN/demo_hang" sleep
assert_status 1
assert_eq "findings by category" "anomaly:1 crash:1 leak:3 timeout:1" \
    "$(q "SELECT group_concat(category || ':' || n, ' ') FROM
          (SELECT category, count(*) AS n FROM findings GROUP BY category ORDER BY category)")"
q "UPDATE finding SET symbol = 'we<i>rd & \"q\" ''s' || char(9) || CAST(X'FF' AS TEXT) || '!'
   WHERE category = 'crash'" >/dev/null

# Python helpers shared by the checks: the findings view as dicts.
PYLIB='
import json, sqlite3, sys, urllib.parse, xml.etree.ElementTree as ET
def fail(msg):
    print("CHECK FAILED: " + msg); sys.exit(1)
def findings(db):
    c = sqlite3.connect(db)
    c.text_factory = lambda b: b.decode("utf-8", "replace")
    c.row_factory = sqlite3.Row
    return [dict(r) for r in c.execute("SELECT * FROM findings ORDER BY id")]
def runs(db):
    return sqlite3.connect(db).execute("SELECT count(*) FROM runs").fetchone()[0]
'

# ---------------------------------------------------------------- json
fs_exec report --db "$DB" --format json
assert_status 1
fs_pycheck "json report: every finding with the view's columns, grouped by site" "$PYLIB"'
db, out = sys.argv[1], sys.argv[2]
doc = json.loads(open(out, "rb").read().decode("utf-8"))
if not isinstance(doc, list): fail("top level is not an array")
want = {f["id"]: f for f in findings(db)}
if sorted(o["id"] for o in doc) != sorted(want): fail("ids %s != %s" % ([o["id"] for o in doc], list(want)))
cols = ["id","category","kind","anomaly","func","module","file","line","symbol","fault_func","fault_file",
        "fault_line","runs","first_run","repro","offset","fault_module","fault_offset"]
for o in doc:
    if list(o)[:15] != cols[:15]: fail("the first 15 fields changed: %s" % list(o)[:15])
    for c in cols:
        if o[c] != want[o["id"]][c]: fail("finding %d field %s: %r != %r" % (o["id"], c, o[c], want[o["id"]][c]))
site_of = lambda o: (o["category"], o["kind"], o["anomaly"], o["func"], o["module"], o["offset"], o["file"], o["line"])
by_site = {}
for o in doc: by_site.setdefault(o["site"], []).append(o)
if len({site_of(o) for o in doc}) != len(by_site): fail("site indexes do not match the sites")
for s, os in by_site.items():
    if len({site_of(o) for o in os}) != 1: fail("site %d mixes sites" % s)
    if any(o["site_findings"] != len(os) for o in os): fail("site_findings of site %d" % s)
    if any(o["site_runs"] != sum(x["runs"] for x in os) for o in os): fail("site_runs of site %d" % s)
crash = [o for o in doc if o["category"] == "crash"][0]
if crash["symbol"] != "we<i>rd & \"q\" \x27s\t\ufffd!": fail("escaped symbol came back as %r" % crash["symbol"])
' "$DB" "$SCRATCH/last.out"

# ---------------------------------------------------------------- junit
fs_exec report --db "$DB" --format junit
assert_status 1
fs_pycheck "junit report: valid JUnit XML, one failing testcase per finding, a passing summary" "$PYLIB"'
db, out = sys.argv[1], sys.argv[2]
root = ET.parse(out).getroot()
if root.tag != "testsuites": fail("root is <%s>" % root.tag)
fs = findings(db)
cases = root.findall("./testsuite/testcase")
failures = root.findall("./testsuite/testcase/failure")
if int(root.get("tests")) != len(cases): fail("testsuites tests=%s, %d testcases" % (root.get("tests"), len(cases)))
if int(root.get("failures")) != len(failures) or len(failures) != len(fs):
    fail("testsuites failures=%s, %d failures, %d findings" % (root.get("failures"), len(failures), len(fs)))
for ts in root.findall("testsuite"):
    n, nf = len(ts.findall("testcase")), len(ts.findall("testcase/failure"))
    if int(ts.get("tests")) != n or int(ts.get("failures")) != nf or ts.get("errors") != "0":
        fail("testsuite %r counts tests=%s failures=%s, has %d/%d" % (ts.get("name"), ts.get("tests"), ts.get("failures"), n, nf))
    if not ts.get("name"): fail("testsuite without a name")
names = [(c.get("classname"), c.get("name")) for c in cases]
if len(set(names)) != len(names): fail("testcase names are not unique: %s" % names)
for f in fs:
    mine = [c for c in cases if c.find("failure") is not None and ("finding #%d," % f["id"]) in c.find("failure").get("message")]
    if len(mine) != 1: fail("finding %d: %d testcases" % (f["id"], len(mine)))
    c = mine[0]; msg = c.find("failure").get("message"); body = c.find("failure").text
    if f["repro"] not in msg or f["repro"] not in body: fail("finding %d: repro not in the failure" % f["id"])
    if f["file"] and (c.get("file") != f["file"] or c.get("line") != str(f["line"])):
        fail("finding %d: file/line %s:%s" % (f["id"], c.get("file"), c.get("line")))
    if f["file"] and ("%s:%d" % (f["file"], f["line"])) not in c.get("name"): fail("finding %d: site not in the name" % f["id"])
    if f["fault_func"] and ("%s at %s:%d" % (f["fault_func"], f["fault_file"], f["fault_line"])) not in msg:
        fail("finding %d: fault not in the message: %s" % (f["id"], msg))
    if not f["fault_func"] and "baseline (no fault)" not in msg: fail("finding %d: baseline not said" % f["id"])
    if c.get("classname") != "faultstack.%s%s" % (f["category"], "." + f["kind"] if f["kind"] else ""):
        fail("finding %d: classname %s" % (f["id"], c.get("classname")))
passing = [c for c in cases if c.find("failure") is None]
if len(passing) != 1 or ("%d runs" % runs(db)) not in passing[0].get("name"):
    fail("summary testcase: %s" % [c.get("name") for c in passing])
weird = [ts.get("name") for ts in root.findall("testsuite") if "we<i>rd" in ts.get("name")]
if weird != ["crash SIGSEGV: new_item at %s:%d (in we<i>rd & \"q\" \x27s\t?!)" % (
        [f for f in fs if f["category"] == "crash"][0]["file"], [f for f in fs if f["category"] == "crash"][0]["line"])]:
    fail("escaped testsuite name: %r" % weird)
' "$DB" "$SCRATCH/last.out"

# ---------------------------------------------------------------- sarif
SARIF_CHECK="$PYLIB"'
db, out, srcroot = sys.argv[1], sys.argv[2], sys.argv[3]
doc = json.loads(open(out, "rb").read().decode("utf-8"))
if doc.get("version") != "2.1.0": fail("version %r" % doc.get("version"))
if "sarif-2.1.0" not in doc.get("$schema", ""): fail("$schema %r" % doc.get("$schema"))
if len(doc["runs"]) != 1: fail("%d runs" % len(doc["runs"]))
run = doc["runs"][0]
drv = run["tool"]["driver"]
if drv["name"] != "faultstack": fail("driver name %r" % drv["name"])
rules = drv["rules"]
ids = [r["id"] for r in rules]
if len(set(ids)) != len(ids): fail("duplicate rules %s" % ids)
for r in rules:
    if not r["shortDescription"]["text"] or r["defaultConfiguration"]["level"] != "error": fail("rule %r" % r)
bases = {k: v["uri"] for k, v in run.get("originalUriBaseIds", {}).items()}
for v in bases.values():
    if not v.startswith("file:///") or not v.endswith("/"): fail("base uri %r" % v)
def resolve(al):
    uri = al["uri"]
    if "uriBaseId" in al: uri = bases[al["uriBaseId"]] + uri
    if not uri.startswith("file://"): fail("unresolvable uri %r" % al)
    return urllib.parse.unquote(uri[len("file://"):])
def check_phys(pl, file, line, what):
    if resolve(pl["artifactLocation"]) != file: fail("%s: uri %r is not %s" % (what, pl["artifactLocation"], file))
    if pl["region"]["startLine"] != line: fail("%s: startLine %r != %d" % (what, pl["region"], line))
    return pl["artifactLocation"]
fs = {f["id"]: f for f in findings(db)}
res = run["results"]
if sorted(r["properties"]["id"] for r in res) != sorted(fs): fail("results are not the findings")
for r in res:
    f = fs[r["properties"]["id"]]
    want_rule = "/".join(x for x in (f["category"], f["anomaly"], f["kind"]) if x)
    if r["ruleId"] != want_rule or ids[r["ruleIndex"]] != want_rule: fail("finding %d: rule %s/%s" % (f["id"], r["ruleId"], r["ruleIndex"]))
    if r["level"] != "error": fail("level %r" % r["level"])
    t = r["message"]["text"]
    if f["repro"] not in t: fail("finding %d: repro not in the message" % f["id"])
    if f["fault_func"] and ("%s at %s:%d" % (f["fault_func"], f["fault_file"], f["fault_line"])) not in t:
        fail("finding %d: fault not in the message: %s" % (f["id"], t))
    if f["file"]:
        al = check_phys(r["locations"][0]["physicalLocation"], f["file"], f["line"], "finding %d" % f["id"])
        if f["file"].startswith(srcroot + "/") and (al.get("uriBaseId") != "SRCROOT" or al["uri"].startswith("/")):
            fail("finding %d: file under the srcroot, uri not relative: %r" % (f["id"], al))
        if f["fault_func"] and f["fault_file"]:
            rl = r["relatedLocations"]
            check_phys(rl[0]["physicalLocation"], f["fault_file"], f["fault_line"], "fault of %d" % f["id"])
            if not rl[0]["message"]["text"]: fail("related location without a message")
        elif "relatedLocations" in r: fail("baseline finding %d has a related location" % f["id"])
    elif f["category"] == "timeout":
        check_phys(r["locations"][0]["physicalLocation"], f["fault_file"], f["fault_line"], "timeout %d" % f["id"])
print("sarif: %d results, %d rules" % (len(res), len(rules)))
'
fs_exec report --db "$DB" --format sarif
assert_status 1
fs_pycheck "sarif report (srcroot: the current directory)" "$SARIF_CHECK" "$DB" "$SCRATCH/last.out" "$(pwd -P)"
SRCROOT=$(cd "$DEMO_SRC/.." && pwd -P)
fs_exec report --db "$DB" --format sarif --srcroot "$DEMO_SRC/.."
assert_status 1
fs_pycheck "sarif report (--srcroot targets/)" "$SARIF_CHECK" "$DB" "$SCRATCH/last.out" "$SRCROOT"
assert_stdout_contains "sarif: fd_leak.c relative to --srcroot" '"uri": "demo/fd_leak.c", "uriBaseId": "SRCROOT"'

# ---------------------------------------------------------------- no findings
fs_new_db clean
fs_run -- "$DEMO_BIN/demo_fd_leak_ok" "$DEMO_SRC/fd_leak_ok.c" "$SCRATCH/copy.out"
assert_status 0
for fmt in json junit sarif; do
    fs_exec report --db "$DB" --format "$fmt"
    assert_status 0
    cp "$SCRATCH/last.out" "$SCRATCH/clean.$fmt"
done
fs_pycheck "reports without findings parse and are empty" "$PYLIB"'
d = sys.argv[1]
if json.load(open(d + "/clean.json")) != []: fail("json is not []")
root = ET.parse(d + "/clean.junit").getroot()
if root.get("failures") != "0" or root.get("tests") != "1" or len(root.findall("./testsuite/testcase")) != 1:
    fail("junit without findings: %s" % ET.tostring(root))
s = json.load(open(d + "/clean.sarif"))
if s["runs"][0]["results"] != [] or s["runs"][0]["tool"]["driver"]["rules"] != []: fail("sarif not empty")
' "$SCRATCH"
