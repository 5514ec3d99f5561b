-- Runs that crashed or timed out, with the fault that was injected and where
-- the crash happened (public views only: runs, crashes). role: runs.role.
-- sqlite3 -header -column faultstack.db < reports/queries/crashes.sql
SELECT r.id AS run, r.fault_spec, r.signal, r.timed_out, c.file, c.line, c.symbol, r.role
FROM runs r LEFT JOIN crashes c ON c.run_id = r.id
WHERE r.signal IS NOT NULL OR r.timed_out = 1
ORDER BY r.id;
