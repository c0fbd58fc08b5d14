-- 002_pubsub.sql: the PubSub service: node configuration, affiliations, subscriptions,
-- items, presence subscriptions, and the change log from which every notification is
-- produced.

-- A deleted node keeps its row (deleted_at set) until the notification of its deletion
-- has reached every subscriber; a new node may take its name meanwhile.
ALTER TABLE calpubsub_node DROP CONSTRAINT calpubsub_node_name_key;
ALTER TABLE calpubsub_node
    ADD COLUMN creator               text,
    ADD COLUMN deleted_at            timestamptz,
    ADD COLUMN title                 text NOT NULL DEFAULT '',
    ADD COLUMN description           text NOT NULL DEFAULT '',
    ADD COLUMN payload_type          text NOT NULL DEFAULT '',
    ADD COLUMN access_model          text NOT NULL DEFAULT 'open'
        CHECK (access_model IN ('open', 'whitelist', 'authorize', 'presence')),
    ADD COLUMN publish_model         text NOT NULL DEFAULT 'publishers'
        CHECK (publish_model IN ('publishers', 'subscribers', 'open')),
    ADD COLUMN max_items             integer CHECK (max_items > 0),          -- NULL: max
    ADD COLUMN item_expire           integer CHECK (item_expire > 0),        -- NULL: never
    ADD COLUMN max_payload_size      integer NOT NULL DEFAULT 65536 CHECK (max_payload_size > 0),
    ADD COLUMN persist_items         boolean NOT NULL DEFAULT true,
    ADD COLUMN deliver_payloads      boolean NOT NULL DEFAULT true,
    ADD COLUMN deliver_notifications boolean NOT NULL DEFAULT true,
    ADD COLUMN notify_config         boolean NOT NULL DEFAULT false,
    ADD COLUMN notify_delete         boolean NOT NULL DEFAULT true,
    ADD COLUMN notify_retract        boolean NOT NULL DEFAULT true,
    ADD COLUMN notify_sub            boolean NOT NULL DEFAULT false,
    ADD COLUMN subscribe             boolean NOT NULL DEFAULT true,
    ADD COLUMN multi_subscribe       boolean NOT NULL DEFAULT false,
    ADD COLUMN notification_type     text NOT NULL DEFAULT 'headline'
        CHECK (notification_type IN ('headline', 'normal')),
    ADD COLUMN send_last             text NOT NULL DEFAULT 'never'
        CHECK (send_last IN ('never', 'on_sub')),
    ADD COLUMN node_full             text NOT NULL DEFAULT 'retract-oldest'
        CHECK (node_full IN ('retract-oldest', 'discard-oldest', 'reject')),
    ADD COLUMN itemreply             text NOT NULL DEFAULT 'owner'
        CHECK (itemreply IN ('owner', 'publisher'));
CREATE UNIQUE INDEX calpubsub_node_live_name ON calpubsub_node (name) WHERE deleted_at IS NULL;

-- Affiliations are per bare JID; 'none' is the absence of a row.
CREATE TABLE calpubsub_affiliation (
    node_id     bigint NOT NULL REFERENCES calpubsub_node (id) ON DELETE CASCADE,
    jid         text NOT NULL,
    affiliation text NOT NULL
        CHECK (affiliation IN ('owner', 'publisher', 'publish-only', 'member', 'outcast')),
    PRIMARY KEY (node_id, jid)
);
CREATE INDEX calpubsub_affiliation_jid ON calpubsub_affiliation (jid);

-- A subscription is for the exact JID the subscriber gave (bare or full). The fan-out
-- pages subscriptions of a node in (jid, id) order, so that one JID's subscriptions end
-- up in one notification; the cost of a subscribe does not depend on how many
-- subscriptions the node already has.
CREATE TABLE calpubsub_subscription (
    id           bigserial PRIMARY KEY,
    node_id      bigint NOT NULL REFERENCES calpubsub_node (id) ON DELETE CASCADE,
    jid          text COLLATE "C" NOT NULL,   -- byte order: the fan-out's keyset cursor
    bare_jid     text NOT NULL,
    subid        text NOT NULL,
    state        text NOT NULL CHECK (state IN ('pending', 'unconfigured', 'subscribed')),
    deliver      boolean NOT NULL DEFAULT true,
    include_body boolean NOT NULL DEFAULT false,
    since_change bigint NOT NULL DEFAULT 0,  -- notified of changes after this one only
    created_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (node_id, subid)
);
CREATE INDEX calpubsub_subscription_fanout ON calpubsub_subscription (node_id, jid, id);
CREATE INDEX calpubsub_subscription_bare ON calpubsub_subscription (bare_jid);

