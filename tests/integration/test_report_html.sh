#!/usr/bin/env bash
# test_report_html.sh — `faultstack report --format html -o report.html`, as a
# browser shows it: the page is rendered by headless Chromium (Debian package
# chromium, installed by .ci/deps) and the DOM it built is checked:
#   - one self-contained page: nothing loaded from anywhere (no src=, href=,
#     url(), @import, http:), no script at all;
#   - findings grouped by site (one section per site of the findings view),
#     the source lines around each site (the site's line marked), each fault
#     with its repro command, file names relative to --srcroot;
#   - the picture of the sweep: one mark per fault run, coloured by outcome,
#     the counts of the legend equal to the runs' outcomes in the views;
#   - everything from the program escaped: the target runs from a directory
#     named '<script>alert(1)</script>' and a finding's symbol is set to
#     '<img src=x onerror=alert(2)>': the rendered DOM has no script, no img,
#     and shows those strings as text.
# Also a screenshot (PNG) of the page; with FS_UPDATE_DOCS=1 it becomes
# docs/report.png (the README's picture).
# Exit 77 (skip) only when chromium is not installed or cannot start at all.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
fs_init report_html

CHROMIUM=$(command -v chromium || command -v chromium-browser || true)
if [[ -z $CHROMIUM ]]; then
    echo "$FS_TEST: SKIP: chromium is not installed (apt-get install chromium; .ci/deps installs it)" >&2
    exit 77
fi
# chrome FLAGS... URL: headless Chromium, as root too (no sandbox), its profile in the scratch directory
chrome() {
    timeout 90 "$CHROMIUM" --headless --no-sandbox --disable-gpu --no-first-run --disable-extensions \
        --user-data-dir="$SCRATCH/chrome" "$@" 2>>"$SCRATCH/chrome.err"
}
if ! chrome --dump-dom "data:text/html,<p>ok</p>" | grep -q "<p>ok</p>"; then
    echo "$FS_TEST: SKIP: chromium cannot run here: $(tail -n3 "$SCRATCH/chrome.err")" >&2
    exit 77
fi
command -v xmllint >/dev/null ||
    { echo "$FS_TEST: xmllint is needed to query the DOM (apt-get install libxml2-utils; .ci/deps)" >&2; exit 2; }

HOSTILE="$SCRATCH/<script>alert(1)</script>"
mkdir -p "$HOSTILE"
ln -s "$DEMO_BIN/demo_fd_leak" "$HOSTILE/demo_fd_leak"
LINE=$(marker_line fd_leak.c '/* FS-EXPECT: leak fd */')
FLINE=$(marker_line fd_leak.c '/* FS-FAULT */')

fs_new_db html
fs_exec sweep --db "$DB" -j 2 --timeout 20 -- "$HOSTILE/demo_fd_leak" "$DEMO_SRC/fd_leak.c" "$HOSTILE/copy.out"
assert_status 1
fs_run --fail only=malloc,nth=2 -- "$DEMO_BIN/demo_crash_null" 3
assert_status 1
q "UPDATE finding SET symbol = '<img src=x onerror=alert(2)>' WHERE category = 'crash'" >/dev/null

fs_exec report --db "$DB" --format html --srcroot "$DEMO_SRC/.." -o "$SCRATCH/report.html"
assert_status 1
[[ -s $SCRATCH/report.html ]] || fs_fail "report -o report.html writes the page" "a file" "none"
assert_eq "report -o: nothing on stdout" "" "$(cat "$SCRATCH/last.out")"

# ---- self-contained: nothing fetched, no script
# (text from the program is escaped: '<' is &lt;, so '<' below starts real tags only)
if grep -n -i -o -E '<[^>]*(src|href|action|data)=[^>]*>|<(script|link|iframe|object|embed|base)\b' \
        "$SCRATCH/report.html" >"$SCRATCH/ext.txt" ||
   sed -n '/<style>/,/<\/style>/p' "$SCRATCH/report.html" | grep -i -E 'url\(|@import|https?:' >>"$SCRATCH/ext.txt"; then
    fs_fail "the page loads nothing and runs nothing" "no src=, href=, script, link, url(), @import" "$(head -5 "$SCRATCH/ext.txt")"
fi

# ---- rendered by Chromium
chrome --dump-dom "file://$SCRATCH/report.html" >"$SCRATCH/dom.html"
[[ -s $SCRATCH/dom.html ]] || fs_fail "chromium renders the page" "a DOM" "$(tail -5 "$SCRATCH/chrome.err")"
# x XPATH: the string value of XPATH in the rendered DOM
x() { xmllint --html --xpath "$1" "$SCRATCH/dom.html" 2>/dev/null || true; }

assert_eq "no script, img or iframe element in the DOM (hostile strings stayed text)" 0 \
    "$(x 'count(//script | //img | //iframe)')"
assert_eq "one section per site of the findings view" \
    "$(q "SELECT count(DISTINCT category || kind || ifnull(anomaly,'') || ifnull(file,'') || ifnull(line,'')) FROM findings")" \
    "$(x 'count(//section[contains(@class,"site")])')"
