#!/usr/bin/env python3
"""test_report_formats.py — the checks of test_report_formats.sh, which makes
the database and the reports and runs this file (python3 unittest).

Environment (set by the script):
  FS_DB       the database (findings of every category, a hostile crash symbol)
  FS_OUT      the reports: {cwd,root}.{json,junit,sarif} (srcroot: the current
              directory, or --srcroot FS_SRCROOT), root.txt, moved.{junit,sarif}
              (the database with every line moved), clean.{json,junit,sarif}
  FS_SRCROOT  the --srcroot of the root.* reports (targets/)
  FS_CWD      the directory the cwd.* reports were made in
  FS_XSD      schemas/junit-jenkins.xsd (Jenkins xUnit's rules for JUnit XML)

JUnit: valid for Jenkins (xmllint --schema), the counts add up, one failing
testcase per finding with its repro, stable names (no absolute path, no line
number, the same when the code moves). SARIF 2.1.0: the parts of the OASIS
schema code scanning needs, relative URIs with originalUriBaseIds, a
partialFingerprint per result that does not change when the code moves.
"""
import json
import os
import re
import sqlite3
import subprocess
import unittest
import urllib.parse
import xml.etree.ElementTree as ET

DB = os.environ["FS_DB"]
OUT = os.environ["FS_OUT"]
SRCROOT = os.environ["FS_SRCROOT"]
CWD = os.environ["FS_CWD"]
XSD = os.environ["FS_XSD"]

COLS = ["id", "category", "kind", "anomaly", "func", "module", "file", "line", "symbol", "fault_func",
        "fault_file", "fault_line", "runs", "first_run", "repro", "offset", "fault_module", "fault_offset"]
WEIRD = "we<i>rd & \"q\" 's\t"


def findings():
    c = sqlite3.connect(DB)
    c.text_factory = lambda b: b.decode("utf-8", "replace")
    c.row_factory = sqlite3.Row
    return [dict(r) for r in c.execute("SELECT * FROM findings ORDER BY id")]


def nruns():
    return sqlite3.connect(DB).execute("SELECT count(*) FROM runs").fetchone()[0]


def rel(path, root):
    return path[len(root) + 1:] if path and path.startswith(root + "/") else path


def read(name, errors="strict"):
    """JSON, XML: strictly UTF-8; text passes the program's bytes through (errors="replace")."""
    with open(os.path.join(OUT, name), "rb") as f:
        return f.read().decode("utf-8", errors)


class Json(unittest.TestCase):
    def check(self, name, root):
        doc = json.loads(read(name))
        self.assertIsInstance(doc, list)
        want = {f["id"]: f for f in findings()}
        self.assertEqual(sorted(o["id"] for o in doc), sorted(want))
        for o in doc:
            self.assertEqual(list(o)[:15], COLS[:15], "the first 15 fields never change")
            for c in COLS:
                self.assertEqual(o[c], want[o["id"]][c], "finding %d field %s" % (o["id"], c))
            self.assertEqual(o["srcfile"], rel(o["file"], root), "srcfile: file relative to the srcroot")
            self.assertEqual(o["fault_srcfile"], rel(o["fault_file"], root))
        site_of = lambda o: (o["category"], o["kind"], o["anomaly"], o["func"], o["module"], o["offset"],
                             o["file"], o["line"])
        by_site = {}
        for o in doc:
            by_site.setdefault(o["site"], []).append(o)
        self.assertEqual(len({site_of(o) for o in doc}), len(by_site), "site indexes match the sites")
        for s, os_ in by_site.items():
            self.assertEqual(len({site_of(o) for o in os_}), 1, "site %d mixes sites" % s)
            self.assertTrue(all(o["site_findings"] == len(os_) for o in os_))
            self.assertTrue(all(o["site_runs"] == sum(x["runs"] for x in os_) for o in os_))
        crash = [o for o in doc if o["category"] == "crash"][0]
        self.assertEqual(crash["symbol"], WEIRD + "\ufffd!", "escaped symbol comes back")
        fault = [o for o in doc if o["category"] == "leak" and o["fault_func"] == "open"][0]
        self.assertEqual(fault["srcfile"], rel(fault["file"], root))
        self.assertEqual(fault["fault_symbol"], "copy_file", "fault_symbol: the injected call's function")

    def test_cwd(self):
        self.check("cwd.json", CWD)

    def test_srcroot(self):
        self.check("root.json", SRCROOT)