-- Items in publication order: seq moves to the end when an item is published again.
CREATE SEQUENCE calpubsub_item_seq;
CREATE TABLE calpubsub_item (
    node_id      bigint NOT NULL REFERENCES calpubsub_node (id) ON DELETE CASCADE,
    item_id      text NOT NULL CHECK (length(item_id) BETWEEN 1 AND 1023),
    seq          bigint NOT NULL DEFAULT nextval('calpubsub_item_seq'),
    payload      text NOT NULL,
    publisher    text,
    published_at timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz,
    PRIMARY KEY (node_id, item_id)
);
CREATE UNIQUE INDEX calpubsub_item_order ON calpubsub_item (node_id, seq);
CREATE INDEX calpubsub_item_expiry ON calpubsub_item (expires_at) WHERE expires_at IS NOT NULL;

-- Bare JIDs that share their presence with the service (the presence access model).
CREATE TABLE calpubsub_presence (
    jid        text PRIMARY KEY,
    since      timestamptz NOT NULL DEFAULT now()
);

-- The change log. Every change that subscribers must hear about is a row, written in
-- the same transaction as the change itself; the fan-out delivers rows in id order and
-- records how far it got in calpubsub_fanout, so that nothing is lost across a crash.
-- Ids are taken under a transaction-scoped advisory lock, which makes their order the
-- commit order: a reader never sees id n+1 committed while n is still to come.
CREATE SEQUENCE calpubsub_change_id;
CREATE TABLE calpubsub_change (
    id          bigint PRIMARY KEY,
    node_id     bigint NOT NULL,
    node_name   text NOT NULL,
    kind        text NOT NULL CHECK (kind IN ('publish', 'retract', 'purge', 'delete', 'config',
                                              'subscription', 'approval', 'affiliation', 'last-item')),
    item_id     text,
    payload     text,
    publisher   text,
    target_jid  text,    -- set for changes addressed to one entity
    subject     text,    -- the JID a subscription, approval or affiliation change is about
    subid       text,    -- subscription and approval changes
    state       text,    -- the new subscription state or affiliation
    uri         text,    -- the redirect of a deleted node
    stamp       text,    -- when the item of a last-item change was published (XEP-0203)
    body        text,    -- a human-readable summary of the payload (pubsub#include_body)
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX calpubsub_change_node ON calpubsub_change (node_id, id);
CREATE INDEX calpubsub_change_age ON calpubsub_change (created_at);

CREATE TABLE calpubsub_fanout (
    singleton    boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    change_id    bigint NOT NULL DEFAULT 0,   -- changes below it are delivered
    position     text,                        -- within change_id: last JID delivered, NULL for none
    updated_at   timestamptz NOT NULL DEFAULT now()
);
INSERT INTO calpubsub_fanout DEFAULT VALUES;

-- The last change id taken, under the same lock: every change up to it is committed, every
-- later one comes after the caller's transaction. A subscription records it, so that it
-- is notified of what happens after it and not of what came before.
CREATE FUNCTION calpubsub_change_position() RETURNS bigint LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(7365290118);
    RETURN (SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM calpubsub_change_id);
END
$$;

CREATE FUNCTION calpubsub_log_change(p_node_id bigint, p_node_name text, p_kind text, p_item_id text,
                                     p_payload text, p_publisher text, p_target_jid text, p_subject text, p_subid text,
                                     p_state text, p_uri text, p_stamp text, p_body text)
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    v_id bigint;
BEGIN
    PERFORM pg_advisory_xact_lock(7365290118);
    v_id := nextval('calpubsub_change_id');
    INSERT INTO calpubsub_change (id, node_id, node_name, kind, item_id, payload, publisher, target_jid, subject,
                                  subid, state, uri, stamp, body)
    VALUES (v_id, p_node_id, p_node_name, p_kind, p_item_id, p_payload, p_publisher, p_target_jid, p_subject,
            p_subid, p_state, p_uri, p_stamp, p_body);
    PERFORM pg_notify('calpubsub_changes', v_id::text);
    RETURN v_id;
END
$$;
