#!/usr/bin/env bash
# test_ci_recipes.sh — the CI recipes of docs/ci (GitHub Actions, GitLab CI) are
# valid YAML of the right shape, every `faultstack SUBCOMMAND ...` line in them
# uses only options that subcommand's --help names, and their sweep and report
# scripts really work: each recipe's own sweep script runs once per shard of its
# matrix on the fd_leak demo (as FS_TESTS), its report script merges the shards,
# writes JUnit (parsed) and SARIF (parsed), and its last command fails on the
# findings; the merged findings are those of one unsharded sweep. (The HTML
# report line runs once `faultstack report --help` offers --format html.)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
fs_init ci_recipes

CI=$(cd "$FS_LIB_DIR/../../docs/ci" && pwd)
PY=
for p in python3 /usr/bin/python3; do
    if command -v "$p" >/dev/null && "$p" -c 'import yaml' 2>/dev/null; then PY=$p; break; fi
done
[[ -n $PY ]] || { echo "ci_recipes: python3 with PyYAML is needed (apt-get install python3-yaml)" >&2; exit 2; }

# the options of each subcommand, as its --help names them (plus -h/--help)
SUBS=$("$FAULTSTACK" --help | grep -oE '^  faultstack [a-z]+' | awk '{print $2}' | sort -u | tr '\n' ' ')
for s in $SUBS; do
    { "$FAULTSTACK" "$s" --help 2>&1 || true; } | grep -oE '(^|[^A-Za-z0-9_-])(--[a-z][a-z0-9-]*[a-z0-9]|-[a-z])([^A-Za-z0-9_-]|$)' |
        grep -oE -- '--?[a-z][a-z0-9-]*' | sort -u >"$SCRATCH/opts-$s" || true   # functions: none
    printf -- '--help\n-h\n' >>"$SCRATCH/opts-$s"
done
HTML=0
"$FAULTSTACK" report --help | grep -qw html && HTML=1

# 1. shape, options, and the scripts to run (written to $SCRATCH/<recipe>/)
fs_pycheck "docs/ci recipes: YAML, shape and faultstack options" '
import os, re, shlex, sys, yaml
ci, scratch, subs, html = sys.argv[1], sys.argv[2], sys.argv[3].split(), sys.argv[4] == "1"
opts = {s: set(open(f"{scratch}/opts-{s}").read().split()) for s in subs}

def strings(node):
    if isinstance(node, str): yield node
    elif isinstance(node, dict):
        for v in node.values(): yield from strings(v)
    elif isinstance(node, list):
        for v in node: yield from strings(v)

def check_commands(name, doc):
    seen = {}
    for s in strings(doc):
        text = re.sub(r"\$\{\{[^}]*\}\}", "X", s.replace("\\\n", " "))
        for line in text.splitlines():
            for m in re.finditer(r"(?:^|[\s;&|(/])faultstack\s+(\S+)(.*)", line):
                sub, rest = m.group(1), m.group(2)
                if sub == "--version": continue
                assert sub in subs, f"{name}: faultstack {sub}: no such subcommand (have {subs})"
                words = shlex.split(rest.split("||")[0].split(">")[0].split("<")[0])
                for w in words:
                    if w == "--": break
                    if w.startswith("-"):
                        o = w.split("=")[0]
                        assert o in opts[sub], f"{name}: faultstack {sub} {o}: not an option of faultstack {sub} --help"
                seen[sub] = seen.get(sub, 0) + 1
    for sub in ("sweep", "merge", "report"):
        assert seen.get(sub), f"{name}: no faultstack {sub} command ({seen})"
    return seen

def keep(line):
    return html or "--format html" not in line

def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    open(path, "w").write(text)

# GitHub Actions
gh = yaml.safe_load(open(f"{ci}/github-actions.yml"))
on = gh.get("on", gh.get(True))
assert on and "jobs" in gh, "github-actions.yml: needs on: and jobs:"
jobs = gh["jobs"]
sweep = [j for j in jobs.values() if "matrix" in j.get("strategy", {})]
assert len(sweep) == 1, "github-actions.yml: one job with a strategy.matrix (the shards)"
shards = sweep[0]["strategy"]["matrix"]["shard"]
assert shards == list(range(1, int(gh["env"]["SHARDS"]) + 1)), f"matrix.shard {shards} is 1..SHARDS ({gh['env']['SHARDS']})"
runs = [st["run"] for st in sweep[0]["steps"] if "faultstack sweep" in st.get("run", "")]
assert len(runs) == 1 and "--shard ${{ matrix.shard }}/$SHARDS" in runs[0], "the sweep step shards by matrix.shard"
write(f"{scratch}/github/sweep.sh", runs[0].replace("${{ matrix.shard }}", "$SHARD"))
report = [j for j in jobs.values() if any("faultstack merge" in st.get("run", "") for st in j.get("steps", []))]
assert len(report) == 1, "github-actions.yml: one job runs faultstack merge"
uses = [st.get("uses", "") for st in report[0]["steps"]]
assert any(u.startswith("github/codeql-action/upload-sarif") for u in uses), "SARIF is uploaded"
assert any(u.startswith("actions/upload-artifact") for u in uses), "the database and reports are uploaded"
assert any("junit" in u for u in uses), "the JUnit report is published"
steps = [st["run"] for st in report[0]["steps"] if "faultstack" in st.get("run", "")]
assert len(steps) == 2, f"github-actions.yml: the report job has a merge+reports step and a verdict step: {steps}"
write(f"{scratch}/github/report.sh", "\n".join(l for l in steps[0].splitlines() if keep(l)).replace("$GITHUB_WORKSPACE", "$PWD"))
write(f"{scratch}/github/verdict.sh", steps[1].replace("/opt/faultstack/bin/faultstack", "faultstack"))
write(f"{scratch}/github/shards", str(len(shards)))
check_commands("github-actions.yml", gh)

