-- A callback: runs once after a run that applied migrations (never on a start-up with
-- nothing pending), so the planner has statistics for the tables the migrations just filled.
ANALYZE orchard, variety;
