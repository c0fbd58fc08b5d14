/* test_access.c: the whole permission matrix of access_check(): every affiliation (and a
 * service admin) against every access model and every operation, with the subscription
 * states, presence sharing and publish models that change the answer. The expected
 * answers are written out as tables from XEP-0060 4.1 (affiliations), 4.5 (access
 * models), 6.1.3 (subscribe errors), 6.5.9 (retrieve errors), 7.1.3.1 (publish), 7.2.3.1
 * (retract) and 8.x (owner use cases), each with its exact error condition, error type
 * and pubsub#errors condition. */
#include "src/pubsub/access.h"
#include "tap.h"

#include <stdio.h>
#include <string.h>

/* What access_check() should answer. */
enum outcome {
	OK,     /* allowed */
	PEND,   /* allowed, but waits for an owner's approval (authorize, 6.1.4) */
	FORB,   /* forbidden/auth: blocked (outcast 6.1.3.8, 6.5.9.10) or lacking the privilege (7.1.3.1, 8.x) */
	CLOSED, /* not-allowed/cancel + closed-node: whitelist (6.1.3.4, 6.5.9.8) */
	PRES,   /* not-authorized/auth + presence-subscription-required (6.1.3.2, 6.5.9.6) */
	NOTSUB, /* not-authorized/auth + not-subscribed (6.5.9.3) */
	HIDE,   /* item-not-found/cancel: the node is not shown to this requester */
};

static const char *const outcome_names[] = {"ok", "pending", "forbidden", "closed-node", "presence-required",
                                            "not-subscribed", "hidden"};

/* Rows of the tables: the requester's affiliation, and a service admin without any. */
enum row { R_NONE, R_OUTCAST, R_MEMBER, R_PUBLISH_ONLY, R_PUBLISHER, R_OWNER, R_ADMIN, N_ROWS };
static const char *const row_names[] = {"none", "outcast", "member", "publish-only", "publisher", "owner", "admin"};
static const enum affiliation row_aff[] = {AFF_NONE,      AFF_OUTCAST, AFF_MEMBER, AFF_PUBLISH_ONLY,
                                           AFF_PUBLISHER, AFF_OWNER,   AFF_NONE};

#define N_MODELS 4 /* columns: open, whitelist, authorize, presence (enum access_model order) */
#define N_OPS 10
static const enum operation ops[N_OPS] = {OP_SEE_NODE, OP_SUBSCRIBE, OP_RETRIEVE_ITEMS, OP_PUBLISH, OP_RETRACT_ANY,
                                          OP_RETRACT_OWN, OP_PURGE, OP_CONFIGURE, OP_DELETE, OP_MANAGE};
static const char *const op_names[N_OPS] = {"see", "subscribe", "retrieve", "publish", "retract-any",
                                            "retract-own", "purge", "configure", "delete", "manage"};

/* The answers with no subscription, no presence sharing and publish_model=publishers.
 * Index: [operation][row][access model]. */
