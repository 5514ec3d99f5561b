-- Fault points never failed: call sites that the baseline run of a sweep
-- reached but that no run of the sweep failed. A complete sweep leaves none;
-- rows here are what --max-runs, an interrupted sweep, or a shard whose
-- siblings are missing left untested.
-- The shards of one sweep (same command, strategy, filters and shard count,
-- e.g. combined with `faultstack merge`) count as one: a site failed by any
-- shard is covered. A site is func + module + offset (any occurrence).
-- Reads the public views sweeps, runs and fault_points only.
-- sqlite3 -header -column faultstack.db < reports/queries/never_failed.sql
WITH sw AS (
    SELECT s.session_id, s.baseline_run, s.strategy, s.filter_spec, s.shard_count, r.command
    FROM sweeps s JOIN runs r ON r.id = s.baseline_run
),
family AS (            -- each sweep, and the sessions whose runs count for it
    SELECT a.session_id, b.session_id AS member
    FROM sw a JOIN sw b
      ON b.session_id = a.session_id
      OR (a.shard_count > 1 AND b.shard_count = a.shard_count AND b.command = a.command
          AND b.strategy = a.strategy AND b.filter_spec IS a.filter_spec)
),
failed AS (            -- sites injected in some run of the family
    SELECT DISTINCT f.session_id, p.func, p.module, p.offset
    FROM family f
    JOIN runs r ON r.session_id = f.member
    JOIN fault_points p ON p.run_id = r.id AND p.injected = 1
)
SELECT w.session_id AS sweep, p.func, p.module, printf('0x%x', p.offset) AS offset,
       p.file, p.line, p.symbol, count(*) AS calls
FROM sw w
JOIN fault_points p ON p.run_id = w.baseline_run
WHERE NOT EXISTS (SELECT 1 FROM failed x
                  WHERE x.session_id = w.session_id AND x.func = p.func
                    AND x.module IS p.module AND x.offset IS p.offset)
GROUP BY w.session_id, p.func, p.module, p.offset
ORDER BY w.session_id, p.file, p.line, p.func;
