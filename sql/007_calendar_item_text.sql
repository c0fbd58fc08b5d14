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

-- Before an item that a pending change refers to is replaced or removed, that change gets
-- the version it published. For an item without a payload this runs before the item's
-- calendar object goes with it (calpubsub_item_removed): AFTER triggers of one event
-- fire in name order, and "payload_kept" sorts before "removed".
CREATE OR REPLACE FUNCTION calpubsub_item_payload_kept() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE calpubsub_change
       SET payload = OLD.payload,
           ics = calpubsub_item_text(OLD.node_id, OLD.item_id, OLD.payload, OLD.ics)
     WHERE id = OLD.change_id AND payload IS NULL AND ics IS NULL
       AND id >= (SELECT change_id FROM calpubsub_fanout);
    RETURN NULL;
END
$$;

-- A calendar object rewritten or removed while its item still stands for its text: the
-- item keeps that text. (Setting an item's ics does not change its version: the update
-- trigger of 006 does not fire for it.)
CREATE FUNCTION calpubsub_calendar_object_text_kept() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE calpubsub_item i SET ics = OLD.ics
      FROM calpubsub_node n
     WHERE n.name = OLD.node_name AND i.node_id = n.id AND i.item_id = OLD.uid
       AND i.payload IS NULL AND i.ics IS NULL;
    RETURN NULL;
END
$$;
CREATE TRIGGER calpubsub_calendar_object_text_kept
    AFTER UPDATE OF node_name, uid, ics OR DELETE ON calpubsub_calendar_object
    FOR EACH ROW EXECUTE FUNCTION calpubsub_calendar_object_text_kept();
