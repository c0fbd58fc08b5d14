/* test_cal_codec.c: xCal (RFC 6321) and jCal (RFC 7265): every value type and shape
 * has the spelling the RFCs give, ics -> xCal -> ics and ics -> jCal -> ics give back
 * the same canonical text on every fixture, and bad payloads are refused with reasons. */
#include "cal_testlib.h"
#include "tap.h"

static const char all_types[] =
	"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n"
	"BEGIN:VTIMEZONE\r\nTZID:Test/Zone\r\nBEGIN:STANDARD\r\nDTSTART:19700101T000000\r\n"
	"TZOFFSETFROM:+053000\r\nTZOFFSETTO:-0800\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n"
	"BEGIN:VEVENT\r\nUID:all-types@example.com\r\nDTSTAMP:20240101T000000Z\r\n"
	"DTSTART;TZID=Test/Zone:20240105T100000\r\nDURATION:P1DT2H3M4S\r\n"
	"RRULE:WKST=SU;FREQ=MONTHLY;UNTIL=20241231T235959Z;INTERVAL=2;BYDAY=1MO,-1FR;BYMONTH=1,3,5;BYSETPOS=1\r\n"
	"RDATE;VALUE=PERIOD:20240301T100000Z/20240301T120000Z,20240401T100000Z/PT1H\r\n"
	"EXDATE:20240205T100000Z\r\n"
	"ATTENDEE;RSVP=true;MEMBER=\"mailto:a@example.com\",\"mailto:b@example.com\";CN=\"Doe, Jane\";PARTSTAT=NEEDS-ACTI\r\n"
	" ON:mailto:jane@example.com\r\n"
	"ORGANIZER;SENT-BY=\"mailto:sec@example.com\":mailto:boss@example.com\r\n"
	"ATTACH;FMTTYPE=text/plain;ENCODING=BASE64;VALUE=BINARY:SGVsbG8gd29ybGQ=\r\n"
	"ATTACH:https://example.com/agenda.pdf\r\n"
	"GEO:37.3860130;-122.082932\r\nPRIORITY:03\r\nSEQUENCE:0\r\n"
	"X-INTEGER;VALUE=INTEGER:-42\r\nX-FLOAT;VALUE=FLOAT:3.25\r\nX-BOOL;VALUE=BOOLEAN:false\r\n"
	"X-TIME;VALUE=TIME:123000\r\nX-UTC;VALUE=UTC-OFFSET:-0130\r\nX-DATE;VALUE=DATE:20240229\r\n"
	"X-URI;VALUE=URI:urn:isbn:0451450523\r\nX-CUSTOM-TYPE;VALUE=X-SPECIAL:opaque;value,with:stuff\r\n"
	"X-UNTYPED:just\\, text;raw\r\n"
	"REQUEST-STATUS:2.0;Success\r\nREQUEST-STATUS:3.1;Invalid property value;DTSTART:96-Apr-01\r\n"
	"CATEGORIES:work,review\\,notes\r\nRESOURCES:Projector\r\n"
	"SUMMARY;LANGUAGE=en;ALTREP=\"http://example.com/s.txt\":Line one\\nline two\\, with comma\\; and \\\\ <b>&\r\n"
	"DESCRIPTION:\r\nCOMMENT:Unicode: caf\xc3\xa9 \xe2\x80\x93 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x98\x80\r\n"
	"URL:https://example.com/?a=1&b=2\r\nCLASS:PRIVATE\r\n"
	"BEGIN:VALARM\r\nACTION:AUDIO\r\nTRIGGER;VALUE=DATE-TIME:20240105T093000Z\r\nREPEAT:2\r\nDURATION:PT5M\r\n"
	"ATTACH;FMTTYPE=audio/basic:ftp://example.com/pub/sounds/bell-01.aud\r\nEND:VALARM\r\n"
	"BEGIN:VALARM\r\nACTION:DISPLAY\r\nTRIGGER;RELATED=END:-PT15M\r\nDESCRIPTION:Soon\r\nEND:VALARM\r\n"
	"END:VEVENT\r\nEND:VCALENDAR\r\n";