# GitLab CI
gl = yaml.safe_load(open(f"{ci}/gitlab-ci.yml"))
assert "stages" in gl, "gitlab-ci.yml: stages"
par = [j for j in gl.values() if isinstance(j, dict) and "parallel" in j]
assert len(par) == 1, "gitlab-ci.yml: one job with parallel: N (the shards)"
script = "\n".join(par[0]["script"])
assert "--shard \"$CI_NODE_INDEX/$CI_NODE_TOTAL\"" in script, "the sweep shards by CI_NODE_INDEX/CI_NODE_TOTAL"
write(f"{scratch}/gitlab/sweep.sh", script)
rep = [j for j in gl.values() if isinstance(j, dict) and any("faultstack merge" in l for l in j.get("script", []))]
assert len(rep) == 1, "gitlab-ci.yml: one job runs faultstack merge"
assert rep[0]["artifacts"]["reports"]["junit"] == "faultstack.junit.xml", "the JUnit report is published"
assert rep[0]["artifacts"]["when"] == "always" and "faultstack.db" in rep[0]["artifacts"]["paths"], "the database is kept"
lines = rep[0]["script"]
write(f"{scratch}/gitlab/report.sh", "\n".join(l for l in lines[:-1] if keep(l)).replace("$CI_PROJECT_DIR", "$PWD"))
write(f"{scratch}/gitlab/verdict.sh", lines[-1])
write(f"{scratch}/gitlab/shards", str(par[0]["parallel"]))
check_commands("gitlab-ci.yml", gl)
' "$CI" "$SCRATCH" "$SUBS" "$HTML"

# 2. run them: the recipe's sweep per shard, then its report script and verdict
export PATH="$(dirname "$FAULTSTACK"):$PATH"
export FS_TESTS="$DEMO_BIN/demo_fd_leak $DEMO_SRC/fd_leak.c $SCRATCH/copy.out"
fs_new_db whole
fs_exec sweep --db "$DB" -j 2 --timeout 30 -- $FS_TESTS
assert_status 1
want=$(sqlite3 "$DB" "SELECT category, kind, func, line, fault_func, fault_line FROM findings ORDER BY 1,2,3,4,5,6")
[[ -n $want ]] || fs_fail "the unsharded sweep of demo_fd_leak finds its leak" "findings" "none"
for r in github gitlab; do
    d=$SCRATCH/$r
    n=$(cat "$d/shards")
    for ((i = 1; i <= n; i++)); do
        echo "+ $r: sweep shard $i/$n"
        (cd "$d" && SHARD=$i SHARDS=$n CI_NODE_INDEX=$i CI_NODE_TOTAL=$n sh -e sweep.sh) >"$d/sweep-$i.log" 2>&1 ||
            fs_fail "$r: the sweep script of shard $i/$n" "exit 0" "exit $?" "$(tail -20 "$d/sweep-$i.log")"
        [[ -s $d/shard-$i.db ]] || fs_fail "$r: shard $i wrote shard-$i.db" "a database" "$(ls "$d")"
    done
    echo "+ $r: report"
    (cd "$d" && sh -e report.sh) >"$d/report.log" 2>&1 ||
        fs_fail "$r: the report script" "exit 0" "exit $?" "$(cat "$d/report.sh"; tail -20 "$d/report.log")"
    st=0; (cd "$d" && sh -e verdict.sh) >"$d/verdict.log" 2>&1 || st=$?
    assert_eq "$r: the verdict fails on the findings (faultstack report exit 1)" 1 "$st"
    got=$(sqlite3 "$d/faultstack.db" "SELECT category, kind, func, line, fault_func, fault_line FROM findings ORDER BY 1,2,3,4,5,6")
    assert_eq "$r: the merged shards' findings are the unsharded sweep's" "$want" "$got"
    fs_pycheck "$r: JUnit and SARIF parse and hold the finding" '
import json, sys, xml.etree.ElementTree as ET
d, html = sys.argv[1], sys.argv[2] == "1"
root = ET.parse(f"{d}/faultstack.junit.xml").getroot()
assert len(root.findall(".//failure")) >= 1, "a <failure> in the JUnit report"
sarif = json.load(open(f"{d}/faultstack.sarif"))
assert sarif["version"] == "2.1.0" and len(sarif["runs"][0]["results"]) >= 1, "a result in the SARIF report"
if html:
    page = open(f"{d}/faultstack.html").read()
    assert "<html" in page.lower() and "fd_leak.c" in page, "the HTML page names the leak"
' "$d" "$HTML"
done
