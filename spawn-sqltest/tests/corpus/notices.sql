--- case: raise_notice
DO $$ BEGIN RAISE NOTICE 'hello %', 42; END $$;
--- case: raise_warning_and_info
DO $$ BEGIN RAISE WARNING 'careful'; RAISE INFO 'fyi'; END $$;
--- case: notice_with_detail_hint
DO $$ BEGIN RAISE NOTICE 'n' USING DETAIL = 'd', HINT = 'h'; END $$;
--- case: notice_before_result
SELECT shout('a') AS a, shout('b') AS b;
--- case: drop_if_exists_notice
DROP TABLE IF EXISTS nothing_here;
--- case: notices_quiet_off
\set QUIET off
DROP TABLE IF EXISTS nothing_here;
DO $$ BEGIN RAISE NOTICE 'x'; END $$;
--- case: notice_verbose
\set VERBOSITY verbose
DO $$ BEGIN RAISE NOTICE 'verbose notice'; END $$;
--- case: multiline_notice
DO $$ BEGIN RAISE NOTICE E'line1\nline2'; END $$;