static char *canonical_of(const char *text, size_t len)
{
	struct collected c;
	int rc = read_text(text, len, CAL_READ_ALL_OR_NOTHING, &c);
	char *ics = rc == 0 && c.n == 1 ? xstrdup(c.objs[0].ics) : NULL;
	if (!ics)
		printf("# read failed: %s\n", buf_cstr(&c.diags));
	collected_free(&c);
	return ics;
}

/* Both round trips of one canonical text; true when both give it back unchanged. */
static bool round_trips(const char *ics, const char *label)
{
	struct buf err = BUF_INIT, errors = BUF_INIT, json = BUF_INIT;
	struct xml_node *x = NULL;
	struct cal_payload px = {0}, pj = {0};
	bool xcal = cal_to_xcal(ics, &x, &err) && cal_from_xcal(x, &px, &errors) && !strcmp(px.ics, ics);
	/* the text encoder and the tree encoder write the same document */
	struct buf text = BUF_INIT, serialized = BUF_INIT;
	if (xcal) {
		xml_serialize(&serialized, x, NULL);
		xcal = cal_to_xcal_text(ics, &text, &err) && !strcmp(text.data, serialized.data);
		if (!xcal)
			printf("# text encoder:\n%s\n# tree encoder:\n%s\n", buf_cstr(&text), buf_cstr(&serialized));
	}
	buf_free(&text);
	buf_free(&serialized);
	bool jcal = cal_to_jcal(ics, &json, &err) && cal_from_jcal(json.data, json.len, &pj, &errors) && !strcmp(pj.ics, ics);
	if (!xcal || !jcal)
		printf("# %s: xcal %d jcal %d: %s%s\n# want:\n%s\n# xcal gave:\n%s\n# jcal gave:\n%s\n", label, xcal, jcal,
		       buf_cstr(&err), buf_cstr(&errors), ics, px.ics ? px.ics : "", pj.ics ? pj.ics : "");
	xml_free(x);
	cal_payload_free(&px);
	cal_payload_free(&pj);
	buf_free(&err);
	buf_free(&errors);
	buf_free(&json);
	return xcal && jcal;
}

static void test_fixture_round_trips(void)
{
	for (size_t i = 0; i < CAL_N_FIXTURES; i++) {
		size_t len;
		char *text = read_fixture(cal_fixtures[i], &len);
		struct collected c;
		read_text(text, len, CAL_READ_ALL_OR_NOTHING, &c);
		size_t good = 0;
		for (size_t k = 0; k < c.n; k++)
			good += round_trips(c.objs[k].ics, c.objs[k].uid);
		ok(c.n > 0 && good == c.n, "%s: ics -> xCal -> ics and ics -> jCal -> ics give identical canonical texts, xCal text = tree (%zu/%zu)",
		   cal_fixtures[i], good, c.n);
		collected_free(&c);
		free(text);
	}
}

/* Canonical text without its line folding, for searching. */
static char *unfolded(const char *ics)
{
	struct buf b = BUF_INIT;
	for (const char *p = ics; *p; p++) {
		if (p[0] == '\r' && p[1] == '\n' && p[2] == ' ')
			p += 2;
		else
			buf_putc(&b, *p);
	}
	return buf_steal(&b);
}

static void contains(const char *hay, const char *needle, const char *what)
{
	if (!ok(hay && strstr(hay, needle), "%s", what))
		printf("# looked for: %s\n# in: %s\n", needle, hay ? hay : "(nothing)");
}

