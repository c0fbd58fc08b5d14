/* icalparse.c: the parse-only pass the import is compared with: reads the whole file and
 * hands it to libical's icalparser_parse_string, as any libical-based importer must at
 * least do, then counts the VEVENTs. bench/run measures its wall time and peak RSS.
 *
 *   icalparse FILE */
#include <libical/ical.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: icalparse FILE\n");
		return 64;
	}
	FILE *f = fopen(argv[1], "rb");
	if (!f) {
		perror(argv[1]);
		return 66;
	}
	size_t cap = 1 << 20, len = 0, n;
	char *text = malloc(cap);
	while (text && (n = fread(text + len, 1, cap - len - 1, f)) > 0) {
		len += n;
		if (cap - len < 65536)
			text = realloc(text, cap *= 2);
	}
	fclose(f);
	if (!text)
		return 1;
	text[len] = 0;
	icalcomponent *c = icalparser_parse_string(text);
	free(text);
	if (!c)
		return 1;
	int events = icalcomponent_count_components(c, ICAL_VEVENT_COMPONENT);
	printf("%d\n", events);
	icalcomponent_free(c);
	return events > 0 ? 0 : 1;
}
