-- Double, unknown and mismatched releases, bad unlocks and relocks, by site.
SELECT anomaly, kind, func, file, line, count(*) AS seen, min(detail) AS detail
FROM anomalies
GROUP BY anomaly, kind, module, offset
ORDER BY seen DESC;