static void test_spellings(void)
{
	char *ics = canonical_of(all_types, sizeof(all_types) - 1);
	if (!ok(ics != NULL, "the all-types object is valid"))
		return;
	ok(round_trips(ics, "all types"), "all value types survive both round trips");
	char *flat = unfolded(ics);
	contains(flat, "RRULE:FREQ=MONTHLY;UNTIL=20241231T235959Z;INTERVAL=2;BYDAY=1MO,-1FR;BYMONTH=1,3,5;BYSETPOS=1;WKST=SU\r\n",
	         "canonical RRULE parts follow RFC 6321's order");
	contains(flat, "GEO:37.386013;-122.082932\r\nPRIORITY:3\r\n", "canonical FLOAT and INTEGER");
	contains(flat, "ATTENDEE;RSVP=TRUE;MEMBER=\"mailto:a@example.com\",\"mailto:b@example.com\";CN=\"Doe, Jane\";",
	         "parameters quoted where needed, RSVP upper case");
	free(flat);

	struct buf x = BUF_INIT, err = BUF_INIT;
	ok(cal_to_xcal_text(ics, &x, &err), "xCal text");
	const char *xml = x.data;
	ok(!strncmp(xml, "<icalendar xmlns='" CAL_NS_XCAL "'><vcalendar><properties><version><text>2.0</text></version>", 110),
	   "xCal starts <icalendar xmlns=...><vcalendar><properties>");
	ok(!strstr(xml, "> <") && !strchr(xml, '\n') == !strstr(xml, "Line one"), "compact XML: no whitespace between elements");
	contains(xml, "<dtstart><parameters><tzid><text>Test/Zone</text></tzid></parameters><date-time>2024-01-05T10:00:00</date-time></dtstart>",
	         "xCal date-time with a tzid parameter");
	contains(xml, "<tzoffsetfrom><utc-offset>+05:30:00</utc-offset></tzoffsetfrom><tzoffsetto><utc-offset>-08:00</utc-offset></tzoffsetto>",
	         "xCal utc-offset");
	contains(xml, "<duration><duration>P1DT2H3M4S</duration></duration>", "xCal duration");
	contains(xml, "<rrule><recur><freq>MONTHLY</freq><until>2024-12-31T23:59:59Z</until><interval>2</interval><byday>1MO</byday><byday>-1FR</byday><bymonth>1</bymonth><bymonth>3</bymonth><bymonth>5</bymonth><bysetpos>1</bysetpos><wkst>SU</wkst></recur></rrule>",
	         "xCal recur with repeated parts");
	contains(xml, "<rdate><period><start>2024-03-01T10:00:00Z</start><end>2024-03-01T12:00:00Z</end></period><period><start>2024-04-01T10:00:00Z</start><duration>PT1H</duration></period></rdate>",
	         "xCal periods with end and with duration");
	contains(xml, "<rsvp><boolean>true</boolean></rsvp><member><cal-address>mailto:a@example.com</cal-address><cal-address>mailto:b@example.com</cal-address></member><cn><text>Doe, Jane</text></cn>",
	         "xCal parameter types: boolean, cal-address lists, text");
	contains(xml, "<sent-by><cal-address>mailto:sec@example.com</cal-address></sent-by>", "xCal sent-by");
	contains(xml, "<altrep><uri>http://example.com/s.txt</uri></altrep>", "xCal altrep is a uri");
	contains(xml, "<attach><parameters><fmttype><text>text/plain</text></fmttype><encoding><text>BASE64</text></encoding></parameters><binary>SGVsbG8gd29ybGQ=</binary></attach>",
	         "xCal binary");
	contains(xml, "<geo><geo><latitude>37.386013</latitude><longitude>-122.082932</longitude></geo></geo>", "xCal geo");
	contains(xml, "<priority><integer>3</integer></priority>", "xCal integer");
	contains(xml, "<x-float><float>3.25</float></x-float><x-bool><boolean>false</boolean></x-bool><x-time><time>12:30:00</time></x-time><x-utc><utc-offset>-01:30</utc-offset></x-utc><x-date><date>2024-02-29</date></x-date><x-uri><uri>urn:isbn:0451450523</uri></x-uri>",
	         "xCal float, boolean, time, utc-offset, date and uri on x-properties");
	contains(xml, "<x-custom-type><x-special>opaque;value,with:stuff</x-special></x-custom-type><x-untyped><unknown>just\\, text;raw</unknown></x-untyped>",
	         "xCal x-type and unknown values are kept raw");
	contains(xml, "<request-status><request-status><code>3.1</code><description>Invalid property value</description><data>DTSTART:96-Apr-01</data></request-status></request-status>",
	         "xCal request-status");
	contains(xml, "<categories><text>work</text><text>review,notes</text></categories>", "xCal multi-valued text");
	contains(xml, "<summary><parameters><language><text>en</text></language>", "xCal language parameter");
	contains(xml, "<text>Line one\nline two, with comma; and \\ &lt;b&gt;&amp;</text>", "xCal text is unescaped, then XML-escaped");
	contains(xml, "<description><text/></description>", "an empty text value");
	contains(xml, "<components><valarm><properties><action><text>AUDIO</text></action><trigger><date-time>2024-01-05T09:30:00Z</date-time></trigger>",
	         "xCal subcomponents");

	struct buf j = BUF_INIT;
	ok(cal_to_jcal(ics, &j, &err), "jCal text");
	const char *json = j.data;
	ok(!strncmp(json, "[\"vcalendar\",[[\"version\",{},\"text\",\"2.0\"],", 39), "jCal starts [\"vcalendar\",[[\"version\",...");
	ok(!strchr(json, '\n') && !strstr(json, "], [") && !strstr(json, "\": ") && !strstr(json, "\", \""), "compact JSON");
	contains(json, "[\"dtstart\",{\"tzid\":\"Test/Zone\"},\"date-time\",\"2024-01-05T10:00:00\"]", "jCal date-time");
	contains(json, "[\"tzoffsetfrom\",{},\"utc-offset\",\"+05:30:00\"]", "jCal utc-offset");
	contains(json, "[\"rrule\",{},\"recur\",{\"freq\":\"MONTHLY\",\"until\":\"2024-12-31T23:59:59Z\",\"interval\":2,\"byday\":[\"1MO\",\"-1FR\"],\"bymonth\":[1,3,5],\"bysetpos\":1,\"wkst\":\"SU\"}]",
	         "jCal recur object with numbers and arrays");
	contains(json, "[\"rdate\",{},\"period\",\"2024-03-01T10:00:00Z/2024-03-01T12:00:00Z\",\"2024-04-01T10:00:00Z/PT1H\"]",
	         "jCal periods, one value each");
	contains(json, "{\"rsvp\":\"TRUE\",\"member\":[\"mailto:a@example.com\",\"mailto:b@example.com\"],\"cn\":\"Doe, Jane\"",
	         "jCal parameters: strings, arrays for several values");
	contains(json, "[\"geo\",{},\"float\",[37.386013,-122.082932]]", "jCal geo");
	contains(json, "[\"priority\",{},\"integer\",3]", "jCal integer");
	contains(json, "[\"x-integer\",{},\"integer\",-42],[\"x-float\",{},\"float\",3.25],[\"x-bool\",{},\"boolean\",false],[\"x-time\",{},\"time\",\"12:30:00\"]",
	         "jCal integer, float, boolean, time on x-properties");
	contains(json, "[\"x-custom-type\",{},\"x-special\",\"opaque;value,with:stuff\"],[\"x-untyped\",{},\"unknown\",\"just\\\\, text;raw\"]",
	         "jCal x-type and unknown");
	contains(json, "[\"request-status\",{},\"text\",[\"2.0\",\"Success\"]]", "jCal request-status");
	contains(json, "[\"categories\",{},\"text\",\"work\",\"review,notes\"]", "jCal multi-valued text");
	contains(json, "[\"attach\",{\"fmttype\":\"text/plain\",\"encoding\":\"BASE64\"},\"binary\",\"SGVsbG8gd29ybGQ=\"]", "jCal binary");
	contains(json, "\"Line one\\nline two, with comma; and \\\\ <b>&\"", "jCal text unescaped");
	contains(json, "[[\"valarm\",[[\"action\",{},\"text\",\"AUDIO\"]", "jCal subcomponents");
	buf_free(&j);
	buf_free(&x);
	buf_free(&err);
	free(ics);
}

