-- 007_calendar_item_text.sql: an imported calendar item is stored once, as its calendar
-- object's text; calpubsub encodes it (xCal or jCal, the node's calendar_format) when it
-- sends or returns the item. An import of 100,000 events wrote every event twice, once
-- as iCalendar and once as xCal: the xCal was 60 % of the import's data, and encoding
-- it a quarter of calpubsubctl's time.
--
-- calpubsub_item.payload NULL: the item is the text of the calendar object (node_name of
-- the node, uid = item_id), or `ics` once that object has changed since: the trigger
-- below keeps the item's own version when the object is rewritten or removed before the
-- item is (an application's row, published or refused only later by calpubsub).
-- calpubsub_change.ics: the text of an import's change whose item changed before the
-- change was delivered (see 006 for changes whose item has a payload).
ALTER TABLE calpubsub_item ALTER COLUMN payload DROP NOT NULL;
ALTER TABLE calpubsub_item ADD COLUMN ics text;
ALTER TABLE calpubsub_change ADD COLUMN ics text;

-- The text an item stands for, NULL when it has a payload of its own.
CREATE FUNCTION calpubsub_item_text(p_node_id bigint, p_item_id text, p_payload text, p_ics text)
RETURNS text LANGUAGE sql STABLE AS $$
    SELECT CASE WHEN p_payload IS NULL THEN coalesce(p_ics,
        (SELECT o.ics FROM calpubsub_calendar_object o JOIN calpubsub_node n ON n.name = o.node_name
          WHERE n.id = p_node_id AND o.uid = p_item_id)) END
$$;

-- The triggers below run once per row of an import or a node deletion (100,000 times for
-- a big calendar), so each statement in them is a single-table lookup by key: a join's
-- plan is made again at every call (80 us), a key lookup's once.

-- Before an item that a pending change refers to is replaced or removed, that change gets
-- the version it published. For an item without a payload this runs before the item's
-- calendar object goes with it (calpubsub_item_removed): AFTER triggers of one event
-- fire in name order, and "payload_kept" sorts before "removed".
CREATE OR REPLACE FUNCTION calpubsub_item_payload_kept() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    v_text text := OLD.ics;
    v_node text;
BEGIN
    IF OLD.change_id < (SELECT change_id FROM calpubsub_fanout) THEN
        RETURN NULL; -- delivered already
    END IF;
    IF OLD.payload IS NULL AND v_text IS NULL THEN
        SELECT name INTO v_node FROM calpubsub_node WHERE id = OLD.node_id;
        SELECT ics INTO v_text FROM calpubsub_calendar_object WHERE node_name = v_node AND uid = OLD.item_id;
    END IF;
    UPDATE calpubsub_change SET payload = OLD.payload, ics = v_text
     WHERE id = OLD.change_id AND payload IS NULL AND ics IS NULL;
    RETURN NULL;
END
$$;

-- 003's version joined the node table: the same lookups, one table at a time.
CREATE OR REPLACE FUNCTION calpubsub_item_removed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    v_node text;
BEGIN
    SELECT name INTO v_node FROM calpubsub_node WHERE id = OLD.node_id AND calendar;
    IF FOUND THEN
        DELETE FROM calpubsub_calendar_object WHERE node_name = v_node AND uid = OLD.item_id;
    END IF;
    RETURN NULL;
END
$$;

-- A calendar object rewritten or removed while its item still stands for its text: the
-- item keeps that text. (Setting an item's ics does not change its version: the update
-- trigger of 006 does not fire for it.)
--
-- An item row that another transaction has locked is skipped, not waited for: calpubsub
-- locks an item before its object (it publishes over the item, or removes it and its
-- trigger removes the object), so waiting here, with this object locked, could deadlock.
-- That transaction is replacing or removing the item; the item's own trigger then gives
-- a pending change the object's text as committed, which is still the old one.
CREATE FUNCTION calpubsub_calendar_object_text_kept() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    v_node_id bigint;
BEGIN
    SELECT id INTO v_node_id FROM calpubsub_node WHERE name = OLD.node_name AND deleted_at IS NULL;
    PERFORM 1 FROM calpubsub_item
      WHERE node_id = v_node_id AND item_id = OLD.uid AND payload IS NULL AND ics IS NULL
        FOR UPDATE SKIP LOCKED;
    IF FOUND THEN
        UPDATE calpubsub_item SET ics = OLD.ics WHERE node_id = v_node_id AND item_id = OLD.uid;
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER calpubsub_calendar_object_text_kept
    AFTER UPDATE OF node_name, uid, ics OR DELETE ON calpubsub_calendar_object
    FOR EACH ROW EXECUTE FUNCTION calpubsub_calendar_object_text_kept();