class JUnit(unittest.TestCase):
    def validate(self, name):
        r = subprocess.run(["xmllint", "--noout", "--schema", XSD, os.path.join(OUT, name)],
                           capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, "%s against %s:\n%s" % (name, XSD, r.stderr))

    def test_valid_for_jenkins(self):
        for name in ("cwd.junit", "root.junit", "moved.junit", "clean.junit"):
            self.validate(name)

    def test_schema_refuses_file_on_testcase(self):
        """The schema is not a pushover: the old output (file= line= on testcase) fails it."""
        bad = os.path.join(OUT, "bad.junit")
        with open(bad, "w") as f:
            f.write(read("root.junit").replace("<testcase ", '<testcase file="a.c" line="3" ', 1))
        r = subprocess.run(["xmllint", "--noout", "--schema", XSD, bad], capture_output=True, text=True)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("'file' is not allowed", r.stderr)

    def test_cases_and_counts(self):
        root = ET.parse(os.path.join(OUT, "root.junit")).getroot()
        self.assertEqual(root.tag, "testsuites")
        fs = findings()
        cases = root.findall("./testsuite/testcase")
        failures = root.findall("./testsuite/testcase/failure")
        self.assertEqual(int(root.get("tests")), len(cases))
        self.assertEqual(int(root.get("failures")), len(failures))
        self.assertEqual(len(failures), len(fs))
        for ts in root.findall("testsuite"):
            n, nf = len(ts.findall("testcase")), len(ts.findall("testcase/failure"))
            self.assertEqual((int(ts.get("tests")), int(ts.get("failures")), ts.get("errors")), (n, nf, "0"))
            self.assertTrue(ts.get("name"))
        for f in fs:
            mine = [c for c in cases if c.find("failure") is not None
                    and ("finding #%d," % f["id"]) in c.find("failure").get("message")]
            self.assertEqual(len(mine), 1, "finding %d: one testcase" % f["id"])
            c = mine[0]
            msg, body = c.find("failure").get("message"), c.find("failure").text
            self.assertIn(f["repro"], msg)
            self.assertIn(f["repro"], body)
            self.assertIsNone(c.get("file"), "no file on testcase (Jenkins refuses it)")
            self.assertIsNone(c.get("line"))
            if f["file"]:
                self.assertIn("%s:%d" % (rel(f["file"], SRCROOT), f["line"]), msg, "the site's line is in the message")
            if f["fault_func"]:
                self.assertIn("%s at %s:%d" % (f["fault_func"], rel(f["fault_file"], SRCROOT), f["fault_line"]), msg)
            else:
                self.assertIn("baseline (no fault)", msg)
            self.assertEqual(c.get("classname"), "faultstack.%s%s" % (f["category"], "." + f["kind"] if f["kind"] else ""))
        passing = [c for c in cases if c.find("failure") is None]
        self.assertEqual([c.get("name") for c in passing], ["runs recorded"], "one summary testcase, a stable name")
        self.assertIn("%d runs" % nruns(), passing[0].find("system-out").text)

    def names(self, name):
        root = ET.parse(os.path.join(OUT, name)).getroot()
        return [(c.get("classname"), c.get("name")) for c in root.findall("./testsuite/testcase")]

    def test_stable_names(self):
        names = self.names("root.junit")
        self.assertEqual(len(set(names)), len(names), "testcase names are unique")
        suites = [ts.get("name") for ts in ET.parse(os.path.join(OUT, "root.junit")).getroot().findall("testsuite")]
        for n in [n for _, n in names] + suites:
            self.assertNotIn(SRCROOT, n, "no absolute srcroot in %r" % n)
            self.assertIsNone(re.search(r"(^|[ (])/", n), "no absolute path in %r" % n)
            self.assertIsNone(re.search(r":[0-9]+", n), "no line number in %r" % n)
            self.assertIsNone(re.search(r"#[0-9]", n), "no finding id in %r" % n)
        self.assertEqual(names, self.names("moved.junit"), "the names stay when the code moves")
        leak = [n for _, n in names if n.startswith("leak fd: open in copy_file (demo/fd_leak.c)")]
        one = "leak fd: open in copy_file (demo/fd_leak.c), when open in copy_file (demo/fd_leak.c) fails"
        self.assertEqual(leak, [one, one + " (2)"], "the twin (same identity) is told apart in report order")

    def test_file_on_testsuite(self):
        root = ET.parse(os.path.join(OUT, "root.junit")).getroot()
        files = {ts.get("file") for ts in root.findall("testsuite")} - {None}
        self.assertIn("demo/fd_leak.c", files, "testsuite file= relative to --srcroot")
        self.assertFalse([f for f in files if f.startswith(SRCROOT)])

    def test_escaped(self):
        root = ET.parse(os.path.join(OUT, "root.junit")).getroot()
        weird = [ts.get("name") for ts in root.findall("testsuite") if "we<i>rd" in ts.get("name")]
        self.assertEqual(weird, ["crash SIGSEGV: new_item in " + WEIRD + "?! (demo/crash_null.c)"])


