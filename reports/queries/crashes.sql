-- Runs that crashed or timed out, with the fault that was injected.
SELECT r.id AS run, r.fault_spec, r.signal, r.timed_out, c.file, c.line, c.symbol
FROM runs r LEFT JOIN crash c ON c.run_id = r.id
WHERE r.signal IS NOT NULL OR r.timed_out = 1
ORDER BY r.id;
