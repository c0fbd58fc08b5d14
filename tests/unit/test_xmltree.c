/* test_xmltree.c: the neutral XML tree: building, lookups, text content, and compact
 * serialization with namespace declarations only where they change. */
#include "src/xmltree.h"
#include "tap.h"

#include <stdlib.h>

int main(void)
{
	struct xml_node *root = xml_element_new("pubsub", "http://jabber.org/protocol/pubsub");
	struct xml_node *items = xml_element_new("items", "http://jabber.org/protocol/pubsub");
	xml_add_attr(items, "node", "cal<1>&'\"");
	xml_add_child(root, items);
	struct xml_node *item = xml_add_text_element(items, "item", NULL);
	xml_add_attr(item, "id", "uid-1");
	struct xml_node *ical = xml_element_new("icalendar", "urn:ietf:params:xml:ns:icalendar-2.0");
	xml_add_child(item, ical);
	struct xml_node *text = xml_add_text_element(ical, "text", "a < b & c");
	struct xml_node *plain = xml_element_new("plain", NULL);
	xml_add_child(ical, plain);
	xml_add_child(plain, xml_text_new("one", 3));
	xml_add_child(plain, xml_text_new("two and more", 3));

	is_str(xml_attr_get(items, "node"), "cal<1>&'\"", "attribute lookup");
	ok(xml_attr_get(items, "missing") == NULL, "missing attribute");
	ok(xml_child(root, "items", "http://jabber.org/protocol/pubsub") == items, "child by name and namespace");
	ok(xml_child(root, "items", "urn:other") == NULL, "namespace must match");
	ok(xml_child(root, "items", NULL) == items, "NULL namespace matches any");
	ok(xml_child(item, "icalendar", NULL) == ical, "nested child");
	is_str(text->ns, "urn:ietf:params:xml:ns:icalendar-2.0", "xml_add_text_element inherits the parent's namespace");
	char *content = xml_text_content(plain);
	is_str(content, "onetwo", "text content concatenates direct text children");
	free(content);
	content = xml_text_content(root);
	is_str(content, "", "an element without text has empty content");
	free(content);

	struct buf b = BUF_INIT;
	xml_serialize(&b, root, NULL);
	is_str(b.data,
	       "<pubsub xmlns='http://jabber.org/protocol/pubsub'><items node='cal&lt;1&gt;&amp;&apos;&quot;'>"
	       "<item id='uid-1'><icalendar xmlns='urn:ietf:params:xml:ns:icalendar-2.0'><text>a &lt; b &amp; c</text>"
	       "<plain xmlns=''>onetwo</plain></icalendar></item></items></pubsub>",
	       "compact serialization: xmlns only where it changes, escaping, empty namespace undeclared");
	buf_reset(&b);
	xml_serialize(&b, items, "http://jabber.org/protocol/pubsub");
	ok(!strncmp(b.data, "<items node=", 12), "an inherited namespace is not repeated");
	buf_reset(&b);
	struct xml_node *empty = xml_element_new("empty", "urn:x");
	xml_serialize(&b, empty, NULL);
	is_str(b.data, "<empty xmlns='urn:x'/>", "an empty element is self-closed");
	xml_free(empty);
	buf_reset(&b);
	struct xml_node *spaced = xml_element_new("v", "urn:x");
	xml_add_attr(spaced, "a", "tab\tlf\ncr\r");
	xml_add_child(spaced, xml_text_new("lf\ncr\r", 6));
	xml_serialize(&b, spaced, "urn:x");
	is_str(b.data, "<v a='tab&#9;lf&#10;cr&#13;'>lf\ncr&#13;</v>",
	       "white space a parser would change comes back as sent: tab, LF, CR in attributes, CR in text");
	xml_free(spaced);
	buf_free(&b);
	xml_free(root);
	xml_free(NULL);
	return done_testing();
}