static bool refused_jcal(const char *json, const char *fragment)
{
	struct cal_payload p;
	struct buf errors = BUF_INIT;
	bool refused = !cal_from_jcal(json, strlen(json), &p, &errors) && strstr(buf_cstr(&errors), fragment);
	if (!refused)
		printf("# errors: %s\n", buf_cstr(&errors));
	buf_free(&errors);
	return refused;
}

#define JCAL_HEAD "[\"vcalendar\",[[\"version\",{},\"text\",\"2.0\"],[\"prodid\",{},\"text\",\"x\"]],["
#define JCAL_EVENT(uid, extra) \
	"[\"vevent\",[[\"uid\",{},\"text\",\"" uid "\"],[\"dtstamp\",{},\"date-time\",\"2024-01-01T00:00:00Z\"]" extra "],[]]"

static void test_decoder_errors(void)
{
	ok(refused_jcal("[\"vcalendar\",", "not JSON"), "jCal: broken JSON is refused");
	ok(refused_jcal("{\"a\":1}", "must be [\"vcalendar\""), "jCal: a payload that is not a vcalendar");
	ok(refused_jcal(JCAL_HEAD JCAL_EVENT("e1", "") "]]", "VEVENT without DTSTART"),
	   "jCal: a VEVENT without DTSTART is refused with the reader's message");
	ok(refused_jcal(JCAL_HEAD JCAL_EVENT("e1", ",[\"dtstart\",{},\"date-time\",\"2024-01-01T10:00:00Z\"],[\"dtend\",{},\"date-time\",\"2024-01-01T09:00:00Z\"]") "]]",
	                "DTEND (20240101T090000Z) is before DTSTART"),
	   "jCal: DTEND before DTSTART");
	ok(refused_jcal(JCAL_HEAD JCAL_EVENT("e1", ",[\"dtstart\",{},\"date-time\",\"2024-01-01T10:00:00Z\"]") "," JCAL_EVENT("e2", ",[\"dtstart\",{},\"date-time\",\"2024-01-01T10:00:00Z\"]") "]]",
	                "holds 2 calendar objects instead of one"),
	   "jCal: two objects in one payload");
	ok(refused_jcal(JCAL_HEAD JCAL_EVENT("e1", ",[\"dtstart\",{},\"date-time\",\"2024-01-01T10:00:00Z\"],[\"priority\",{},\"integer\",\"high\"]") "]]",
	                "PRIORITY: value of the wrong JSON type for INTEGER"),
	   "jCal: a value of the wrong JSON type");
	ok(refused_jcal(JCAL_HEAD JCAL_EVENT("e1", ",[\"dtstart\",{},\"date-time\",\"2024-13-01T10:00:00Z\"]") "]]",
	                "'20241301T100000Z' is not a valid DATE-TIME value"),
	   "jCal: an impossible date");
	ok(refused_jcal(JCAL_HEAD JCAL_EVENT("e1", ",[\"dtstart\",{},\"date-time\",\"2024-01-01T10:00:00Z\",\"2024-01-02T10:00:00Z\"]") "]]",
	                "DTSTART takes one value, not 2"),
	   "jCal: several values on a single-valued property");

#define JCAL_DTSTART ",[\"dtstart\",{},\"date-time\",\"2024-01-01T10:00:00Z\"]"
	ok(refused_jcal(JCAL_HEAD JCAL_EVENT("e1", JCAL_DTSTART ",[\"x-note\",{},\"unknown\",\"a\\r\\nRRULE:FREQ=DAILY\"]") "]]",
	                "jCal: X-NOTE: a value holds a line break"),
	   "jCal: a line break in a value that is not TEXT is refused, not written as a second property");
	ok(refused_jcal(JCAL_HEAD JCAL_EVENT("e1", JCAL_DTSTART ",[\"x-a:1\\r\\nrrule\",{},\"unknown\",\"FREQ=DAILY\"]") "]]",
	                "'X-A:1\r\nRRULE' is not a property name"),
	   "jCal: a property name that is not a name is refused");
	ok(refused_jcal(JCAL_HEAD JCAL_EVENT("e1", JCAL_DTSTART ",[\"summary\",{\"x-p\":\"a\\\"b\"},\"text\",\"s\"]") "]]",
	                "SUMMARY: parameter X-P holds a double quote"),
	   "jCal: a double quote in a parameter value is refused");
	ok(refused_jcal(JCAL_HEAD "[\"vevent;x=1\",[[\"uid\",{},\"text\",\"e1\"]],[]]]]", "is not a component name"),
	   "jCal: a component name that is not a name is refused");
	{
		struct cal_payload p;
		struct buf errors = BUF_INIT;
		static const char text[] = JCAL_HEAD JCAL_EVENT("e1", JCAL_DTSTART ",[\"description\",{},\"text\",\"one\\r\\ntwo\"]") "]]";
		ok(cal_from_jcal(text, sizeof(text) - 1, &p, &errors), "jCal: a TEXT value keeps its line breaks");
		contains(p.ics, "DESCRIPTION:one\\ntwo\r\n", "escaped as \\n");
		cal_payload_free(&p);
		buf_free(&errors);
	}

	struct cal_payload p;
	struct buf errors = BUF_INIT;
	static const char good[] = JCAL_HEAD JCAL_EVENT("e1", ",[\"dtstart\",{},\"date\",\"2024-01-01\"]") "]]";
	ok(cal_from_jcal(good, sizeof(good) - 1, &p, &errors), "jCal: a minimal all-day event is accepted");
	is_str(p.uid, "e1", "decoded uid");
	is_str(p.kind, "VEVENT", "decoded kind");
	contains(p.ics, "DTSTART;VALUE=DATE:20240101\r\n", "a non-default type comes back as VALUE=DATE");
	cal_time_t jan1;
	cal_time_parse("20240101", &jan1);
	is_int(p.range_start, jan1 - 14 * 3600, "decoded range_start (floating date widened)");
	cal_payload_free(&p);

	struct xml_node *root = xml_element_new("icalendar", "urn:example:other");
	ok(!cal_from_xcal(root, &p, &errors) && strstr(errors.data, "must be <icalendar"), "xCal: a foreign namespace is refused");
	xml_free(root);
	root = xml_element_new("icalendar", CAL_NS_XCAL);
	struct xml_node *vcal = xml_add_text_element(root, "vcalendar", NULL);
	struct xml_node *props = xml_add_text_element(vcal, "properties", NULL);
	struct xml_node *version = xml_add_text_element(props, "version", NULL);
	xml_add_text_element(version, "text", "2.0");
	struct xml_node *comps = xml_add_text_element(vcal, "components", NULL);
	struct xml_node *ev = xml_add_text_element(comps, "vevent", NULL);
	struct xml_node *eprops = xml_add_text_element(ev, "properties", NULL);
	xml_add_text_element(xml_add_text_element(eprops, "uid", NULL), "text", "x1");
	xml_add_text_element(xml_add_text_element(eprops, "dtstamp", NULL), "date-time", "2024-01-01T00:00:00Z");
	struct xml_node *cats = xml_add_text_element(eprops, "categories", NULL);
	xml_add_text_element(cats, "text", "a");
	xml_add_text_element(cats, "integer", "1");
	buf_reset(&errors);
	ok(!cal_from_xcal(root, &p, &errors) && strstr(errors.data, "<categories> mixes <text> and <integer> values"),
	   "xCal: mixed value types are refused");
	cats->n_children--;
	xml_free(cats->children[1]);
	buf_reset(&errors);
	ok(!cal_from_xcal(root, &p, &errors) && strstr(errors.data, "VEVENT without DTSTART"), "xCal: missing DTSTART");
	xml_add_text_element(xml_add_text_element(eprops, "dtstart", NULL), "date-time", "2024-01-01T10:00:00Z");
	buf_reset(&errors);
	ok(cal_from_xcal(root, &p, &errors), "xCal: the completed event is accepted");
	contains(p.ics, "UID:x1\r\nDTSTAMP:20240101T000000Z\r\nCATEGORIES:a\r\nDTSTART:20240101T100000Z\r\n",
	         "xCal decoded to canonical text");
	cal_payload_free(&p);
	struct xml_node *recur = xml_add_text_element(xml_add_text_element(eprops, "rrule", NULL), "recur", NULL);
	xml_add_text_element(recur, "freq", "WEEKLY");
	xml_add_text_element(recur, "byday", "MO");
	xml_add_text_element(recur, "count", "4");
	xml_add_text_element(recur, "byday", "FR");
	buf_reset(&errors);
	ok(cal_from_xcal(root, &p, &errors), "xCal: a recurrence rule with a repeated part is accepted");
	contains(p.ics, "RRULE:FREQ=WEEKLY;COUNT=4;BYDAY=MO,FR\r\n", "repeated parts join with commas, in canonical order");
	cal_payload_free(&p);
	xml_add_text_element(recur, "byfortnight", "1");
	buf_reset(&errors);
	ok(!cal_from_xcal(root, &p, &errors) && strstr(errors.data, "<byfortnight> is not a part of a recurrence rule"),
	   "xCal: an unknown part of a recurrence rule is refused by name");
	xml_free(root);
	buf_free(&errors);
}

