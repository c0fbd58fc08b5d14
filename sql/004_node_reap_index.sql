-- 004_node_reap_index.sql: deleted nodes are found without reading every node.
-- After each fan-out checkpoint calpubsub removes the rows of deleted nodes whose
-- deletion has been notified; without this index that is a scan of all nodes.
CREATE INDEX calpubsub_node_deleted ON calpubsub_node (id) WHERE deleted_at IS NOT NULL;
