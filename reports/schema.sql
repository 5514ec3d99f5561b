-- faultstack report database, schema version 7.
--
-- The database is a user interface: query it with SQL (sqlite3 faultstack.db).
-- The VIEWS below are the public, stable contract: columns are added, never
-- renamed or removed. The tables behind them (singular names) may change between
-- schema versions; faultstack refuses a database whose PRAGMA user_version is
-- newer than the one it knows, and upgrades older ones in place when it opens
-- them (version 1 -> 2: run.sweep_key, run.confirms, point.ctx, the sweep table;
-- 2 -> 3: resource.reason and the held view; run.observed and run.note (the
-- runs view gains them); the memcheck_run and
-- memcheck_error tables and the memcheck and memcheck_vs_faultstack views of
-- `faultstack run --valgrind`; 3 -> 4, step 'sanitizer': the sanitizer_report
-- table and the sanitizer_reports view, new objects only, so the step alters
-- nothing: the CREATE ... IF NOT EXISTS below make them; 4 -> 5, step 'roles':
-- views only: the runs, leaks, anomalies and held views gain role (and leaks
-- confirms), new views crashes and sweeps; no table changes; 5 -> 6, step
-- 'triage': columns finding.suppressed, finding.suppression, finding.in_scope,
-- finding.gave_up, run.fault_callers; the findings and runs views gain them and
-- the status and fault_caller columns; the bugs view; 6 -> 7, step 'sites': the
-- site table and the fault_sites view, new objects only).
--
-- Words used below:
--   fault point  one call to a wrapped function that the fault plan may fail
--   site         where the program made the call: module (file basename) and
--                offset of the call instruction, and, when debug info exists,
--                file:line and symbol (the enclosing function) in the program's code
--   acquire site the site of the call that acquired a resource
--   fault        the injected fault point of a run (NULL when none was injected)

PRAGMA user_version = 7;

CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY,        -- 'schema_version', 'created_by'
    value TEXT
);

-- One invocation of `faultstack run` or `faultstack sweep`.
CREATE TABLE IF NOT EXISTS session (
    id          INTEGER PRIMARY KEY,
    kind        TEXT NOT NULL,     -- 'run' | 'sweep' | 'repro' (the replay of `faultstack repro`)
    command     TEXT NOT NULL,     -- the target command, shell-quoted
    cwd         TEXT,
    started_at  TEXT NOT NULL      -- UTC, ISO 8601
);

-- One execution of the target under one fault plan.
CREATE TABLE IF NOT EXISTS run (
    id            INTEGER PRIMARY KEY,
    session_id    INTEGER NOT NULL REFERENCES session(id),
    command       TEXT NOT NULL,   -- shell-quoted target command
    fault_spec    TEXT,            -- canonical --fail spec; NULL for a baseline run
    mode          TEXT NOT NULL,   -- 'exec' | 'fork'
    exit_code     INTEGER,         -- exit status of the first process; NULL if it died by a signal
    signal        INTEGER,         -- terminating signal of the first process, or NULL
    timed_out     INTEGER NOT NULL DEFAULT 0,
    duration_ms   INTEGER,
    points_total  INTEGER,         -- fault points reached (all processes)
    injected      INTEGER NOT NULL DEFAULT 0, -- number of failures injected
    swallowed     INTEGER NOT NULL DEFAULT 0, -- 1: exit 0 although a failure was injected
                                              --    and the program reported nothing on stderr
    started_at    TEXT NOT NULL,
    sweep_key     TEXT,            -- sweep runs: the fault point swept (stable across runs and
                                   --   machines: 'nth=17', 'site=open@prog+0x1a2b#1',
                                   --   'site=malloc@prog+0x40#1,ctx=0x9f..', '<key>,then=3' for a
                                   --   point reached only on the error path of <key>)
    confirms      INTEGER REFERENCES run(id), -- exec replay confirming a fork-mode run's findings
    observed      INTEGER NOT NULL DEFAULT 1, -- 1: every process image wrote its record; 0: none did
                                   --   (the preload could not enter the program: static, set-user-ID,
                                   --   another architecture; nothing was tested); 2: partly (a program
                                   --   some process exec'd could not be entered, records a full disk
                                   --   cut short, or a record line too long to read). Never clean unless 1.
    note          TEXT,            -- observed != 1: which process could not be observed and why
    fault_callers TEXT             -- the injected fault's calling context (step 'triage'): the callers
                                   --   of the function holding the fault site, innermost first, one
                                   --   'symbol file:line' (or 'symbol module+0xOFF') per line, so a
                                   --   fault behind a wrapper (xmalloc) names the code that called it;
                                   --   NULL when not known (docs/suppressions.md, "fault context")
);
CREATE INDEX IF NOT EXISTS run_session ON run(session_id, sweep_key);

