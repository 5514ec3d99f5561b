-- Leaks grouped by acquire site, with the faults that expose them.
-- sqlite3 -header -column faultstack.db < reports/queries/leaks_by_site.sql
SELECT kind, func, file, line, symbol,
       count(*) AS leaks,
       count(DISTINCT run_id) AS runs,
       group_concat(DISTINCT coalesce(fault_func || ' @ ' || fault_file || ':' || fault_line, 'baseline')) AS faults
FROM leaks
WHERE role NOT IN ('confirmation', 'repro')   -- each fault run once: a fork run's replay
                                             -- and `faultstack repro` replays repeat it
GROUP BY kind, module, offset
ORDER BY runs DESC, file, line;
