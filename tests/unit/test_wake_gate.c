/* test_wake_gate.c: when the fan-out reads the change log again (wake_gate_must_read). */
#include "src/notify/wake_gate.h"
#include "tap.h"

#include <string.h>

int main(void)
{
	struct wake_gate g;
	memset(&g, 0, sizeof(g));
	ok(wake_gate_must_read(&g), "nothing read yet: read");

	wake_gate_woken(&g, "41");
	wake_gate_read(&g, 40, 41, 1, 64);
	ok(!wake_gate_must_read(&g), "a short read that saw the announced change: nothing more to read");
	wake_gate_woken(&g, "41");
	ok(!wake_gate_must_read(&g), "a late wake-up for a change already read asks for nothing");
	wake_gate_woken(&g, "42");
	ok(wake_gate_must_read(&g), "a wake-up naming a later change: read");
	wake_gate_read(&g, 41, 42, 1, 64);
	ok(!wake_gate_must_read(&g), "which the next read saw");

	wake_gate_read(&g, 42, 0, 0, 64);
	ok(!wake_gate_must_read(&g), "an empty read keeps what was seen up to its start");
	wake_gate_woken(&g, "43");
	ok(wake_gate_must_read(&g), "and the next announced change is read");
	wake_gate_read(&g, 42, 43, 1, 64);
	wake_gate_woken(&g, "9");
	ok(!wake_gate_must_read(&g), "an old id announced late asks for nothing");
	wake_gate_woken(&g, "50");
	wake_gate_read(&g, 43, 0, 0, 64);
	ok(!wake_gate_must_read(&g), "an announced change a read did not find (pruned, or another database) is not "
	                             "looked for again");

	wake_gate_read(&g, 43, 106, 64, 64);
	ok(wake_gate_must_read(&g), "a full read: more may be waiting behind it, read");
	wake_gate_read(&g, 106, 110, 4, 64);
	ok(!wake_gate_must_read(&g), "the short read after it settles it");

	wake_gate_woken(&g, "import");
	ok(wake_gate_must_read(&g), "a wake-up that names no change (an import): read");
	wake_gate_read(&g, 110, 0, 0, 64);
	ok(!wake_gate_must_read(&g), "answered by the read after it");
	wake_gate_woken(&g, NULL);
	ok(wake_gate_must_read(&g), "a wake-up without payload: read");
	wake_gate_read(&g, 110, 0, 0, 64);
	const char *odd[] = {"", "12x", "-5", "0", "99999999999999999999999", " 7"};
	for (size_t i = 0; i < sizeof(odd) / sizeof(odd[0]); i++) {
		wake_gate_woken(&g, odd[i]);
		ok(wake_gate_must_read(&g), "a payload that is not a change id ('%s'): read", odd[i]);
		wake_gate_read(&g, 110, 0, 0, 64);
	}

	/* a read made with a commit, taken after the wake-ups that came since */
	wake_gate_read(&g, 110, 0, 0, 64);
	wake_gate_woken(&g, "111");
	wake_gate_read_earlier(&g, 110, 111, 1, 64);
	ok(!wake_gate_must_read(&g), "the commit's own change, read with it: nothing more");
	wake_gate_woken(&g, "113");
	wake_gate_woken(&g, "112");
	wake_gate_read_earlier(&g, 111, 112, 1, 64);
	ok(wake_gate_must_read(&g), "a change committed after the one read with the commit: read");
	wake_gate_read(&g, 112, 113, 1, 64);
	wake_gate_woken(&g, "import");
	wake_gate_read_earlier(&g, 113, 114, 1, 64);
	ok(wake_gate_must_read(&g), "an unnamed wake-up may be for a later commit: read");
	wake_gate_read(&g, 114, 0, 0, 64);
	wake_gate_read_earlier(&g, 114, 178, 64, 64);
	ok(wake_gate_must_read(&g), "a full read with a commit: read the rest");

	wake_gate_read(&g, 178, 0, 0, 64);
	wake_gate_forget(&g);
	ok(wake_gate_must_read(&g), "after a reload nothing is known: read");
	wake_gate_read(&g, 178, 179, 1, 64);
	ok(!wake_gate_must_read(&g), "and a short read settles it again");

	wake_gate_read(&g, 179, 0, 0, 0);
	ok(wake_gate_must_read(&g), "a read that asked for nothing proves nothing");
	return done_testing();
}
