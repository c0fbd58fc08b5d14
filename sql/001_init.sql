-- 001_init.sql: the foundation. A PubSub node is a row of calpubsub_node; its name is
-- the XEP-0060 node id as the client sent it (any Unicode text the protocol allows).
CREATE TABLE calpubsub_node (
    id          bigserial PRIMARY KEY,
    name        text NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 1023),
    created_at  timestamptz NOT NULL DEFAULT now()
);
