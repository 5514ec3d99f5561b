-- Runs where a failure was injected but the program exited 0 and said nothing:
-- the error was swallowed.
SELECT r.id AS run, r.fault_spec, p.func, p.file, p.line
FROM runs r JOIN fault_points p ON p.run_id = r.id AND p.injected = 1
WHERE r.swallowed = 1
ORDER BY r.id;
