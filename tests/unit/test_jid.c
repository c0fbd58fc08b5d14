/* test_jid.c: JID parsing and normalisation. */
#include "src/jid.h"
#include "tap.h"

#include <stdlib.h>
#include <string.h>

static void check_norm(const char *in, const char *want_full, const char *want_bare)
{
	char *full = jid_normalize(in);
	char *bare = jid_normalize_bare(in);
	is_str(full, want_full, "normalise '%s'", in);
	is_str(bare, want_bare, "bare of '%s'", in);
	free(full);
	free(bare);
}

int main(void)
{
	check_norm("Juliet@Example.COM/Balcony", "juliet@example.com/Balcony", "juliet@example.com");
	check_norm("example.com", "example.com", "example.com");
	check_norm("a@b/c/d@e", "a@b/c/d@e", "a@b");
	check_norm("\xc3\xa9lise@example.com", "\xc3\xa9lise@example.com", "\xc3\xa9lise@example.com");
	check_norm("[::1]", "[::1]", "[::1]");
	check_norm("u@[2001:DB8::7]/r", "u@[2001:db8::7]/r", "u@[2001:db8::7]");

	const char *bad[] = {"", "@example.com", "user@", "user@/res", "user@example.com/", "a b@example.com",
	                     "user@exa mple.com", "user@example..com", "user@.example.com", "user@example.com.",
	                     "us\"er@example.com", "user@@example.com", "user@exa<mple.com", "user@[::1",
	                     "a@b\x01", "a@b/\x01", "x@[a@b]", "x@[<&> ]", "a@[\xff]", "a@[]", "a@[1.2.3.4]",
	                     "a@[::1]x", "a@[::1::2]"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *n = jid_normalize(bad[i]);
		ok(n == NULL, "refuses invalid JID #%zu", i);
		free(n);
	}
	char big[1100];
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	char *n = jid_normalize(big);
	ok(n == NULL, "refuses a 1099-byte domain");
	free(n);
	char label[80];
	memset(label, 'l', 64);
	strcpy(label + 64, ".example");
	n = jid_normalize(label);
	ok(n == NULL, "refuses a 64-byte DNS label");
	free(n);

	ok(jid_is_domain("pubsub.calendar.localhost"), "a component JID is a domain");
	ok(!jid_is_domain("user@pubsub.calendar.localhost"), "a JID with a localpart is not a domain");
	ok(!jid_is_domain("pubsub.calendar.localhost/x"), "a JID with a resource is not a domain");
	char *d = jid_domain_of("Someone@Calendar.Localhost/res");
	is_str(d, "calendar.localhost", "domain of a full JID");
	free(d);
	struct jid j;
	ok(jid_parse("u@d/r", &j) && strcmp(j.resource, "r") == 0 && strcmp(j.local, "u") == 0, "parts are split");
	jid_free(&j);
	return done_testing();
}
