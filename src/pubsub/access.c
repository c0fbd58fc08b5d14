/* access.c: the permission rules. Sources: XEP-0060 4.1 (affiliation table), 4.5
 * (access models), 6.1.3 (subscribe errors), 6.5.9 (retrieve errors), 7.1.3.1 and
 * 7.2.3.1 (publish and retract), 8.x (owner use cases). */
#include "access.h"

#include <stddef.h>

bool affiliation_is_member(enum affiliation a)
{
	return a == AFF_MEMBER || a == AFF_PUBLISHER || a == AFF_OWNER;
}

static bool is_owner(const struct access_facts *f)
{
	return f->is_admin || f->affiliation == AFF_OWNER;
}

/* Access-model check shared by subscribe and retrieve: may the requester see the node's
 * content at all? Owners and publishers always may (XEP-0060 12.12). */
static bool content_access(enum operation op, const struct access_facts *f, bool *pending, struct ps_error *err)
{
	if (is_owner(f) || f->affiliation == AFF_PUBLISHER)
		return true;
	switch (f->access_model) {
	case AM_OPEN: return true;
	case AM_WHITELIST:
		if (affiliation_is_member(f->affiliation))
			return true;
		return ps_fail(err, SC_NOT_ALLOWED, PSE_CLOSED_NODE, "this node is restricted to its whitelist");
	case AM_PRESENCE:
		if (f->presence_ok || affiliation_is_member(f->affiliation))
			return true;
		return ps_fail(err, SC_NOT_AUTHORIZED, PSE_PRESENCE_SUBSCRIPTION_REQUIRED,
		               "share your presence with the service (presence subscription) to access this node");
	case AM_AUTHORIZE:
		if (affiliation_is_member(f->affiliation))
			return true;
		if (op == OP_SUBSCRIBE) {
			if (pending)
				*pending = true;
			return true;
		}
		if (f->subscription == SUB_SUBSCRIBED)
			return true;
		return ps_fail(err, SC_NOT_AUTHORIZED, PSE_NOT_SUBSCRIBED,
		               f->subscription == SUB_PENDING ? "your subscription is still pending approval"
		                                              : "items of this node are for approved subscribers");
	}
	return ps_internal(err);
}

static bool may_publish(const struct access_facts *f)
{
	if (is_owner(f) || f->affiliation == AFF_PUBLISHER || f->affiliation == AFF_PUBLISH_ONLY)
		return true;
	switch (f->publish_model) {
	case PM_OPEN: return true;
	case PM_SUBSCRIBERS: return f->subscription == SUB_SUBSCRIBED;
	case PM_PUBLISHERS: return false;
	}
	return false;
}

bool access_check(enum operation op, const struct access_facts *f, bool *pending, struct ps_error *err)
{
	if (pending)
		*pending = false;
	if (f->affiliation == AFF_OUTCAST && !f->is_admin) {
		if (op == OP_SEE_NODE)
			return ps_fail(err, SC_ITEM_NOT_FOUND, PSE_NONE, "no such node");
		return ps_fail(err, SC_FORBIDDEN, PSE_NONE, "you are banned from this node");
	}
	switch (op) {
	case OP_SEE_NODE:
		/* A whitelist node is private: outsiders do not learn that it exists. */
		if (f->access_model == AM_WHITELIST && !is_owner(f) && f->affiliation == AFF_NONE &&
		    f->subscription == SUB_NONE)
			return ps_fail(err, SC_ITEM_NOT_FOUND, PSE_NONE, "no such node");
		return true;
	case OP_SUBSCRIBE:
		if (f->affiliation == AFF_PUBLISH_ONLY)
			return ps_fail(err, SC_FORBIDDEN, PSE_NONE, "publish-only entities may not subscribe");
		return content_access(op, f, pending, err);
	case OP_RETRIEVE_ITEMS:
		if (f->affiliation == AFF_PUBLISH_ONLY)
			return ps_fail(err, SC_FORBIDDEN, PSE_NONE, "publish-only entities may not retrieve items");
		return content_access(op, f, pending, err);
	case OP_PUBLISH:
		if (may_publish(f))
			return true;
		return ps_fail(err, SC_FORBIDDEN, PSE_NONE, "you may not publish to this node");
	case OP_RETRACT_ANY:
		if (is_owner(f) || f->affiliation == AFF_PUBLISHER)
			return true;
		return ps_fail(err, SC_FORBIDDEN, PSE_NONE, "you may only retract items you published");
	case OP_RETRACT_OWN:
		if (may_publish(f))
			return true;
		return ps_fail(err, SC_FORBIDDEN, PSE_NONE, "you may not retract items from this node");
	case OP_PURGE:
		if (is_owner(f) || f->affiliation == AFF_PUBLISHER)
			return true;
		return ps_fail(err, SC_FORBIDDEN, PSE_NONE, "only owners and publishers may purge this node");
	case OP_CONFIGURE:
	case OP_DELETE:
	case OP_MANAGE:
		if (is_owner(f))
			return true;
		return ps_fail(err, SC_FORBIDDEN, PSE_NONE, "only owners of this node may do that");
	}
	return ps_internal(err);
}