static const enum outcome base[N_OPS][N_ROWS][N_MODELS] = {
	/* OP_SEE_NODE: whitelist nodes are hidden from outsiders; outcasts see nothing */
	{{OK, HIDE, OK, OK},
	 {HIDE, HIDE, HIDE, HIDE},
	 {OK, OK, OK, OK},
	 {OK, OK, OK, OK},
	 {OK, OK, OK, OK},
	 {OK, OK, OK, OK},
	 {OK, OK, OK, OK}},
	/* OP_SUBSCRIBE (4.1 table; 6.1.3; owners and publishers always, 12.12; members are on
	 * the whitelist and auto-approved) */
	{{OK, CLOSED, PEND, PRES},
	 {FORB, FORB, FORB, FORB},
	 {OK, OK, OK, OK},
	 {FORB, FORB, FORB, FORB},
	 {OK, OK, OK, OK},
	 {OK, OK, OK, OK},
	 {OK, OK, OK, OK}},
	/* OP_RETRIEVE_ITEMS (4.1 table; 6.5.1; 6.5.9) */
	{{OK, CLOSED, NOTSUB, PRES},
	 {FORB, FORB, FORB, FORB},
	 {OK, OK, OK, OK},
	 {FORB, FORB, FORB, FORB},
	 {OK, OK, OK, OK},
	 {OK, OK, OK, OK},
	 {OK, OK, OK, OK}},
	/* OP_PUBLISH (4.1 table; 7.1.3.1) */
	{{FORB, FORB, FORB, FORB},
	 {FORB, FORB, FORB, FORB},
	 {FORB, FORB, FORB, FORB},
	 {OK, OK, OK, OK},
	 {OK, OK, OK, OK},
	 {OK, OK, OK, OK},
	 {OK, OK, OK, OK}},
	/* OP_RETRACT_ANY: someone else's item (4.1 "delete single item"; publish-only only its
	 * own, 7.2.3.1) */
	{{FORB, FORB, FORB, FORB},
	 {FORB, FORB, FORB, FORB},
	 {FORB, FORB, FORB, FORB},
	 {FORB, FORB, FORB, FORB},
	 {OK, OK, OK, OK},
	 {OK, OK, OK, OK},
	 {OK, OK, OK, OK}},
	/* OP_RETRACT_OWN: whoever may publish may retract what they published */
	{{FORB, FORB, FORB, FORB},
	 {FORB, FORB, FORB, FORB},
	 {FORB, FORB, FORB, FORB},
	 {OK, OK, OK, OK},
	 {OK, OK, OK, OK},
	 {OK, OK, OK, OK},
	 {OK, OK, OK, OK}},
	/* OP_PURGE (4.1: owner and publisher; 8.5.3.2) */
	{{FORB, FORB, FORB, FORB},
	 {FORB, FORB, FORB, FORB},
	 {FORB, FORB, FORB, FORB},
	 {FORB, FORB, FORB, FORB},
	 {OK, OK, OK, OK},
	 {OK, OK, OK, OK},
	 {OK, OK, OK, OK}},
	/* OP_CONFIGURE (8.2.3.2) */
	{{FORB, FORB, FORB, FORB},
	 {FORB, FORB, FORB, FORB},
	 {FORB, FORB, FORB, FORB},
	 {FORB, FORB, FORB, FORB},
	 {FORB, FORB, FORB, FORB},
	 {OK, OK, OK, OK},
	 {OK, OK, OK, OK}},
	/* OP_DELETE (8.4.3.1) */
	{{FORB, FORB, FORB, FORB},
	 {FORB, FORB, FORB, FORB},
	 {FORB, FORB, FORB, FORB},
	 {FORB, FORB, FORB, FORB},
	 {FORB, FORB, FORB, FORB},
	 {OK, OK, OK, OK},
	 {OK, OK, OK, OK}},
	/* OP_MANAGE (8.7.3.3, 8.8, 8.9) */
	{{FORB, FORB, FORB, FORB},
	 {FORB, FORB, FORB, FORB},
	 {FORB, FORB, FORB, FORB},
	 {FORB, FORB, FORB, FORB},
	 {FORB, FORB, FORB, FORB},
	 {OK, OK, OK, OK},
	 {OK, OK, OK, OK}},
};

/* Where the subscription state, presence sharing or the publish model change the base
 * answer. Outcasts are never let in by any of them. */
static enum outcome expected(int op, enum row row, enum access_model m, enum sub_state sub, bool presence_ok,
                             enum publish_model pm)
{
	enum outcome e = base[op][row][m];
	if (row == R_OUTCAST)
		return e;
	bool outsider = row == R_NONE;
	switch (ops[op]) {
	case OP_SEE_NODE:
		/* whoever holds a subscription knows the node */
		if (outsider && m == AM_WHITELIST && sub != SUB_NONE)
			return OK;
		return e;
	case OP_SUBSCRIBE:
		/* 4.5: presence sharers may subscribe */
		if (outsider && m == AM_PRESENCE && presence_ok)
			return OK;
		return e;
	case OP_RETRIEVE_ITEMS:
		/* 6.5.1: approved subscribers of an authorize node retrieve; pending ones do not
		 * (6.5.9.3) */
		if (outsider && m == AM_AUTHORIZE && sub == SUB_SUBSCRIBED)
			return OK;
		if (outsider && m == AM_PRESENCE && presence_ok)
			return OK;
		return e;
	case OP_PUBLISH:
	case OP_RETRACT_OWN:
		/* 16.4.4 pubsub#publish_model: open lets anyone publish, subscribers the
		 * subscribed ones */
		if ((row == R_NONE || row == R_MEMBER) &&
		    (pm == PM_OPEN || (pm == PM_SUBSCRIBERS && sub == SUB_SUBSCRIBED)))
			return OK;
		return e;
	default: return e;
	}
}