assert_eq "the findings count" "$(q 'SELECT count(*) FROM findings')" "$(x 'string(//b[@id="n-findings"])')"
LEAK_H3=$(x 'string(//section[contains(@class,"cat-leak")]/h3)')
assert_eq "the leak's site, relative to --srcroot" "leak fd: open at demo/fd_leak.c:$LINE (in copy_file)" "$LEAK_H3"
assert_eq "the source line of the site, marked" "$(printf '%5d' "$LINE") $(sed -n "${LINE}p" "$DEMO_SRC/fd_leak.c")" \
    "$(x 'string(//section[contains(@class,"cat-leak")]/pre[@class="src"]/span[@class="hit"])')"
assert_eq "lines around it: $LINE-3 .. $LINE+3" 7 \
    "$(x 'count(//section[contains(@class,"cat-leak")]/pre[@class="src"]/span)')"
assert_eq "the fault's own source line" "$(printf '%5d' "$FLINE") $(sed -n "${FLINE}p" "$DEMO_SRC/fd_leak.c")" \
    "$(x 'string(//section[contains(@class,"cat-leak")]//div[@class="fault"]/pre[@class="src"]/span[@class="hit"])')"
REPRO=$(q "SELECT repro FROM findings WHERE category = 'leak' AND fault_line = $FLINE")
assert_eq "the fault's repro command, as text (the hostile path included)" "$REPRO" \
    "$(x 'string(//section[contains(@class,"cat-leak")]//pre[@class="repro"])')"
[[ $REPRO == *"<script>alert(1)</script>"* ]] || fs_fail "the repro holds the hostile path" "<script>" "$REPRO"
CRASH_H3=$(x 'string(//section[contains(@class,"cat-crash")]/h3)')
[[ $CRASH_H3 == *"(in <img src=x onerror=alert(2)>)"* ]] ||
    fs_fail "the hostile symbol shows as text" "(in <img src=x onerror=alert(2)>)" "$CRASH_H3"

# ---- the picture of the sweep
SW=$(q "SELECT session_id FROM sweeps")
FAULT_RUNS=$(q "SELECT count(*) FROM runs WHERE session_id = $SW AND role IN ('fault', 'fork') AND injected > 0")
assert_eq "one mark per fault run of the sweep" "$FAULT_RUNS" "$(x 'count(//svg//rect)')"
assert_eq "a tick per fault point of the baseline run" \
    "$(q "SELECT count(*) FROM fault_points WHERE run_id = (SELECT baseline_run FROM sweeps)")" \
    "$(x 'count(//svg/g[@class="ticks"]/line)')"
LEAKY=$(q "SELECT count(*) FROM runs r WHERE r.session_id = $SW AND r.role IN ('fault', 'fork') AND r.injected > 0
           AND r.signal IS NULL AND r.timed_out = 0
           AND EXISTS (SELECT 1 FROM leaks l WHERE l.fault_func IS NOT NULL AND (l.run_id = r.id OR l.confirms = r.id))")
[[ $LEAKY -ge 1 ]] || fs_fail "the sweep has a fault run that leaks" ">= 1" "$LEAKY"
assert_eq "leak marks = fault runs that leaked because of the fault" "$LEAKY" "$(x 'count(//svg//rect[@class="o-leak"])')"
SWALLOWED=$(q "SELECT count(*) FROM runs WHERE session_id = $SW AND role IN ('fault', 'fork') AND swallowed = 1")
assert_eq "swallowed marks" "$SWALLOWED" "$(x 'count(//svg//rect[@class="o-swallowed"])')"
assert_eq "the legend counts the leak marks" "leak: $LEAKY" \
    "$(x 'normalize-space(//li[@class="lg-leak"]/text())')"
assert_eq "the leak mark sits at the point the fault failed (its title)" 1 \
    "$(x "count(//svg//rect[@class='o-leak']/title[contains(., 'open at $DEMO_SRC/fd_leak.c:$FLINE fails: leak')])")"
assert_eq "the sweep's command, escaped, in its heading" 1 \
    "$(x 'count(//section[@class="sweep"]/h3/code[contains(., "<script>alert(1)</script>/demo_fd_leak")])')"

# ---- a screenshot
chrome --window-size=1100,1500 --hide-scrollbars --screenshot="$SCRATCH/report.png" "file://$SCRATCH/report.html" >/dev/null
[[ $(head -c 8 "$SCRATCH/report.png" | od -An -tx1 | tr -d ' \n') == 89504e470d0a1a0a ]] ||
    fs_fail "chromium takes a screenshot of the page" "a PNG file" "$(ls -l "$SCRATCH/report.png" 2>&1)"
if [[ ${FS_UPDATE_DOCS:-0} == 1 ]]; then
    cp "$SCRATCH/report.png" "$DEMO_SRC/../../docs/report.png"
    echo "docs/report.png updated"
fi
