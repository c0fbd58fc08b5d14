-- 005_payload_lz4.sql: payloads larger than about 2 KB (an xCal event with a time zone
-- and attendees is ~1.8 KB on average, many are over) are compressed when stored. pglz,
-- the default, took half of PostgreSQL's time in a 100,000-event import; lz4 compresses
-- several times faster. Servers built without lz4 keep pglz.
DO $$
BEGIN
    ALTER TABLE calpubsub_item ALTER COLUMN payload SET COMPRESSION lz4;
    ALTER TABLE calpubsub_change ALTER COLUMN payload SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported THEN
    RAISE NOTICE 'this PostgreSQL has no lz4: payloads stay compressed with pglz';
END
$$;