-- One process of a run (the target and everything it forked or exec'd).
CREATE TABLE IF NOT EXISTS process (
    run_id     INTEGER NOT NULL REFERENCES run(id),
    pid        INTEGER NOT NULL,
    ppid       INTEGER,
    exe        TEXT,
    end_how    TEXT,               -- 'not-interposed': the preload could not enter it (no record);
                                   -- 'main' (returned from main), 'exit' (exit(), quick_exit(), or libc's
                                   -- own exit inside error()/errx()/verr()...: the program's frames
                                   -- were live), '_exit', 'signal', 'exec', 'unknown',
                                   -- 'sanitizer' (a sanitizer runtime ended it after its report,
                                   -- see sanitizer_report; its resources are held)
    exit_code  INTEGER,
    signal     INTEGER,
    reachable_blocks INTEGER,      -- memory still reachable at exit (not a finding)
    reachable_bytes  INTEGER
);

-- Fault points a run reached, in order (capped per process, see points_total).
CREATE TABLE IF NOT EXISTS point (
    run_id      INTEGER NOT NULL REFERENCES run(id),
    pid         INTEGER NOT NULL,
    ordinal     INTEGER NOT NULL,  -- 1-based over the run, after the plan's filters
    func        TEXT NOT NULL,     -- wrapped function: 'open', 'malloc', ...
    module      TEXT,              -- basename of the calling module
    module_path TEXT,
    offset      INTEGER,           -- call-site offset in the module
    file        TEXT,
    line        INTEGER,
    symbol      TEXT,
    site_occurrence INTEGER,       -- 1-based index of this call at its site
    injected    INTEGER NOT NULL DEFAULT 0,
    ctx         INTEGER            -- calling-context hash (sweep --strategy stack), else NULL
);
CREATE INDEX IF NOT EXISTS point_run ON point(run_id, ordinal);

-- Every call site of a run's fault points with its number of calls, when the
-- run's per-point list was capped (a plain `faultstack run` keeps its first
-- 5,000 points, FAULTSTACK_MAX_POINTS; a sweep's runs 200,000): no site is
-- lost, only the per-call rows beyond the cap. Since schema version 7.
CREATE TABLE IF NOT EXISTS site (
    run_id      INTEGER NOT NULL REFERENCES run(id),
    pid         INTEGER NOT NULL,
    func        TEXT NOT NULL,
    module      TEXT,
    module_path TEXT,
    offset      INTEGER,
    file        TEXT,
    line        INTEGER,
    symbol      TEXT,
    calls       INTEGER NOT NULL,  -- fault points at this site in this process
    first_ordinal INTEGER          -- the ordinal of the first of them
);
CREATE INDEX IF NOT EXISTS site_run ON site(run_id);

-- Resources live when a process ended. verdict: 'leak' (a finding), 'held'
-- (the program still holds it: not a finding; reason says how),
-- 'inherited' (acquired before a fork by the parent: the parent's to judge).
-- Memory still reachable is counted in process.reachable_*, not listed here.
CREATE TABLE IF NOT EXISTS resource (
    run_id      INTEGER NOT NULL REFERENCES run(id),
    pid         INTEGER NOT NULL,
    verdict     TEXT NOT NULL,
    kind        TEXT NOT NULL,     -- fd | file | dir | memory | mmap | lock
    func        TEXT NOT NULL,     -- acquiring function ('fopen', 'malloc', ...)
    module      TEXT,
    module_path TEXT,
    offset      INTEGER,
    file        TEXT,
    line        INTEGER,
    symbol      TEXT,
    handle      TEXT,              -- fd number, or address in hex
    size        INTEGER,           -- bytes for memory and mmap, else NULL
    stack       TEXT,              -- acquire stack, one 'symbol file:line' per frame, when captured
    reason      TEXT,              -- held: why the program still holds it (see the held view)
    fault_func  TEXT,              -- the injected fault this leak is attributed to
    fault_module TEXT,
    fault_offset INTEGER,
    fault_file  TEXT,
    fault_line  INTEGER
);
CREATE INDEX IF NOT EXISTS resource_run ON resource(run_id);

-- Misuse seen while the program ran.
CREATE TABLE IF NOT EXISTS anomaly (
    run_id      INTEGER NOT NULL REFERENCES run(id),
    pid         INTEGER NOT NULL,
    anomaly     TEXT NOT NULL,     -- double-release | unknown-release | mismatched-release |
                                   -- non-owner-unlock | relock
    kind        TEXT NOT NULL,
    func        TEXT NOT NULL,     -- the releasing (or locking) function
    module      TEXT,
    module_path TEXT,
    offset      INTEGER,
    file        TEXT,
    line        INTEGER,
    symbol      TEXT,
    handle      TEXT,
    detail      TEXT,              -- e.g. 'fd 3 belongs to a FILE opened by fopen at demo.c:12'
    fault_func  TEXT,
    fault_module TEXT,
    fault_offset INTEGER,
    fault_file  TEXT,
    fault_line  INTEGER
);

-- A crash of a process: the signal and where it happened.
CREATE TABLE IF NOT EXISTS crash (
    run_id      INTEGER NOT NULL REFERENCES run(id),
    pid         INTEGER NOT NULL,
    signal      INTEGER NOT NULL,
    module      TEXT,
    module_path TEXT,
    offset      INTEGER,
    file        TEXT,
    line        INTEGER,
    symbol      TEXT,
    stack       TEXT
);

-- A sanitizer's report (schema step 'sanitizer', version 4): a program built
-- with -fsanitize=address (or undefined, thread) writes its reports into the
-- run directory (log_path); each is stored here whole and, except
-- LeakSanitizer's (a second opinion on faultstack's own leak verdict), makes a
-- crash finding of the same kind at the same site.
CREATE TABLE IF NOT EXISTS sanitizer_report (
    run_id      INTEGER NOT NULL REFERENCES run(id),
    pid         INTEGER NOT NULL,
    tool        TEXT NOT NULL,     -- asan | lsan | ubsan | tsan | msan | hwasan
    kind        TEXT NOT NULL,     -- 'asan:heap-use-after-free', 'ubsan:signed-integer-overflow'
                                   -- (the report's SUMMARY bug type, else its first line's)
    headline    TEXT,              -- the report's first line ('ERROR: AddressSanitizer: ...')
    module      TEXT,              -- the first frame of its stack in the program's own code
    module_path TEXT,              -- (not the sanitizer runtime, libc, the loader, the preload)
    offset      INTEGER,
    file        TEXT,
    line        INTEGER,
    symbol      TEXT,
    report      TEXT NOT NULL      -- the full report text
);
CREATE INDEX IF NOT EXISTS sanitizer_report_run ON sanitizer_report(run_id);

-- Deduplicated findings: one row per (category, kind, anomaly, site, fault site).
CREATE TABLE IF NOT EXISTS finding (
    id          INTEGER PRIMARY KEY,
    key         TEXT NOT NULL UNIQUE,
    category    TEXT NOT NULL,     -- leak | anomaly | crash | timeout | memcheck (a memory
                                   --   error memcheck reported with --valgrind; kind is memcheck's
                                   --   kind, e.g. InvalidWrite, site its first frame in the program)
    kind        TEXT,              -- crash: 'SIGSEGV'..., or a sanitizer report's 'asan:heap-use-after-free'...
    anomaly     TEXT,
    func        TEXT,
    module      TEXT,
    offset      INTEGER,
    file        TEXT,
    line        INTEGER,
    symbol      TEXT,
    fault_func  TEXT,
    fault_module TEXT,
    fault_offset INTEGER,
    fault_file  TEXT,
    fault_line  INTEGER,
    first_run   INTEGER NOT NULL REFERENCES run(id),
    repro       TEXT NOT NULL,
    -- triage (step 'triage' of schema 6; docs/suppressions.md): set when a run showing
    -- the finding is recorded and again by every later --suppressions or --scope
    -- (no commas in these comments between columns: SQLite's DROP COLUMN looks
    -- back for the comma before a column's name)
    suppressed  INTEGER NOT NULL DEFAULT 0, -- 1: a rule of a --suppressions file accepts it
    suppression TEXT,              -- the name of that rule
    in_scope    INTEGER,           -- --scope given: 1 its site (without one: its fault's site) is in a
                                   --   module in scope and 0 when not;
                                   --   NULL: judged without --scope (everything is in scope)
    gave_up     INTEGER NOT NULL DEFAULT 0 -- 1: crash SIGABRT of a test driver that gave up after an
                                   --   injected fault: abort()/assert() called from the crashing
                                   --   program's own executable (or, with --scope, from a module
                                   --   outside it), the fault injected into a call made by another
                                   --   module (the library under test reported it)
);
CREATE TABLE IF NOT EXISTS finding_run (
    finding_id  INTEGER NOT NULL REFERENCES finding(id),
    run_id      INTEGER NOT NULL REFERENCES run(id),
    PRIMARY KEY (finding_id, run_id)
);

-- One `faultstack sweep` (a session of kind 'sweep'): its options and progress,
-- so that --resume can go on where an interrupted sweep stopped.
CREATE TABLE IF NOT EXISTS sweep (
    session_id   INTEGER PRIMARY KEY REFERENCES session(id),
    strategy     TEXT NOT NULL,    -- nth | site | stack
    mode         TEXT NOT NULL,    -- fork | exec: what was asked (runs.mode: what each run used)
    depth        INTEGER NOT NULL, -- 1, or 2: also fail each point on the error path of a fault
    persistent   INTEGER NOT NULL, -- 1: every run keeps failing after its first fault
    filter_spec  TEXT,             -- --fail filters applied to every run (only=, module=, errno=)
    shard_index  INTEGER NOT NULL DEFAULT 1,
    shard_count  INTEGER NOT NULL DEFAULT 1,
    baseline_run INTEGER REFERENCES run(id),
    planned      INTEGER NOT NULL DEFAULT 0, -- fault runs planned (grows as error paths are found)
    done         INTEGER NOT NULL DEFAULT 0, -- fault runs recorded
    status       TEXT NOT NULL,    -- running | complete | interrupted | limited (--max-runs) |
                                   --   baseline-failed (nothing was swept)
    finished_at  TEXT
);

-- ============ memcheck as an oracle (--valgrind) ============
-- (`faultstack run --valgrind`; merged later with main's own version-3 additions)

-- One row per run made under memcheck, even when memcheck reported nothing.
CREATE TABLE IF NOT EXISTS memcheck_run (
    run_id      INTEGER PRIMARY KEY REFERENCES run(id),
    valgrind    TEXT NOT NULL,     -- valgrind's version, e.g. '3.19.0'
    xml_files   INTEGER NOT NULL,  -- memcheck.PID.IMAGE.xml reports read (one per process and exec'd image)
    incomplete  INTEGER NOT NULL DEFAULT 0 -- of them, reports memcheck did not finish: an image that
                                   --   exec'd (no leak check; its errors up to the exec are kept)
                                   --   or a killed process
);

-- What memcheck reported, one row per error or loss record (memcheck groups the
-- blocks lost at the same stack into one record: blocks, bytes). Memcheck runs
-- the program with faultstack's preload in it: stacks show valgrind's malloc,
-- then the preload's (wrap_mem.c), then the program; errors whose innermost
-- frame is in the preload (its exit scan reads uninitialised stack words) are
-- suppressed.
CREATE TABLE IF NOT EXISTS memcheck_error (
    run_id      INTEGER NOT NULL REFERENCES run(id),
    pid         INTEGER NOT NULL,
    kind        TEXT NOT NULL,     -- memcheck's kind: Leak_DefinitelyLost, Leak_IndirectlyLost,
                                   --   Leak_PossiblyLost, Leak_StillReachable, InvalidRead,
                                   --   InvalidWrite, InvalidFree, MismatchedFree, UninitCondition,
                                   --   UninitValue, SyscallParam, Overlap, FdNotClosed, FdBadClose...
    leak_kind   TEXT,              -- definitely | indirectly | possibly | reachable (Leak_*),
                                   --   fd (FdNotClosed: open at exit), else NULL
    bytes       INTEGER,           -- leaks: bytes and blocks of the loss record, the blocks' own
    blocks      INTEGER,           --   bytes (memcheck's leakedbytes minus indirect_bytes)
    fd          INTEGER,           -- fd errors: the descriptor and its path when known
    path        TEXT,
    what        TEXT,              -- memcheck's one-line description
    func        TEXT,              -- first frame of the stack in the program's own code (not
    module      TEXT,              --   valgrind's preloads, faultstack's, libc or the loader):
    module_path TEXT,              --   function, module basename, offset of the return address
    offset      INTEGER,           --   as faultstack names sites (NULL when the module's load
    file        TEXT,              --   address is unknown), file:line
    line        INTEGER,
    stack       TEXT,              -- the whole stack, one 'fn file:line' or 'fn obj 0xIP' per line
    aux         TEXT,              -- auxiliary lines and stacks (where a block was allocated/freed)
    source      TEXT NOT NULL,     -- 'xml', or 'log': valgrind < 3.23 reports --track-fds in its
                                   --   text log only ("Open file descriptor N: ...")
    inherited   INTEGER NOT NULL DEFAULT 0, -- log: an fd inherited from the parent (not the program's)
    indirect_bytes INTEGER         -- definitely lost: bytes lost only through these blocks
                                   --   ("64 (32 direct, 32 indirect) bytes"), listed again in
                                   --   their own Leak_IndirectlyLost records
);
CREATE INDEX IF NOT EXISTS memcheck_error_run ON memcheck_error(run_id);

-- ===================== public views (stable contract) =====================
-- (Views read tables only, never other views, so that a schema step may drop
-- and recreate one view, or alter a table, without touching the others; the
-- role column's CASE is therefore repeated in each view that has it.)

-- runs: one row per execution of the target. role (schema 5) says what the
-- run was for (the same word in the leaks, anomalies, held and crashes views):
--   'baseline'      nothing was to fail (fault_spec NULL): `faultstack run` without
--                   --fail, or a sweep's baseline run
--   'fault'         a run with a fault plan, in exec mode: a sweep's fault run, or
--                   `faultstack run --fail ...` (a repro command run by hand too)
--   'fork'          a sweep's fault run in fork mode (forked from the trunk at the
--                   fault point): its leaks and anomalies caused by the fault make
--                   no findings by themselves, an exec replay confirms them
--   'confirmation'  that exec replay of a fork run (confirms = the fork run's id):
--                   the same fault, its findings are the ones recorded
--   'repro'         the replay `faultstack repro ID` made (session kind 'repro')
CREATE VIEW IF NOT EXISTS runs AS
    SELECT u.id, u.session_id, u.command, u.fault_spec, u.mode, u.exit_code, u.signal, u.timed_out,
           u.duration_ms, u.points_total, u.injected, u.swallowed, u.started_at, u.sweep_key, u.confirms,
           u.observed, u.note,
           CASE WHEN s.kind = 'repro' THEN 'repro' WHEN u.confirms IS NOT NULL THEN 'confirmation'
                WHEN u.fault_spec IS NULL THEN 'baseline' WHEN u.mode = 'fork' THEN 'fork'
                ELSE 'fault' END AS role,
           u.fault_callers
    FROM run u LEFT JOIN session s ON s.id = u.session_id;

-- fault_points: the calls that could fail, in order; injected = 1 for the one that did.
CREATE VIEW IF NOT EXISTS fault_points AS
    SELECT run_id, ordinal, func, module, file, line, symbol, site_occurrence, injected,
           pid, offset, ctx
    FROM point;

-- fault_sites: per call site, how many fault points a run reached there — for
-- runs whose per-point list (fault_points) was capped (runs.points_total is more
-- than the run's fault_points rows); empty for the others, whose fault_points
-- say it all. Since schema version 7.
CREATE VIEW IF NOT EXISTS fault_sites AS
    SELECT run_id, pid, func, module, file, line, symbol, calls, first_ordinal, offset
    FROM site;

-- leaks: resources the program could no longer release when a process ended.
-- A sweep in fork mode records each forked run's leaks and, for those caused by
-- the fault, the exec replay's too (runs.confirms names the forked run): only
-- the replay's make findings. role says which row is which (runs.role: 'fork'
-- for the forked run's, 'confirmation' for its replay's, with confirms = the
-- forked run; 'repro' for a `faultstack repro` replay's); to count each leak
-- once per fault run: WHERE role NOT IN ('confirmation', 'repro').
CREATE VIEW IF NOT EXISTS leaks AS
    SELECT r.run_id, r.pid, r.kind, r.func, r.module, r.file, r.line, r.symbol, r.handle, r.size,
           r.fault_func, r.fault_file, r.fault_line, r.offset, r.fault_module, r.fault_offset, r.stack,
           CASE WHEN s.kind = 'repro' THEN 'repro' WHEN u.confirms IS NOT NULL THEN 'confirmation'
                WHEN u.fault_spec IS NULL THEN 'baseline' WHEN u.mode = 'fork' THEN 'fork'
                ELSE 'fault' END AS role, u.confirms
    FROM resource r JOIN run u ON u.id = r.run_id LEFT JOIN session s ON s.id = u.session_id
    WHERE r.verdict = 'leak';

-- held: resources live when a process ended that the program still held: not
-- findings, listed so that a verdict can be audited. reason:
--   'frame'         acquired by a function whose frame was still live when the
--                   program exited (exit(), error(), errx()... called deeper)
--   'thread'        acquired by a thread still running when the process ended
--   'reachable-ROOT' a FILE or DIR whose stream is still reachable from the
--                   program's roots (libc's own list of streams does not count);
--                   ROOT is 'global MODULE+0xOFF' (a slot in a module's writable
--                   data), 'stack', 'registers', 'thread-stack' or 'tls'
--   'global MODULE+0xOFF'  a raw fd whose number a slot of the program's own
--                   writable data holds, which did not hold it when the fd was
--                   acquired (stacks and small integers elsewhere are not evidence)
--   'signal'        the process died of a signal (its crash is the finding)
--   'sanitizer'     a sanitizer runtime ended the process after its report (the
--                   report is the finding; sanitizer_reports)
--   'exec'          the process image was replaced by exec
CREATE VIEW IF NOT EXISTS held AS
    SELECT r.run_id, r.pid, r.kind, r.func, r.module, r.file, r.line, r.symbol, r.handle, r.size,
           r.reason, r.offset,
           CASE WHEN s.kind = 'repro' THEN 'repro' WHEN u.confirms IS NOT NULL THEN 'confirmation'
                WHEN u.fault_spec IS NULL THEN 'baseline' WHEN u.mode = 'fork' THEN 'fork'
                ELSE 'fault' END AS role
    FROM resource r JOIN run u ON u.id = r.run_id LEFT JOIN session s ON s.id = u.session_id
    WHERE r.verdict = 'held';

-- anomalies: double, unknown or mismatched releases, bad unlocks and relocks.
CREATE VIEW IF NOT EXISTS anomalies AS
    SELECT a.run_id, a.pid, a.anomaly, a.kind, a.func, a.file, a.line, a.fault_func, a.fault_file,
           a.fault_line, a.module, a.offset, a.symbol, a.handle, a.detail,
           CASE WHEN s.kind = 'repro' THEN 'repro' WHEN u.confirms IS NOT NULL THEN 'confirmation'
                WHEN u.fault_spec IS NULL THEN 'baseline' WHEN u.mode = 'fork' THEN 'fork'
                ELSE 'fault' END AS role
    FROM anomaly a JOIN run u ON u.id = a.run_id LEFT JOIN session s ON s.id = u.session_id;

-- crashes (schema 5): processes that died of a signal, where (the innermost
-- frame in the program's code) and how they got there (stack, one frame per
-- line), with the run's fault plan and role. A timeout is not a crash: see
-- runs.timed_out. A sanitizer's report is a crash finding, not a row here
-- (sanitizer_reports).
CREATE VIEW IF NOT EXISTS crashes AS
    SELECT c.run_id, c.pid, c.signal, c.module, c.file, c.line, c.symbol, c.offset, c.stack,
           u.fault_spec, CASE WHEN s.kind = 'repro' THEN 'repro' WHEN u.confirms IS NOT NULL THEN 'confirmation'
                WHEN u.fault_spec IS NULL THEN 'baseline' WHEN u.mode = 'fork' THEN 'fork'
                ELSE 'fault' END AS role, u.confirms
    FROM crash c JOIN run u ON u.id = c.run_id LEFT JOIN session s ON s.id = u.session_id;

-- sweeps (schema 5): one row per `faultstack sweep` (per shard): its command,
-- options, progress and outcome. session_id is the runs' session_id; status:
-- running | complete | interrupted | limited (--max-runs) | baseline-failed;
-- planned/done count its fault runs.
CREATE VIEW IF NOT EXISTS sweeps AS
    SELECT w.session_id, s.command, s.cwd, s.started_at, w.finished_at, w.status, w.strategy,
           w.mode, w.depth, w.persistent, w.filter_spec, w.shard_index, w.shard_count,
           w.baseline_run, w.planned, w.done
    FROM sweep w JOIN session s ON s.id = w.session_id;

-- findings: deduplicated; runs = how many runs showed it; repro replays it.
-- Triage (schema 6) (docs/suppressions.md):
--   suppressed, suppression  1 and the rule's name when a --suppressions rule accepts it
--   in_scope       with --scope: 1 when its site is in a module in scope, else 0; NULL without
--   driver_gave_up 1: a test driver's abort()/assert() right after an injected failure that the
--                  library reported (crash SIGABRT; see the finding table)
--   status         'suppressed', 'driver-gave-up', 'out-of-scope' or 'open' (that order): only
--                  'open' findings count toward the exit status of run, sweep and report
--   fault_caller   the first caller of the function holding the fault site ('entry_new
--                  loader.c:113'): where a fault behind an allocation wrapper came from
--   fault_callers  the whole chain known: runs.fault_callers of the first run showing the
--                  finding that knows it, or of the fork-mode run it replays
--                  (runs.confirms); NULL when no run knows it
CREATE VIEW IF NOT EXISTS findings AS
    SELECT f.id, f.category, f.kind, f.anomaly, f.func, f.module, f.file, f.line, f.symbol,
           f.fault_func, f.fault_file, f.fault_line,
           (SELECT count(*) FROM finding_run fr WHERE fr.finding_id = f.id) AS runs,
           f.first_run, f.repro, f.offset, f.fault_module, f.fault_offset,
           f.suppressed, f.suppression, f.in_scope, f.gave_up AS driver_gave_up,
           CASE WHEN f.suppressed THEN 'suppressed' WHEN f.gave_up THEN 'driver-gave-up'
                WHEN f.in_scope = 0 THEN 'out-of-scope' ELSE 'open' END AS status,
           substr(fc.callers, 1, instr(fc.callers || char(10), char(10)) - 1) AS fault_caller,
           fc.callers AS fault_callers
    FROM finding f
    LEFT JOIN (SELECT fr.finding_id AS id, coalesce(r.fault_callers, c.fault_callers) AS callers, min(r.id)
               FROM finding_run fr JOIN run r ON r.id = fr.run_id LEFT JOIN run c ON c.id = r.confirms
               WHERE coalesce(r.fault_callers, c.fault_callers) IS NOT NULL GROUP BY fr.finding_id) fc
      ON fc.id = f.id AND f.fault_func IS NOT NULL;

-- bugs (schema 6): the findings grouped by what is wrong and where (category, kind,
-- anomaly, function and site: module + offset, file:line), whatever fault
-- exposes it: one real bug shown once, with the faults that expose it.
--   id         the smallest finding id of the bug (SELECT * FROM findings WHERE ...)
--   findings   how many findings (one per fault site, or baseline) it groups
--   runs       runs that showed it
--   faults     one line per finding: '#ID FAULT_FUNC FILE:LINE [< CALLER]' or
--              '#ID baseline', ordered baseline first, then by fault site
--   finding_ids the ids, comma-separated
--   status     'open' when any of its findings is open, else out-of-scope, driver-gave-up
--              or suppressed (the first of those any of its findings has)
--   suppression the name of a rule that suppressed one of its findings, else NULL
-- (It reads the tables, not the findings view: the status CASE and the fault's
-- first caller are the findings view's, repeated.)
CREATE VIEW IF NOT EXISTS bugs AS
    SELECT min(id) AS id, category, kind, anomaly, func, module, file, line, symbol, offset,
           count(*) AS findings, sum(runs) AS runs,
           group_concat(fault, char(10)) AS faults,
           group_concat(id, ',') AS finding_ids,
           CASE WHEN max(status = 'open') THEN 'open' WHEN max(status = 'out-of-scope') THEN 'out-of-scope'
                WHEN max(status = 'driver-gave-up') THEN 'driver-gave-up' ELSE 'suppressed' END AS status,
           max(suppression) AS suppression
    FROM (SELECT f.id, f.category, f.kind, f.anomaly, f.func, f.module, f.file, f.line, f.symbol,
                 f.offset, f.suppression,
                 (SELECT count(*) FROM finding_run fr WHERE fr.finding_id = f.id) AS runs,
                 CASE WHEN f.suppressed THEN 'suppressed' WHEN f.gave_up THEN 'driver-gave-up'
                      WHEN f.in_scope = 0 THEN 'out-of-scope' ELSE 'open' END AS status,
                 '#' || f.id || ' ' ||
                 CASE WHEN f.fault_func IS NULL THEN 'baseline'
                      ELSE f.fault_func || ' ' || ifnull(f.fault_file || ':' || f.fault_line,
                           ifnull(f.fault_module || '+' || printf('0x%x', f.fault_offset), '?')) ||
                           ifnull(' < ' || substr(fc.callers, 1, instr(fc.callers || char(10), char(10)) - 1),
                                  '') END AS fault
          FROM finding f
          LEFT JOIN (SELECT fr.finding_id AS id, coalesce(r.fault_callers, c.fault_callers) AS callers, min(r.id)
                     FROM finding_run fr JOIN run r ON r.id = fr.run_id LEFT JOIN run c ON c.id = r.confirms
                     WHERE coalesce(r.fault_callers, c.fault_callers) IS NOT NULL GROUP BY fr.finding_id) fc
            ON fc.id = f.id AND f.fault_func IS NOT NULL
          ORDER BY f.fault_func IS NOT NULL, f.fault_file, f.fault_line, f.id)
    GROUP BY category, kind, anomaly, func, module, offset, file, line;

-- memcheck: what memcheck reported in the runs made with --valgrind (table memcheck_error).
-- Memory errors (kind InvalidRead, InvalidWrite, InvalidFree, MismatchedFree,
-- InvalidJump, Overlap, UninitCondition, UninitValue, SyscallParam, FdBadClose)
-- are also findings of category 'memcheck' (kind = memcheck's kind, site = the
-- error's first frame in the program), attributed to the run's fault like
-- leaks; leaks and fds still open are compared in memcheck_vs_faultstack instead.
CREATE VIEW IF NOT EXISTS memcheck AS
    SELECT run_id, pid, kind, leak_kind, bytes, blocks, fd, path, what, func, module, file, line,
           offset, stack, aux, source, inherited, indirect_bytes
    FROM memcheck_error;

-- memcheck_vs_faultstack: both verdicts side by side for every acquire site of
-- every run made with --valgrind, per process. kind is 'memory' (malloc family)
-- or 'fd' (fd, FILE*, DIR*: memcheck sees the fd beneath). A site is matched by
-- module + offset of its first frame in the program, else by file:line.
--   faultstack          'leak', 'held' or 'inherited' (resource.verdict: an fd or block a
--                       forked child got from its parent is the parent's to judge), NULL
--                       when it reported nothing
--   memcheck            definitely | indirectly | possibly | reachable | fd, NULL when nothing
--   *_blocks, *_bytes   how many blocks (fds) and bytes each side counts at the site, of
--                       the verdict shown: when a side calls some lost, its lost ones only
--                       (memcheck's still reachable blocks and faultstack's held ones at the
--                       same site are left out), else all it listed
--   agreement           'agree' when both call it lost or neither does; 'faultstack only'
--                       or 'memcheck only' otherwise. memcheck's "lost" is definitely or
--                       indirectly lost, or an fd open at exit (not inherited); possibly lost
--                       and still reachable are not. Nor is what a forked child got from its
--                       parent (faultstack 'inherited'): memcheck marks only the fds open
--                       when valgrind started as inherited, and reports the child's copy of
--                       its parent's fd (or block) as the child's. faultstack's is verdict 'leak' ('held at
--                       exit' is not a finding, so an fd held open at exit() shows as
--                       'memcheck only').
--   same_size           1 when both count the same bytes (memory) and blocks
--   faultstack_kind     faultstack's kind(s) at the site: memory, or fd, file, dir (a FILE* or
--                       DIR* is an fd to memcheck; its own memory is a separate 'memory' row)
CREATE VIEW IF NOT EXISTS memcheck_vs_faultstack AS
    WITH fs AS (
        SELECT run_id, pid, CASE WHEN kind = 'memory' THEN 'memory' ELSE 'fd' END AS k,
               module, offset, max(file) AS file, max(line) AS line, max(symbol) AS func,
               max(verdict = 'leak') AS lost,
               CASE WHEN max(verdict = 'leak') THEN 'leak' WHEN max(verdict = 'held') THEN 'held'
                    ELSE 'inherited' END AS verdict,
               -- the blocks of the verdict shown: a site's leaks, else all it held
               CASE WHEN max(verdict = 'leak') THEN sum(verdict = 'leak') ELSE count(*) END AS blocks,
               CASE WHEN max(verdict = 'leak') THEN sum(CASE WHEN verdict = 'leak' THEN size END)
                    ELSE sum(size) END AS bytes,
               group_concat(DISTINCT kind) AS fk
        FROM resource
        WHERE kind IN ('memory', 'fd', 'file', 'dir') AND verdict IN ('leak', 'held', 'inherited')
          AND run_id IN (SELECT run_id FROM memcheck_run)
        GROUP BY run_id, pid, k, module, offset
    ), mc AS (
        SELECT run_id, pid, CASE WHEN leak_kind = 'fd' THEN 'fd' ELSE 'memory' END AS k,
               module, offset, max(file) AS file, max(line) AS line, max(func) AS func,
               max(leak_kind IN ('definitely', 'indirectly', 'fd')) AS lost,
               CASE WHEN max(leak_kind = 'definitely') THEN 'definitely'
                    WHEN max(leak_kind = 'indirectly') THEN 'indirectly'
                    WHEN max(leak_kind = 'fd') THEN 'fd'
                    WHEN max(leak_kind = 'possibly') THEN 'possibly' ELSE 'reachable' END AS verdict,
               -- the blocks memcheck calls lost at the site when it calls some lost (not
               -- its still reachable ones at the same site as well), else all it listed
               CASE WHEN max(leak_kind IN ('definitely', 'indirectly', 'fd'))
                    THEN sum(CASE WHEN leak_kind = 'fd' THEN 1
                                  WHEN leak_kind IN ('definitely', 'indirectly') THEN blocks END)
                    ELSE sum(blocks) END AS blocks,
               CASE WHEN max(leak_kind IN ('definitely', 'indirectly', 'fd'))
                    THEN sum(CASE WHEN leak_kind IN ('definitely', 'indirectly') THEN bytes END)
                    ELSE sum(bytes) END AS bytes
        FROM memcheck_error
        WHERE leak_kind IS NOT NULL AND inherited = 0
        GROUP BY run_id, pid, k, module, offset, CASE WHEN offset IS NULL THEN file || ':' || line END
    ), pairs AS (
        SELECT f.run_id, f.pid, f.k, f.module, f.offset, f.file, f.line, f.func,
               f.verdict AS fv, f.blocks AS fb, f.bytes AS fy, f.lost AS fl,
               m.verdict AS mv, m.blocks AS mb, m.bytes AS my,
               CASE WHEN f.verdict = 'inherited' THEN 0 ELSE m.lost END AS ml, f.fk
        FROM fs f LEFT JOIN mc m
          ON m.run_id = f.run_id AND m.pid = f.pid AND m.k = f.k
         AND ((m.offset = f.offset AND m.module = f.module) OR
              (m.offset IS NULL AND m.line = f.line AND (m.file = f.file OR f.file LIKE '%/' || m.file)))
        UNION ALL
        SELECT m.run_id, m.pid, m.k, m.module, m.offset, m.file, m.line, m.func,
               NULL, NULL, NULL, 0, m.verdict, m.blocks, m.bytes, m.lost, NULL
        FROM mc m
        WHERE NOT EXISTS (
            SELECT 1 FROM fs f
            WHERE m.run_id = f.run_id AND m.pid = f.pid AND m.k = f.k
              AND ((m.offset = f.offset AND m.module = f.module) OR
                   (m.offset IS NULL AND m.line = f.line AND (m.file = f.file OR f.file LIKE '%/' || m.file))))
    )
    SELECT run_id, pid, k AS kind, module, offset, file, line, func,
           fv AS faultstack, fb AS faultstack_blocks, fy AS faultstack_bytes,
           mv AS memcheck, mb AS memcheck_blocks, my AS memcheck_bytes,
           CASE WHEN ifnull(fl, 0) = ifnull(ml, 0) THEN 'agree'
                WHEN ifnull(fl, 0) THEN 'faultstack only' ELSE 'memcheck only' END AS agreement,
           (fb IS mb AND fy IS my) AS same_size, fk AS faultstack_kind
    FROM pairs;

-- sanitizer_reports: reports of sanitizer runtimes (AddressSanitizer...), with
-- their full text; the crash findings of kind 'asan:...' point at them by run
-- and site: SELECT report FROM sanitizer_reports WHERE run_id = <first_run>.
CREATE VIEW IF NOT EXISTS sanitizer_reports AS
    SELECT run_id, pid, tool, kind, headline, module, file, line, symbol, report, offset
    FROM sanitizer_report;
