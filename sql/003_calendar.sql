-- 003_calendar.sql: calendars. A calendar is a node marked as one; each calendar object
-- (all components sharing a UID) is a row of calpubsub_calendar_object and an item of
-- the node whose id is the UID and whose payload is the object in xCal or jCal.
--
-- calpubsub_calendar_object is a public interface: other applications may insert,
-- update and delete rows with plain SQL (node_name, uid, ics); a trigger records each
-- change in the change log and calpubsub publishes or retracts the item, even if it was
-- not running when the row was written. calpubsub's own sessions set
-- calpubsub.internal = 'on' so that their writes, already published, are not logged
-- twice. The columns after `ics` are kept by calpubsub.

ALTER TABLE calpubsub_node
    ADD COLUMN calendar            boolean NOT NULL DEFAULT false,
    ADD COLUMN calendar_format     text NOT NULL DEFAULT 'xcal' CHECK (calendar_format IN ('xcal', 'jcal')),
    ADD COLUMN calendar_components text NOT NULL DEFAULT 'VEVENT VTODO VJOURNAL';

ALTER TABLE calpubsub_change DROP CONSTRAINT calpubsub_change_kind_check;
ALTER TABLE calpubsub_change ADD CONSTRAINT calpubsub_change_kind_check
    CHECK (kind IN ('publish', 'retract', 'purge', 'delete', 'config', 'subscription', 'approval',
                    'affiliation', 'last-item', 'ingest'));

CREATE TABLE calpubsub_calendar_object (
    node_name   text NOT NULL,
    uid         text NOT NULL CHECK (length(uid) BETWEEN 1 AND 1023),
    ics         text NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    component   text,                        -- VEVENT, VTODO or VJOURNAL
    range_start timestamptz,                 -- no occurrence starts before
    range_end   timestamptz,                 -- no occurrence ends after
    state       text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'published', 'invalid')),
    problem     text,                        -- why an application's row was refused
    PRIMARY KEY (node_name, uid)
);
CREATE INDEX calpubsub_calendar_object_range ON calpubsub_calendar_object (node_name, range_start);

-- Each write is logged with the text it wrote ('put') or as a deletion, so that every
-- version is published in order even when a row changes again before calpubsub runs.
CREATE FUNCTION calpubsub_calendar_object_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    v_node_id bigint;
BEGIN
    IF coalesce(current_setting('calpubsub.internal', true), '') = 'on' THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'DELETE' OR (TG_OP = 'UPDATE' AND (OLD.node_name, OLD.uid) IS DISTINCT FROM (NEW.node_name, NEW.uid)) THEN
        SELECT id INTO v_node_id FROM calpubsub_node WHERE name = OLD.node_name AND deleted_at IS NULL;
        PERFORM calpubsub_log_change(coalesce(v_node_id, 0), OLD.node_name, 'ingest', OLD.uid,
                                     NULL, NULL, NULL, NULL, NULL, 'delete', NULL, NULL, NULL);
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        SELECT id INTO v_node_id FROM calpubsub_node WHERE name = NEW.node_name AND deleted_at IS NULL;
        PERFORM calpubsub_log_change(coalesce(v_node_id, 0), NEW.node_name, 'ingest', NEW.uid,
                                     NEW.ics, NULL, NULL, NULL, NULL, 'put', NULL, NULL, NULL);
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER calpubsub_calendar_object_changed
    AFTER INSERT OR UPDATE OF node_name, uid, ics OR DELETE ON calpubsub_calendar_object
    FOR EACH ROW EXECUTE FUNCTION calpubsub_calendar_object_changed();

-- An item removed from a calendar node (retract, purge, expiry, node deletion) takes its
-- calendar object with it.
CREATE FUNCTION calpubsub_item_removed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM calpubsub_calendar_object o USING calpubsub_node n
     WHERE n.id = OLD.node_id AND n.calendar AND o.node_name = n.name AND o.uid = OLD.item_id;
    RETURN NULL;
END
$$;
CREATE TRIGGER calpubsub_item_removed AFTER DELETE ON calpubsub_item
    FOR EACH ROW EXECUTE FUNCTION calpubsub_item_removed();
