-- 008_subscription_version.sql: every node counts the writes to its subscriptions, so
-- that the fan-out can keep a small node's subscriber list from one change to the next
-- instead of reading it again for every publish (one round trip per change: at 100
-- subscribers, close to half of calpubsub's CPU in a burst of publishes).
--
-- The fan-out reads each change together with its node, subs_version included, and
-- reuses the list it read last for that node only while the number is the same. A
-- subscription that must see a change was committed before the change was logged (the
-- change log's advisory lock orders them, see calpubsub_change_position), and its
-- statement bumped the number in the same transaction, so the change is read with the
-- new number and the list is read again. The count is per statement, not per row: a
-- node's deletion that removes 100,000 subscriptions updates the node once.
ALTER TABLE calpubsub_node ADD COLUMN subs_version bigint NOT NULL DEFAULT 0;

CREATE FUNCTION calpubsub_subscriptions_written() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE calpubsub_node SET subs_version = subs_version + 1
     WHERE id IN (SELECT DISTINCT node_id FROM written);
    RETURN NULL;
END
$$;

CREATE TRIGGER calpubsub_subscriptions_inserted AFTER INSERT ON calpubsub_subscription
    REFERENCING NEW TABLE AS written FOR EACH STATEMENT EXECUTE FUNCTION calpubsub_subscriptions_written();
CREATE TRIGGER calpubsub_subscriptions_updated AFTER UPDATE ON calpubsub_subscription
    REFERENCING NEW TABLE AS written FOR EACH STATEMENT EXECUTE FUNCTION calpubsub_subscriptions_written();
CREATE TRIGGER calpubsub_subscriptions_deleted AFTER DELETE ON calpubsub_subscription
    REFERENCING OLD TABLE AS written FOR EACH STATEMENT EXECUTE FUNCTION calpubsub_subscriptions_written();