/* The largest payload, in either format, of text over its cal_item_size_bound(): a
 * return above 1.0 means an importer would skip a payload over the node's limit. */
static double worst_bound_use(const char *text, size_t len)
{
	char *ics = canonical_of(text, len);
	if (!ics)
		return 2.0;
	double worst = 0;
	for (int jcal = 0; jcal <= 1; jcal++) {
		struct buf payload = BUF_INIT, err = BUF_INIT;
		if (!cal_to_item_payload(ics, jcal, &payload, &err))
			worst = 2.0;
		double use = (double)payload.len / (double)cal_item_size_bound(strlen(ics));
		if (use > worst)
			worst = use;
		buf_free(&payload);
		buf_free(&err);
	}
	free(ics);
	return worst;
}

/* Objects made of what grows most in xCal and jCal, repeated until the fixed part of the
 * bound no longer matters: one-digit value lists, markup characters, empty properties. */
/* The values where a JSON number or a JSON object member could hold something other
 * than the iCalendar text: each is refused or brought to one canonical form. */
static void test_numbers_and_parameters(void)
{
	static const char *const kept[] = {
		"RRULE:FREQ=YEARLY;COUNT=3;BYMONTH=5L;RSCALE=CHINESE\r\n",
		"GEO:0.000001;-123456789012346000000000\r\n",
		"X-TAGGED;X-TAG=red,blue:kept\r\n",
	};
	for (size_t i = 0; i < sizeof(kept) / sizeof(kept[0]); i++) {
		struct buf text = BUF_INIT;
		buf_printf(&text, "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VEVENT\r\nUID:n\r\n"
		                  "DTSTAMP:20240101T000000Z\r\nDTSTART:20240105T100000Z\r\n%sEND:VEVENT\r\nEND:VCALENDAR\r\n",
		           kept[i]);
		char *ics = canonical_of(text.data, text.len);
		ok(ics && strstr(ics, kept[i]) && round_trips(ics, kept[i]), "%.*s survives xCal and jCal",
		   (int)strlen(kept[i]) - 2, kept[i]);
		free(ics);
		buf_free(&text);
	}
	static const struct {
		const char *property, *fragment, *label;
	} refused[] = {
		{"[\"summary\",{\"tzid\":\"a\",\"TZID\":\"b\"},\"text\",\"s\"]",
		 "SUMMARY: parameter TZID is given more than once", "one parameter under two spellings, not one picked"},
		{"[\"x-a\",{},\":a#e-time\",\"1\"]", "X-A: ':A#E-TIME' is not the name of a value type",
		 "a type that is not a name, not written into VALUE="},
		{"[\"x-a\",{},\"\",\"1\"]", "X-A: '' is not the name of a value type", "an empty type"},
	};
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		struct buf json = BUF_INIT;
		buf_printf(&json, JCAL_HEAD JCAL_EVENT("e1", JCAL_DTSTART ",%s") "]]", refused[i].property);
		ok(refused_jcal(json.data, refused[i].fragment), "jCal: refused: %s", refused[i].label);
		buf_free(&json);
	}
	struct cal_payload p = {0};
	struct buf errors = BUF_INIT;
	static const char reals[] = JCAL_HEAD JCAL_EVENT("e1", JCAL_DTSTART ",[\"geo\",{},\"float\",[1e-6,1e20]]") "]]";
	ok(cal_from_jcal(reals, sizeof(reals) - 1, &p, &errors) && strstr(p.ics, "GEO:0.000001;100000000000000000000\r\n"),
	   "jCal: a number with an exponent becomes a FLOAT without one");
	if (p.ics)
		cal_payload_free(&p);
	buf_free(&errors);
	/* stored text does not pass the reader again: the encoder refuses what JSON cannot hold */
	struct buf huge = BUF_INIT, json = BUF_INIT, err = BUF_INIT;
	buf_puts(&huge, "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VEVENT\r\nUID:h\r\nX-F;VALUE=FLOAT:1");
	for (int i = 0; i < 400; i++)
		buf_putc(&huge, '0');
	buf_puts(&huge, "\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n");
	ok(!cal_to_jcal(huge.data, &json, &err) && strstr(buf_cstr(&err), "X-F: a value cannot be written as jCal"),
	   "jCal: a FLOAT beyond a double in stored text is an error, not an array missing its value");
	buf_free(&huge);
	buf_free(&json);
	buf_free(&err);
}