class Sarif(unittest.TestCase):
    def check(self, name, root):
        doc = json.loads(read(name))
        self.assertEqual(doc.get("version"), "2.1.0")
        self.assertIn("sarif-2.1.0", doc.get("$schema", ""))
        self.assertEqual(len(doc["runs"]), 1)
        run = doc["runs"][0]
        drv = run["tool"]["driver"]
        self.assertEqual(drv["name"], "faultstack")
        ids = [r["id"] for r in drv["rules"]]
        self.assertEqual(len(set(ids)), len(ids))
        for r in drv["rules"]:
            self.assertTrue(r["shortDescription"]["text"])
            self.assertEqual(r["defaultConfiguration"]["level"], "error")
        bases = {k: v["uri"] for k, v in run["originalUriBaseIds"].items()}
        self.assertEqual(set(bases), {"SRCROOT", "ROOT"})
        self.assertEqual(bases["SRCROOT"], "file://" + urllib.parse.quote(root) + "/")
        self.assertEqual(bases["ROOT"], "file:///")

        def resolve(al):
            self.assertIn(al.get("uriBaseId"), bases, "every URI is relative to a base: %r" % al)
            self.assertFalse(al["uri"].startswith("/") or "://" in al["uri"], "relative URI: %r" % al)
            return urllib.parse.unquote(bases[al["uriBaseId"]][len("file://"):] + al["uri"])

        def check_phys(pl, file, line, what):
            self.assertEqual(resolve(pl["artifactLocation"]), file, what)
            self.assertEqual(pl["region"]["startLine"], line, what)
            return pl["artifactLocation"]

        fs = {f["id"]: f for f in findings()}
        res = run["results"]
        self.assertEqual(sorted(r["properties"]["id"] for r in res), sorted(fs))
        prints = [r["partialFingerprints"]["faultstackFinding/v1"] for r in res]
        self.assertTrue(all(re.fullmatch("[0-9a-f]{16}", p) for p in prints))
        self.assertEqual(len(set(prints)), len(prints), "one fingerprint per finding")
        for r in res:
            f = fs[r["properties"]["id"]]
            want_rule = "/".join(x for x in (f["category"], f["anomaly"], f["kind"]) if x)
            self.assertEqual((r["ruleId"], ids[r["ruleIndex"]]), (want_rule, want_rule))
            self.assertEqual(r["level"], "error")
            t = r["message"]["text"]
            self.assertIn(f["repro"], t)
            if f["fault_func"]:
                self.assertIn("%s at %s:%d" % (f["fault_func"], rel(f["fault_file"], root), f["fault_line"]), t)
            if f["file"]:
                al = check_phys(r["locations"][0]["physicalLocation"], f["file"], f["line"], "finding %d" % f["id"])
                if f["file"].startswith(root + "/"):
                    self.assertEqual(al["uriBaseId"], "SRCROOT")
                if f["fault_func"] and f["fault_file"]:
                    rl = r["relatedLocations"]
                    check_phys(rl[0]["physicalLocation"], f["fault_file"], f["fault_line"], "fault of %d" % f["id"])
                    self.assertTrue(rl[0]["message"]["text"])
                else:
                    self.assertNotIn("relatedLocations", r)
            elif f["category"] == "timeout":
                check_phys(r["locations"][0]["physicalLocation"], f["fault_file"], f["fault_line"], "timeout")
        return {r["properties"]["id"]: r["partialFingerprints"]["faultstackFinding/v1"] for r in res}

    def test_cwd(self):
        self.check("cwd.sarif", CWD)

    def test_srcroot(self):
        self.check("root.sarif", SRCROOT)
        self.assertIn('"uri": "demo/fd_leak.c", "uriBaseId": "SRCROOT"', read("root.sarif"))

    def test_fingerprints_stable(self):
        doc = json.loads(read("root.sarif"))
        moved = json.loads(read("moved.sarif"))
        fp = lambda d: {r["properties"]["id"]: r["partialFingerprints"] for r in d["runs"][0]["results"]}
        self.assertEqual(fp(doc), fp(moved), "fingerprints stay when the code moves")


class Text(unittest.TestCase):
    def test_srcroot(self):
        t = read("root.txt", "replace")
        f = min((f for f in findings() if f["category"] == "leak" and f["fault_func"] == "open"),
                key=lambda f: f["line"])
        self.assertIn("open at demo/fd_leak.c:%d (in copy_file)" % f["line"], t)
        self.assertIn("fault: open at demo/fd_leak.c:%d" % f["fault_line"], t)
        words = "\n".join(l for l in t.splitlines() if not l.strip().startswith("repro:"))
        self.assertNotIn(SRCROOT + "/demo", words, "files under --srcroot are shown relative to it (repro "
                                                   "commands keep the paths they run with)")


class Clean(unittest.TestCase):
    def test_empty(self):
        self.assertEqual(json.loads(read("clean.json")), [])
        root = ET.parse(os.path.join(OUT, "clean.junit")).getroot()
        self.assertEqual((root.get("failures"), root.get("tests")), ("0", "1"))
        self.assertEqual(len(root.findall("./testsuite/testcase")), 1)
        s = json.loads(read("clean.sarif"))
        self.assertEqual(s["runs"][0]["results"], [])
        self.assertEqual(s["runs"][0]["tool"]["driver"]["rules"], [])


if __name__ == "__main__":
    unittest.main()
