#!/usr/bin/env bash
# test_wrapped_set.sh — issue 8 §3: every function glibc exports that acquires
# or releases a resource of a tracked kind (fd, FILE, DIR, memory, mmap, lock)
# is interposed by the preload and has a row in the table (`faultstack
# functions`), or is listed below as not wrapped with the reason; and every
# symbol the preload exports is in libc.spec (a row, an alias, an interposes line). A function
# glibc exports that neither holds fails the test, so a missing release
# (close_range before it was wrapped: every fd it closed was called a leak) or
# acquire shows up here, not as wrong verdicts on users' programs.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
fs_init wrapped_set

LIBC=$(ldd "$FAULTSTACK" | awk '/libc\.so\.6/ {print $3}')
PRELOAD=$(dirname "$FAULTSTACK")/../lib/libfaultstack-preload.so
[[ -r $LIBC && -r $PRELOAD ]] || { echo "wrapped_set: libc ($LIBC) or the preload ($PRELOAD) not found" >&2; exit 1; }
command -v nm >/dev/null || { echo "wrapped_set: nm (binutils) is needed" >&2; exit 1; }

# Acquire and release functions of the tracked kinds, by kind (glibc 2.36's
# exports that create or end an fd, FILE, DIR, block, mapping or lock hold).
TRACKED="
open open64 openat openat64 creat creat64 __open_2 __open64_2 __openat_2 __openat64_2
dup dup2 dup3 fcntl fcntl64 pipe pipe2 socket socketpair accept accept4 eventfd epoll_create
epoll_create1 timerfd_create signalfd memfd_create inotify_init inotify_init1 posix_openpt
close close_range closefrom
fopen fopen64 fdopen freopen freopen64 tmpfile tmpfile64 popen fmemopen open_memstream fclose pclose
opendir fdopendir closedir
malloc calloc realloc reallocarray free posix_memalign aligned_alloc memalign valloc strdup strndup
mmap mmap64 munmap
pthread_mutex_lock pthread_mutex_trylock pthread_mutex_timedlock pthread_mutex_unlock
pthread_rwlock_rdlock pthread_rwlock_wrlock pthread_rwlock_tryrdlock pthread_rwlock_trywrlock
pthread_rwlock_timedrdlock pthread_rwlock_timedwrlock pthread_rwlock_unlock
"
# Exported by glibc, acquire or release a tracked kind, and not wrapped (yet):
# each with the reason. Their resources are still seen where they go through
# a wrapped call (the malloc inside getline is tracked at the caller's site).
declare -A NOT_WRAPPED=(
  [pvalloc]="obsolete; allocates through the same path as valloc"
  [__strdup]="alias of strdup for old binaries; calls malloc, which is tracked"
  [__strndup]="alias of strndup for old binaries; calls malloc, which is tracked"
  [wcsdup]="calls malloc inside libc, which is tracked (site = the caller)"
  [mremap]="moves a mapping: not yet tracked (a later munmap of the new address is ignored, not reported)"
  [open_wmemstream]="wide-character memstream: rare; not yet tracked"
  [fopencookie]="a FILE without an fd: not yet tracked"
  [fcloseall]="closes every stream: not yet tracked (streams it closes would stay live)"
  [getpt]="obsolete alias of posix_openpt"
  [pidfd_open]="not yet tracked"
  [pidfd_getfd]="not yet tracked"
  [fanotify_init]="needs CAP_SYS_ADMIN; not yet tracked"
  [open_by_handle_at]="needs CAP_DAC_READ_SEARCH; not yet tracked"
  [mtx_lock]="C11 threads: not yet tracked as a lock"
  [mtx_trylock]="C11 threads: not yet tracked as a lock"
  [mtx_timedlock]="C11 threads: not yet tracked as a lock"
  [mtx_unlock]="C11 threads: not yet tracked as a lock"
  [pthread_spin_lock]="spin locks: not a tracked kind"
  [pthread_spin_unlock]="spin locks: not a tracked kind"
  [pthread_mutex_clocklock]="not yet tracked"
  [pthread_rwlock_clockrdlock]="not yet tracked"
  [pthread_rwlock_clockwrlock]="not yet tracked"
  [__open64_nocancel]="glibc-internal"
)
# Interposed under the row of the function they are an alias of: libc.spec's
# `alias` lines (build/harness/gen/interposed.txt lists every symbol the spec
# says the preload interposes: rows, aliases, `interposes` lines).
SYMS=$(dirname "$FAULTSTACK")/../harness/gen/interposed.txt
[[ -r $SYMS ]] || { echo "wrapped_set: $SYMS missing (fs-protogen symbols, built with the preload)" >&2; exit 1; }
declare -A ALIAS_OF=()
while read -r name what of; do
    [[ $what == alias ]] && ALIAS_OF[$name]=$of
done <"$SYMS"
EXTRA="pvalloc __strdup __strndup wcsdup mremap open_wmemstream fopencookie fcloseall getpt pidfd_open
pidfd_getfd fanotify_init open_by_handle_at mtx_lock mtx_trylock mtx_timedlock mtx_unlock
pthread_spin_lock pthread_spin_unlock pthread_mutex_clocklock pthread_rwlock_clockrdlock
pthread_rwlock_clockwrlock"

libc_syms=$(nm -D --defined-only "$LIBC" | awk '{print $3}' | sed 's/@.*//' | sort -u)
pre_syms=$(nm -D --defined-only "$PRELOAD" | awk '$2 == "T" {print $3}' | sort -u)
rows=$("$FAULTSTACK" functions | awk 'NR > 1 {print $1}' | sort -u)

missing=()
for f in $TRACKED $EXTRA; do
    grep -qx -- "$f" <<<"$libc_syms" || continue            # this glibc does not export it
    if grep -qx -- "$f" <<<"$pre_syms"; then
        grep -qx -- "${ALIAS_OF[$f]:-$f}" <<<"$rows" || missing+=("$f: interposed but has no row in libc.spec")
        [[ -z ${NOT_WRAPPED[$f]:-} ]] || missing+=("$f: wrapped now; remove it from NOT_WRAPPED")
    elif [[ -z ${NOT_WRAPPED[$f]:-} ]]; then
        missing+=("$f: exported by $LIBC, acquires or releases a tracked kind, not interposed")
    fi
done
# Every row names a function the preload really interposes, and glibc exports.
for f in $rows; do
    grep -qx -- "$f" <<<"$pre_syms" || missing+=("$f: row in libc.spec but not exported by the preload")
    grep -qx -- "$f" <<<"$libc_syms" || missing+=("$f: row in libc.spec but $LIBC does not export it")
done
# libc.spec names every symbol the preload exports (a row, an alias or an
# `interposes` line with its reason), and each of those is exported — so no
# interposed symbol is without a row or a reason. faultstack_protocol_api is
# the preload's own API (harness/include/faultstack/protocol_api.h).
spec_syms=$(awk '{print $1}' "$SYMS" | sort -u)
for f in $pre_syms; do
    [[ $f == faultstack_protocol_api ]] && continue
    grep -qx -- "$f" <<<"$spec_syms" || missing+=("$f: exported by the preload but not in libc.spec (add a row, an alias or an interposes line)")
done
for f in $spec_syms; do
    grep -qx -- "$f" <<<"$pre_syms" || missing+=("$f: in libc.spec but the preload does not export it")
done
if ((${#missing[@]})); then
    printf 'wrapped_set: %s\n' "${missing[@]}" >&2
    exit 1
fi
echo "wrapped_set: $(wc -w <<<"$TRACKED") tracked functions interposed, ${#NOT_WRAPPED[@]} listed as not wrapped"
