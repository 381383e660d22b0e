-- cases.life and its indexes cases_life and cases_grid_life (migration
-- 0034) served the count of the cases open at a past instant, by class of
-- life. Since migration 0042 that count reads case_open_points, and at now
-- cases_open_now (0039): no statement reads the column or the two indexes,
-- which every write of a case still maintained (two wide indexes, each
-- carrying ten columns). Dropping the column drops the indexes with it.
DROP INDEX IF EXISTS cases_life;
DROP INDEX IF EXISTS cases_grid_life;
ALTER TABLE cases DROP COLUMN life;
