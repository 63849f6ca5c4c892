"""Reports for supervisors: the period, the metrics of docs/reports.md as SQL aggregates, and their files."""
