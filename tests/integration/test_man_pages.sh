#!/usr/bin/env bash
# test_man_pages.sh — the manual pages of docs/man (installed to man1 by cmake
# --install) render without a single groff warning, there is one page per
# subcommand that `faultstack --help` lists (and none for a subcommand that does
# not exist), and each page agrees with its subcommand's --help: every option the
# --help names is in the page, every option the page names is in the --help,
# every --fail key is in faultstack-run(1), every resource kind of `faultstack
# functions` is in faultstack-functions(1).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
fs_init man_pages

MAN=$(cd "$FS_LIB_DIR/../../docs/man" && pwd)
command -v groff >/dev/null || { echo "man_pages: groff is needed (apt-get install groff-base)" >&2; exit 2; }

# 1. every page renders, with -ww (all warnings) and without any; man -l too.
pages=("$MAN"/*.1)
[[ ${#pages[@]} -ge 7 ]] || fs_fail "man pages in docs/man" "at least 7 (faultstack + 6 subcommands)" "${#pages[@]}"
for p in "${pages[@]}"; do
    warn=$(groff -man -Tutf8 -ww -z "$p" 2>&1 >/dev/null)
    [[ -z $warn ]] || fs_fail "$(basename "$p") renders without groff warnings" "no warning" "$warn"
    head -1 "$p" | grep -q '^\.\\"' || fs_fail "$(basename "$p") opens with a comment saying what it is for" '.\" ...' "$(head -1 "$p")"
    if command -v man >/dev/null; then
        warn=$(MANWIDTH=80 man --warnings -l "$p" 2>&1 >/dev/null)
        [[ -z $warn ]] || fs_fail "man -l $(basename "$p") without warnings" "no warning" "$warn"
    fi
    groff -man -Tascii "$p" 2>/dev/null | col -bx >"$SCRATCH/$(basename "$p" .1).txt"
    grep -q '^NAME' "$SCRATCH/$(basename "$p" .1).txt" || fs_fail "$(basename "$p") has a NAME section" NAME "$(head -5 "$SCRATCH/$(basename "$p" .1).txt")"
done

# 2. one page per subcommand of the usage, and no page for anything else.
"$FAULTSTACK" --help >"$SCRATCH/help.txt"
# (`faultstack help COMMAND` is COMMAND --help: no page of its own; faultstack.1 says so)
subs=$(grep -oE '^  faultstack [a-z]+' "$SCRATCH/help.txt" | awk '$2 != "help" {print $2}' | sort -u)
[[ $(wc -w <<<"$subs") -ge 6 ]] || fs_fail "subcommands in faultstack --help" "at least 6" "$subs"
for s in $subs; do
    [[ -f $MAN/faultstack-$s.1 ]] || fs_fail "a man page for 'faultstack $s'" "docs/man/faultstack-$s.1" "missing"
    grep -q "faultstack\\\\-$s" "$MAN/faultstack.1" || fs_fail "faultstack.1 names faultstack-$s(1)" "faultstack\\-$s" "absent"
done
for p in "$MAN"/faultstack-*.1; do
    s=$(basename "$p" .1); s=${s#faultstack-}
    grep -qx "$s" <<<"$subs" || fs_fail "docs/man/faultstack-$s.1 documents a real subcommand" "one of: $(echo $subs)" "$s"
done

# 3. options: every one --help names is in the page; every one the page's
# OPTIONS section names is in --help.
opts() { grep -oE '(^|[^A-Za-z0-9_-])(--[a-z][a-z0-9-]*[a-z0-9]|-j|-h)([^A-Za-z0-9_-]|$)' "$1" |
         grep -oE -- '--?[a-z][a-z0-9-]*' | sort -u; }
for s in $subs; do
    [[ $s == functions ]] && continue            # no options: it prints its table
    "$FAULTSTACK" "$s" --help >"$SCRATCH/help-$s.txt" 2>&1 || true
    # -h/--help: every subcommand takes them (that is how help-$s.txt was made)
    { opts "$SCRATCH/help-$s.txt"; printf -- '--help\n-h\n'; } | sort -u >"$SCRATCH/hopts-$s"
    # the page's OPTIONS section only (other sections name other commands' options)
    sed -n '/^OPTIONS/,/^[A-Z]/p' "$SCRATCH/faultstack-$s.txt" >"$SCRATCH/mopts-$s.txt"
    opts "$SCRATCH/mopts-$s.txt" >"$SCRATCH/mopts-$s"
    opts "$SCRATCH/faultstack-$s.txt" >"$SCRATCH/popts-$s"
    [[ -s $SCRATCH/hopts-$s ]] || fs_fail "options in faultstack $s --help" "some" "none"
    missing=$(comm -23 "$SCRATCH/hopts-$s" "$SCRATCH/popts-$s" | tr '\n' ' ')
    [[ -z $missing ]] || fs_fail "every option of 'faultstack $s --help' is documented in docs/man/faultstack-$s.1" "none missing" "missing: $missing"
    extra=$(comm -13 "$SCRATCH/hopts-$s" "$SCRATCH/mopts-$s" | tr '\n' ' ')
    [[ -z $extra ]] || fs_fail "every option in docs/man/faultstack-$s.1 (OPTIONS) is one 'faultstack $s --help' names" "none extra" "extra: $extra"
done
for o in --help --version; do
    grep -qF -- "$o" "$SCRATCH/faultstack.txt" || fs_fail "faultstack.1 documents $o" "$o" "absent"
done

# 4. the --fail keys of the global usage are in faultstack-run(1).
keys=$(sed -n '/^--fail SPEC/,/^$/p' "$SCRATCH/help.txt" | grep -oE '^  [a-z:]+' | tr -d ' ' | sort -u)
[[ $(wc -w <<<"$keys") -ge 6 ]] || fs_fail "--fail keys in faultstack --help" "at least 6" "$keys"
for k in $keys; do
    grep -qF -- "$k" "$SCRATCH/faultstack-run.txt" || fs_fail "faultstack-run.1 documents --fail $k" "$k" "absent"
done

# 5. the kinds of `faultstack functions` are in faultstack-functions(1).
for k in $("$FAULTSTACK" functions | awk 'NR > 1 { print $2 }' | sort -u); do
    grep -qw -- "$k" "$SCRATCH/faultstack-functions.txt" || fs_fail "faultstack-functions.1 names kind $k" "$k" "absent"
done
