-- 006_import_payload_by_reference.sql: the change log of an import refers to the item it
-- published instead of carrying a second copy of its payload. An import of 100,000 events
-- wrote every payload twice, a third of the import's data and WAL.
--
-- An item that such a change refers to has change_id set; the fan-out reads the payload
-- from the item while the item still holds that version. When the item is replaced or
-- removed before the change is delivered, the old payload is first copied into the change,
-- so that every version is still delivered as it was published.
ALTER TABLE calpubsub_item ADD COLUMN change_id bigint;  -- the change that refers to this version

CREATE FUNCTION calpubsub_item_payload_kept() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE calpubsub_change SET payload = OLD.payload
     WHERE id = OLD.change_id AND payload IS NULL AND id >= (SELECT change_id FROM calpubsub_fanout);
    RETURN NULL;
END
$$;
CREATE TRIGGER calpubsub_item_payload_kept_on_delete AFTER DELETE ON calpubsub_item
    FOR EACH ROW WHEN (OLD.change_id IS NOT NULL) EXECUTE FUNCTION calpubsub_item_payload_kept();
CREATE TRIGGER calpubsub_item_payload_kept_on_update AFTER UPDATE ON calpubsub_item
    FOR EACH ROW WHEN (OLD.change_id IS NOT NULL AND (NEW.change_id IS DISTINCT FROM OLD.change_id
                                                      OR NEW.payload IS DISTINCT FROM OLD.payload))
    EXECUTE FUNCTION calpubsub_item_payload_kept();