/* Checks one answer; returns a description of the mismatch, or NULL. */
static const char *check(enum outcome want, bool allowed, bool pending, const struct ps_error *err, char *why,
                         size_t n)
{
	enum stanza_cond cond = SC_NONE;
	enum stanza_error_type type = SET_CANCEL;
	enum ps_app app = PSE_NONE;
	switch (want) {
	case OK:
	case PEND:
		if (!allowed) {
			snprintf(why, n, "refused (%.150s)", err->text);
			return why;
		}
		if (pending != (want == PEND)) {
			snprintf(why, n, "pending=%d", pending);
			return why;
		}
		return NULL;
	case FORB: cond = SC_FORBIDDEN, type = SET_AUTH; break;
	case CLOSED: cond = SC_NOT_ALLOWED, type = SET_CANCEL, app = PSE_CLOSED_NODE; break;
	case PRES: cond = SC_NOT_AUTHORIZED, type = SET_AUTH, app = PSE_PRESENCE_SUBSCRIPTION_REQUIRED; break;
	case NOTSUB: cond = SC_NOT_AUTHORIZED, type = SET_AUTH, app = PSE_NOT_SUBSCRIBED; break;
	case HIDE: cond = SC_ITEM_NOT_FOUND, type = SET_CANCEL; break;
	}
	if (allowed) {
		snprintf(why, n, "allowed");
		return why;
	}
	if (err->cond != cond || err->type != type || err->app != app || err->feature || !err->text[0]) {
		snprintf(why, n, "got %s/%s + %s", stanza_cond_name(err->cond), stanza_error_type_name(err->type),
		         err->app ? ps_app_name(err->app) : "-");
		return why;
	}
	if (pending) {
		snprintf(why, n, "refused but pending set");
		return why;
	}
	return NULL;
}

static void matrix(void)
{
	static const enum sub_state subs[] = {SUB_NONE, SUB_PENDING, SUB_SUBSCRIBED};
	static const enum publish_model pms[] = {PM_PUBLISHERS, PM_SUBSCRIBERS, PM_OPEN};
	for (int op = 0; op < N_OPS; op++) {
		for (int row = 0; row < N_ROWS; row++) {
			for (int m = 0; m < N_MODELS; m++) {
				int failures = 0, checked = 0;
				for (size_t s = 0; s < 3; s++) {
					for (int pr = 0; pr < 2; pr++) {
						for (size_t p = 0; p < 3; p++) {
							struct access_facts f = {
								.affiliation = row_aff[row],
								.is_admin = row == R_ADMIN,
								.access_model = (enum access_model)m,
								.publish_model = pms[p],
								.subscription = subs[s],
								.presence_ok = pr,
							};
							/* states that cannot exist: outcasts and publish-only entities
							 * hold no subscriptions, and only authorize nodes keep pending
							 * ones */
							if ((row == R_OUTCAST || row == R_PUBLISH_ONLY) && subs[s] != SUB_NONE)
								continue;
							enum outcome want = expected(op, (enum row)row, (enum access_model)m, subs[s], pr,
							                             pms[p]);
							struct ps_error err = {0};
							bool pending = true; /* must be reset by access_check */
							bool got = access_check(ops[op], &f, &pending, &err);
							char why[256];
							const char *bad = check(want, got, pending, &err, why, sizeof(why));
							checked++;
							if (bad) {
								failures++;
								printf("#   %s by %s on %s, subscription %s, presence %d, publish_model %s: want "
								       "%s, %s\n",
								       op_names[op], row_names[row], access_model_name((enum access_model)m),
								       sub_state_name(subs[s]), pr, publish_model_name(pms[p]),
								       outcome_names[want], bad);
							}
							/* a NULL pending pointer is accepted */
							struct ps_error err2 = {0};
							if (access_check(ops[op], &f, NULL, &err2) != got)
								failures++;
						}
					}
				}
				ok(failures == 0, "%s by %s on a %s node (%d cases)", op_names[op], row_names[row],
				   access_model_name((enum access_model)m), checked);
			}
		}
	}
}

int main(void)
{
	matrix();

	/* the whitelist is member and better (4.5) */
	ok(!affiliation_is_member(AFF_NONE), "none is not on the whitelist");
	ok(!affiliation_is_member(AFF_OUTCAST), "outcast is not on the whitelist");
	ok(!affiliation_is_member(AFF_PUBLISH_ONLY), "publish-only is not on the whitelist");
	ok(affiliation_is_member(AFF_MEMBER), "member is on the whitelist");
	ok(affiliation_is_member(AFF_PUBLISHER), "publisher is on the whitelist");
	ok(affiliation_is_member(AFF_OWNER), "owner is on the whitelist");

	/* an admin who is an outcast of a node still acts as its owner */
	struct access_facts f = {.affiliation = AFF_OUTCAST, .is_admin = true, .access_model = AM_WHITELIST};
	struct ps_error err;
	for (int op = 0; op < N_OPS; op++)
		ok(access_check(ops[op], &f, NULL, &err), "an admin who is an outcast may still %s", op_names[op]);

	/* the errors explain themselves */
	struct access_facts pend = {.access_model = AM_AUTHORIZE, .subscription = SUB_PENDING};
	ok(!access_check(OP_RETRIEVE_ITEMS, &pend, NULL, &err) && strstr(err.text, "pending"),
	   "a pending subscriber is told the request is still pending: %s", err.text);
	return done_testing();
}