static void test_item_size_bound(void)
{
	static const char *const growing[] = {
		"RRULE:FREQ=YEARLY;BYYEARDAY=1%s\r\n",
		"CATEGORIES:&%s\r\n",
		"CATEGORIES:x%s\r\n",
		"X-A;X-P=&:%s\r\n",
		"A:%s\r\n",
		"COMMENT:\"<&>%s\r\n",
	};
	static const char *const repeats[] = {",2", ",&", ",", "", "", "\"<&>'"};
	for (size_t g = 0; g < sizeof(growing) / sizeof(growing[0]); g++) {
		struct buf text = BUF_INIT, tail = BUF_INIT;
		buf_puts(&text, "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\nBEGIN:VEVENT\r\nUID:grow@x\r\n"
		                "DTSTAMP:20240101T000000Z\r\nDTSTART:20240101T100000Z\r\n");
		bool once = g == 0; /* RRULE may appear once: its list grows instead */
		for (int i = 0; i < (once ? 300 : 2000); i++)
			buf_puts(&tail, repeats[g]);
		if (once) {
			buf_printf(&text, growing[g], buf_cstr(&tail));
		} else {
			for (int i = 0; i < 2000; i++)
				buf_printf(&text, growing[g], repeats[g]);
		}
		buf_puts(&text, "END:VEVENT\r\nEND:VCALENDAR\r\n");
		double use = worst_bound_use(text.data, text.len);
		ok(use <= 1.0, "cal_item_size_bound holds for growth case %zu (largest payload %.0f %% of the bound)", g,
		   use * 100);
		buf_free(&text);
		buf_free(&tail);
	}
	double fixtures = 0;
	for (size_t i = 0; i < CAL_N_FIXTURES; i++) {
		size_t len;
		char *text = read_fixture(cal_fixtures[i], &len);
		struct collected c;
		read_text(text, len, CAL_READ_ALL_OR_NOTHING, &c);
		for (size_t k = 0; k < c.n; k++) {
			double use = worst_bound_use(c.objs[k].ics, strlen(c.objs[k].ics));
			if (use > fixtures)
				fixtures = use;
		}
		collected_free(&c);
		free(text);
	}
	ok(fixtures > 0 && fixtures <= 1.0, "cal_item_size_bound holds for every fixture object (largest %.0f %%)",
	   fixtures * 100);
}

int main(void)
{
	test_fixture_round_trips();
	test_spellings();
	test_decoder_errors();
	test_numbers_and_parameters();
	test_item_size_bound();
	cal_library_cleanup();
	return done_testing();
}
